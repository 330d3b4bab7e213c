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
// common.glsl's one-texel-per-invocation helpers compile as in a compute pass (unused here).
#define COMPUTE_PASS 1
ivec2 passTexel;
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform sampler2D u_w;
uniform ivec4 u_outShape;
uniform ivec2 u_pad;
uniform int u_pixels;  // output pixels of all replicas
#if RESIDUAL
uniform sampler2D u_res;
uniform ivec4 u_resShape;
#endif
layout(FORMAT, binding = 0) writeonly uniform highp image2D u_out;

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
    int H = u_outShape.y, W = u_outShape.z;
    int ox = pixel % W, rest = pixel / W;
    int oy = rest % H, nb = rest / H;
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
        vec4 a = acc[g];
#if RESIDUAL
        // The residual may have fewer channels (a folded channel PAD): missing ones are 0.
        if (oc4 < slices(u_resShape.w)) a += at(u_res, invSize(u_res), ox * slices(u_resShape.w) + oc4, nb * u_resShape.y + oy);
#endif
#if ACT == 5
        vec4 alpha = s_w[g][KTEX + 1];
#else
        vec4 alpha = vec4(0.0);
#endif
        imageStore(u_out, ivec2(ox * OC4 + oc4, nb * H + oy), finish(activate(a, alpha), oc4, u_outShape.w));
    }
}
