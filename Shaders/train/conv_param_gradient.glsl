// One sample's share of the gradient of a convolution's parameters (conv_forward.glsl's row): texel
// (i, n) sums over sample n's output positions (u_dz: the output's gradient through the ReLU);
// sum_rows.glsl then adds the samples (one fragment per parameter and sample keeps a GPU, and
// llvmpipe's threads, busy where one per parameter would leave them idle). Defines: CIN COUT SIN.
#include "train/common.glsl"
uniform highp sampler2D u_x;
uniform highp sampler2D u_dz;
void main() {
    const int SOUT = SIN / 2;
    int i = int(gl_FragCoord.x), n = int(gl_FragCoord.y);
    vec2 dzInv = invSize(u_dz), xInv = invSize(u_x);
    float s = 0.0;
    if (i < COUT * 9 * CIN) {
        int c = i % CIN, kx = (i / CIN) % 3, ky = (i / (CIN * 3)) % 3, o = i / (CIN * 9);
        for (int oy = 0; oy < SOUT; ++oy) {
            int iy = 2 * oy + ky;
            if (iy >= SIN) continue;
            for (int ox = 0; ox < SOUT; ++ox) {
                int ix = 2 * ox + kx;
                if (ix >= SIN) continue;
                s += at(u_dz, dzInv, ox * COUT + o, n * SOUT + oy) * at(u_x, xInv, ix * CIN + c, n * SIN + iy);
            }
        }
    } else {
        int o = i - COUT * 9 * CIN;
        for (int oy = 0; oy < SOUT; ++oy) for (int ox = 0; ox < SOUT; ++ox) s += at(u_dz, dzInv, ox * COUT + o, n * SOUT + oy);
    }
    store(s);
}
