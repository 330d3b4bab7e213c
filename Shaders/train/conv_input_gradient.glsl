// Gradient reaching a convolution's input [N, SIN, SIN, CIN]: every output it fed (iy = 2·oy + ky);
// u_dz: the output's gradient through the ReLU. Defines: CIN COUT SIN. Only the taps of the input's
// parity are visited (ky ≡ iy, kx ≡ ix mod 2): neighbouring fragments no longer branch apart over all 9
// taps (lanes of one SIMD batch ran every tap: 2.2× the work on llvmpipe), same sums in the same order.
#include "train/common.glsl"
uniform highp sampler2D u_dz;
uniform highp sampler2D u_params;
void main() {
    const int SOUT = SIN / 2;
    ivec2 p = ivec2(gl_FragCoord.xy);
    int c = p.x % CIN, ix = p.x / CIN, iy = p.y % SIN, n = p.y / SIN;
    vec2 pInv = invSize(u_params), dzInv = invSize(u_dz);
    float s = 0.0;
    for (int ky = iy % 2; ky < 3; ky += 2) {
        int ty = iy - ky;
        if (ty < 0 || ty / 2 >= SOUT) continue;
        for (int kx = ix % 2; kx < 3; kx += 2) {
            int tx = ix - kx;
            if (tx < 0 || tx / 2 >= SOUT) continue;
            int oy = ty / 2, ox = tx / 2;
            for (int o = 0; o < COUT; ++o) s += at(u_params, pInv, ((o * 3 + ky) * 3 + kx) * CIN + c, 0) * at(u_dz, dzInv, ox * COUT + o, n * SOUT + oy);
        }
    }
    store(s);
}
