// Region effects drawn over a feathered polygon (v_alpha = edge ramp) into the frame:
// MODE 1 blur (bilinear read of the blurred working texture), 2 pixelate (one working texel per
// cell), 3 tint (reads a snapshot of the frame; u_tintMode 0 multiply, 1 overlay, 2 normal).
// Output is premultiplied: blending ONE, ONE_MINUS_SRC_ALPHA gives mix(frame, effect, alpha).
uniform sampler2D u_low;
uniform sampler2D u_snapshot;
uniform vec4 u_rect;        // working rectangle in frame pixels (x, y, w, h)
uniform vec2 u_lowSize;     // texels of u_low in use
uniform vec2 u_lowTexSize;  // u_low's full size
uniform vec3 u_tint;
uniform int u_tintMode;
uniform float u_opacity;
in vec2 v_uv;
in float v_alpha;
out vec4 o_color;
void main() {
    float a = clamp(v_alpha, 0.0, 1.0) * u_opacity;
    vec2 rel = (gl_FragCoord.xy - u_rect.xy) / u_rect.zw;
#if MODE == 1
    vec2 t = clamp(rel * u_lowSize, vec2(0.5), u_lowSize - 0.5) / u_lowTexSize;
    vec3 c = texture(u_low, t).rgb;
#elif MODE == 2
    ivec2 cell = clamp(ivec2(floor(rel * u_lowSize)), ivec2(0), ivec2(u_lowSize) - 1);
    vec3 c = texelFetch(u_low, cell, 0).rgb;
#else
    vec3 d = texelFetch(u_snapshot, ivec2(gl_FragCoord.xy), 0).rgb;
    vec3 c;
    if (u_tintMode == 0) c = d * u_tint;
    else if (u_tintMode == 1) c = mix(2.0 * d * u_tint, 1.0 - 2.0 * (1.0 - d) * (1.0 - u_tint), step(0.5, d));
    else c = u_tint;
#endif
    o_color = vec4(c * a, a);
}
