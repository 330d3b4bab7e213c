// One sample's share of the gradient of a convolution's parameters (conv_forward.glsl's row, four output
// channels a texel): texel (t, n) sums over sample n's output positions (u_dz: the output's gradient
// through the ReLU); sum_rows.glsl then adds the samples (one fragment per parameter texel and sample keeps
// a GPU, and llvmpipe's threads, busy where one per texel would leave them idle). Defines: CIN COUT SIN
// X_PACKED (as conv_forward.glsl).
#include "train/common.glsl"
uniform highp sampler2D u_x;
uniform highp sampler2D u_dz;
void main() {
    const int SOUT = SIN / 2, O4 = COUT / 4;
    int t = int(gl_FragCoord.x), n = int(gl_FragCoord.y);
    vec2 dzInv = invSize(u_dz), xInv = invSize(u_x);
    vec4 s = vec4(0.0);
    if (t < 9 * CIN * O4) {
        int o4 = t % O4, i = (t / O4) % CIN, tap = t / (O4 * CIN), ky = tap / 3, kx = tap % 3;
#if X_PACKED
        vec4 pick = vec4(equal(ivec4(0, 1, 2, 3), ivec4(i % 4)));   // input channel i within its texel
#endif
        for (int oy = 0; oy < SOUT; ++oy) {
            int iy = 2 * oy + ky;
            if (iy >= SIN) continue;
            for (int ox = 0; ox < SOUT; ++ox) {
                int ix = 2 * ox + kx;
                if (ix >= SIN) continue;
#if X_PACKED
                float x = dot(at4(u_x, xInv, ix * (CIN / 4) + i / 4, n * SIN + iy), pick);
#else
                float x = at(u_x, xInv, ix * CIN + i, n * SIN + iy);
#endif
                s += at4(u_dz, dzInv, ox * O4 + o4, n * SOUT + oy) * x;
            }
        }
    } else {
        int o4 = t - 9 * CIN * O4;
        for (int oy = 0; oy < SOUT; ++oy) for (int ox = 0; ox < SOUT; ++ox) s += at4(u_dz, dzInv, ox * O4 + o4, n * SOUT + oy);
    }
    store4(s);
}
