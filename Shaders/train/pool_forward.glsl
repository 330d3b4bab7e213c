// Global average pool of [N, S, S, C] → [N, C] (texel (c, n)). Defines: C S.
#include "train/common.glsl"
uniform highp sampler2D u_x;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float s = 0.0;
    for (int y = 0; y < S; ++y) for (int x = 0; x < S; ++x) s += at(u_x, x * C + p.x, p.y * S + y);
    store(s / float(S * S));
}
