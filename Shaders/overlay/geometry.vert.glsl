// Overlay geometry vertex shader. Input in landmark space: x right, y down in frame pixels,
// z = landmark depth in pixels (smaller = nearer). Frame row 0 (top of the picture) is GL y 0 of
// the frame texture, so pixels map to NDC without a flip; z is scaled into the depth range.
// `invariant`: the occluder and mesh elements share vertices and must produce identical depth.
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec2 a_uv;
layout(location = 2) in float a_alpha;
uniform vec2 u_frameSize;
uniform float u_depthScale;
out vec2 v_uv;
out float v_alpha;
invariant gl_Position;
void main() {
    v_uv = a_uv;
    v_alpha = a_alpha;
    gl_Position = vec4(a_pos.xy / u_frameSize * 2.0 - 1.0, clamp(a_pos.z * u_depthScale, -1.0, 1.0), 1.0);
}
