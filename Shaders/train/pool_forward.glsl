// Global average pool of [N, S, S, C] (four channels a texel) → [N, C] (scalars, texel (c, n)). Defines: C S.
#include "train/common.glsl"
uniform highp sampler2D u_x;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec2 inv = invSize(u_x);
    vec4 pick = vec4(equal(ivec4(0, 1, 2, 3), ivec4(p.x % 4)));
    float s = 0.0;
    for (int y = 0; y < S; ++y) for (int x = 0; x < S; ++x) s += dot(at4(u_x, inv, x * (C / 4) + p.x / 4, p.y * S + y), pick);
    store(s / float(S * S));
}
