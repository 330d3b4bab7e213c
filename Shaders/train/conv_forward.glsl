// CONV_2D 3×3 stride 2, TFLite SAME padding on even sizes (none before, one after), + ReLU: a fragment
// computes four output channels (common.glsl's layouts). Defines: CIN COUT SIN (input side; the output
// side is SIN / 2), X_PACKED (1: the input is a convolution's output, four channels to a texel; 0: the
// images, scalars).
#include "train/common.glsl"
uniform highp sampler2D u_x;
uniform highp sampler2D u_params;
void main() {
    const int SOUT = SIN / 2, O4 = COUT / 4;
    ivec2 p = ivec2(gl_FragCoord.xy);
    int o4 = p.x % O4, ox = p.x / O4, oy = p.y % SOUT, n = p.y / SOUT;
    vec2 pInv = invSize(u_params), xInv = invSize(u_x);
    vec4 s = at4(u_params, pInv, 9 * CIN * O4 + o4, 0);
    for (int ky = 0; ky < 3; ++ky) {
        int iy = 2 * oy + ky;
        if (iy >= SIN) continue;
        for (int kx = 0; kx < 3; ++kx) {
            int ix = 2 * ox + kx;
            if (ix >= SIN) continue;
            int w = (ky * 3 + kx) * CIN * O4 + o4;   // texel of input channel 0; channel i at w + i·O4
#if X_PACKED
            for (int c4 = 0; c4 < CIN / 4; ++c4) {
                vec4 x = at4(u_x, xInv, ix * (CIN / 4) + c4, n * SIN + iy);
                int t = w + 4 * c4 * O4;
                s += at4(u_params, pInv, t, 0) * x.x + at4(u_params, pInv, t + O4, 0) * x.y
                   + at4(u_params, pInv, t + 2 * O4, 0) * x.z + at4(u_params, pInv, t + 3 * O4, 0) * x.w;
            }
#else
            for (int c = 0; c < CIN; ++c) s += at4(u_params, pInv, w + c * O4, 0) * at(u_x, xInv, ix * CIN + c, n * SIN + iy);
#endif
        }
    }
    store4(max(s, 0.0));
}
