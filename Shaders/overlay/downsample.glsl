// Shrinks a rectangle of the frame (u_rect: x, y, w, h in frame pixels) into u_outSize texels of
// the target: each output texel averages TAPS×TAPS bilinear taps spread over its footprint
// (a box filter, so no aliasing before blur or mosaic).
#ifndef TAPS
#define TAPS 4
#endif
uniform sampler2D u_src;
uniform vec4 u_rect;
uniform vec2 u_outSize;
uniform vec2 u_frameSize;
uniform vec2 u_outOrigin;   // viewport origin in the target (contact-sheet tiles); 0 otherwise
out vec4 o_color;
void main() {
    vec2 cell = u_rect.zw / u_outSize;
    vec2 origin = u_rect.xy + floor(gl_FragCoord.xy - u_outOrigin) * cell;
    vec4 sum = vec4(0.0);
    for (int j = 0; j < TAPS; j++) {
        for (int i = 0; i < TAPS; i++) {
            vec2 p = origin + (vec2(float(i), float(j)) + 0.5) / float(TAPS) * cell;
            sum += texture(u_src, p / u_frameSize);
        }
    }
    o_color = sum / float(TAPS * TAPS);
}
