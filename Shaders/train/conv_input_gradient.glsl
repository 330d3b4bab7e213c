// Gradient reaching a convolution's input [N, SIN, SIN, CIN] (a convolution's output: four channels a
// fragment, common.glsl's layouts) from every output it fed (iy = 2·oy + ky); u_dz: the output's gradient
// through the ReLU. Defines: CIN COUT SIN. Only the taps of the input's parity are visited (ky ≡ iy,
// kx ≡ ix mod 2): neighbouring fragments do not branch apart over all 9 taps (lanes of one SIMD batch ran
// every tap: 2.2× the work on llvmpipe).
#include "train/common.glsl"
uniform highp sampler2D u_dz;
uniform highp sampler2D u_params;
void main() {
    const int SOUT = SIN / 2, O4 = COUT / 4, C4 = CIN / 4;
    ivec2 p = ivec2(gl_FragCoord.xy);
    int c4 = p.x % C4, ix = p.x / C4, iy = p.y % SIN, n = p.y / SIN;
    vec2 pInv = invSize(u_params), dzInv = invSize(u_dz);
    vec4 s = vec4(0.0);
    for (int ky = iy % 2; ky < 3; ky += 2) {
        int ty = iy - ky;
        if (ty < 0 || ty / 2 >= SOUT) continue;
        for (int kx = ix % 2; kx < 3; kx += 2) {
            int tx = ix - kx;
            if (tx < 0 || tx / 2 >= SOUT) continue;
            int oy = ty / 2, ox = tx / 2;
            int w = ((ky * 3 + kx) * CIN + 4 * c4) * O4;   // texel of (this tap, channel 4·c4, outputs 0–3)
            for (int o4 = 0; o4 < O4; ++o4) {
                vec4 dz = at4(u_dz, dzInv, ox * O4 + o4, n * SOUT + oy);
                int t = w + o4;
                s += vec4(dot(at4(u_params, pInv, t, 0), dz), dot(at4(u_params, pInv, t + O4, 0), dz),
                          dot(at4(u_params, pInv, t + 2 * O4, 0), dz), dot(at4(u_params, pInv, t + 3 * O4, 0), dz));
            }
        }
    }
    store4(s);
}
