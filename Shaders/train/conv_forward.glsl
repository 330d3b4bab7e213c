// CONV_2D 3×3 stride 2, TFLite SAME padding on even sizes (none before, one after), + ReLU.
// Defines: CIN COUT SIN (input side); the output side is SIN / 2.
#include "train/common.glsl"
uniform highp sampler2D u_x;
uniform highp sampler2D u_params;
void main() {
    const int SOUT = SIN / 2;
    ivec2 p = ivec2(gl_FragCoord.xy);
    int o = p.x % COUT, ox = p.x / COUT, oy = p.y % SOUT, n = p.y / SOUT;
    vec2 pInv = invSize(u_params), xInv = invSize(u_x);
    float s = at(u_params, COUT * 9 * CIN + o, 0);
    for (int ky = 0; ky < 3; ++ky) {
        int iy = 2 * oy + ky;
        if (iy >= SIN) continue;
        for (int kx = 0; kx < 3; ++kx) {
            int ix = 2 * ox + kx;
            if (ix >= SIN) continue;
            for (int c = 0; c < CIN; ++c) s += at(u_params, pInv, ((o * 3 + ky) * 3 + kx) * CIN + c, 0) * at(u_x, xInv, ix * CIN + c, n * SIN + iy);
        }
    }
    store(max(s, 0.0));
}
