// CONV_2D as a compute pass, pixel-major (compute passes only; see Conv2DKernel.pixelMajorSlices):
// one invocation = one output pixel and G output channel slices (4 channels each), so each input
// texel it fetches serves G slices, and the weights of the group's G slices sit in shared memory,
// loaded once per work group: every invocation of a warp reads the same weight at the same time
// (a broadcast), where conv2d.glsl's one-texel-per-invocation layout fetches a different weight
// texel per lane. Work groups: x = LX output pixels, y = which G slices (G * y .. G * y + G - 1).
//   out = act(bias + sum_{ky,kx,ic} W[oc,ky,kx,ic] * x[nb, oy*SY - pad.y + ky*DY, ox*SX - pad.x + kx*DX, ic]
//             (+ residual[nb, oy, ox, oc]))
// Weights: conv2d.glsl's texture (row oc4: KH*KW*IC4*4 mat4 columns, the bias texel, the PReLU alpha
// texel). A complete GLSL ES 3.10 compute shader body. Defines: LX, G, IC4, OC4, KH KW SY SX DY DX,
// ACT, RESIDUAL, FORMAT (image layout), and MAXV / STORE_FP16 / NN_TEXEL_FETCH as every nn pass.
layout(local_size_x = LX) in;
#include "nn/pixel_pass.glsl"
uniform sampler2D u_w;

const int KTEX = KH * KW * IC4 * 4;
shared vec4 s_w[G][KTEX + 2];

void main() {
    int lid = int(gl_LocalInvocationID.x);
    int s0 = int(gl_WorkGroupID.y) * G;
    vec2 wInv = invSize(u_w);
    for (int i = lid; i < G * (KTEX + 2); i += LX) {
        int g = i / (KTEX + 2), t = i - g * (KTEX + 2);
        s_w[g][t] = s0 + g < OC4 ? at(u_w, wInv, t, s0 + g) : vec4(0.0);
    }
    barrier();
    int pixel = int(gl_WorkGroupID.x) * LX + lid;
    if (pixel >= u_pixels) return;
    int nb, oy, ox;
    outPixel(pixel, nb, oy, ox);
    vec2 xInv = invSize(u_x);
    vec4 acc[G];
    for (int g = 0; g < G; ++g) acc[g] = s_w[g][KTEX];
    int iy0 = oy * SY - u_pad.y, ix0 = ox * SX - u_pad.x;
    int XH = u_xShape.y, XW = u_xShape.z, rowBase = nb * XH;
    for (int ky = 0; ky < KH; ++ky) {
        int iy = iy0 + ky * DY;
        if (iy < 0 || iy >= XH) continue;
        for (int kx = 0; kx < KW; ++kx) {
            int ix = ix0 + kx * DX;
            if (ix < 0 || ix >= XW) continue;
            int t0 = (ky * KW + kx) * IC4 * 4;
            for (int i = 0; i < IC4; ++i) {
                vec4 v = at(u_x, xInv, ix * IC4 + i, rowBase + iy);
                int t = t0 + 4 * i;
                for (int g = 0; g < G; ++g) acc[g] += mat4(s_w[g][t], s_w[g][t + 1], s_w[g][t + 2], s_w[g][t + 3]) * v;
            }
        }
    }
    for (int g = 0; g < G; ++g) {
        int oc4 = s0 + g;
        if (oc4 >= OC4) break;
        vec4 a = addResidual(acc[g], nb, oy, ox, oc4);
#if ACT == 5
        vec4 alpha = s_w[g][KTEX + 1];
#else
        vec4 alpha = vec4(0.0);
#endif
        storeSlice(nb, oy, ox, oc4, activate(a, alpha));
    }
}
