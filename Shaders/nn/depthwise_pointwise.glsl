// DEPTHWISE_CONV_2D (multiplier 1) and the 1x1 CONV_2D that alone reads it, in one compute pass
// (compute passes only; see DepthwisePointwiseKernel). A work group takes LY output pixels; first
// its invocations compute the depthwise result of those pixels for every channel slice into shared
// memory, then, after a barrier, each 1x1 output texel from there. The depthwise taps read the
// input from the texture (no halo to share), so nothing is computed twice, and the pair costs one
// pass and one memory barrier instead of two of each. The depthwise result is rounded and clamped
// as its own texture would have stored it (MID_FP16), so the pair computes what the two passes did.
//   mid[c]  = dact(dbias[c] + sum_{ky,kx} Wd[ky,kx,c] * x[nb, oy*SY - pad.y + ky*DY, ox*SX - pad.x + kx*DX, c])
//   out[oc] = act(bias[oc] + sum_c Wp[oc,c] * mid[c] (+ residual[nb, oy, ox, oc]))
// Weights: u_wd as depthwise_conv2d.glsl's, u_wp as conv2d.glsl's (1x1). A complete GLSL ES 3.10
// compute shader body. Defines: LX (invocations per pixel), LY (pixels per group), IC4, OC4, KH KW
// SY SX DY DX, DACT (depthwise activation), ACT, RESIDUAL, MID_FP16, FORMAT (image layout), and
// MAXV / STORE_FP16 / NN_TEXEL_FETCH as every nn pass. Groups: ceil(pixels / LY), laid out 2-D
// (x * y ≥ that) so that big batches stay under the 65535 groups a dimension may hold.
layout(local_size_x = LX, local_size_y = LY) in;
#include "nn/pixel_pass.glsl"
uniform sampler2D u_wd;
uniform sampler2D u_wp;

shared vec4 s_mid[LY][IC4];

void main() {
    int lane = int(gl_LocalInvocationID.x), slot = int(gl_LocalInvocationID.y);
    int group = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
    int pixel = group * LY + slot;
    bool inside = pixel < u_pixels;
    int nb, oy, ox;
    outPixel(pixel, nb, oy, ox);
    vec2 xInv = invSize(u_x), wdInv = invSize(u_wd), wpInv = invSize(u_wp);
    if (inside) {
        int iy0 = oy * SY - u_pad.y, ix0 = ox * SX - u_pad.x;
        int XH = u_xShape.y, XW = u_xShape.z, rowBase = nb * XH;
        for (int c4 = lane; c4 < IC4; c4 += LX) {
            vec4 acc = at(u_wd, wdInv, KH * KW, c4);
            for (int ky = 0; ky < KH; ++ky) {
                int iy = iy0 + ky * DY;
                if (iy < 0 || iy >= XH) continue;
                for (int kx = 0; kx < KW; ++kx) {
                    int ix = ix0 + kx * DX;
                    if (ix < 0 || ix >= XW) continue;
                    acc += at(u_wd, wdInv, ky * KW + kx, c4) * at(u_x, xInv, ix * IC4 + c4, rowBase + iy);
                }
            }
#if DACT == 5
            vec4 alpha = at(u_wd, wdInv, KH * KW + 1, c4);
#else
            vec4 alpha = vec4(0.0);
#endif
            acc = clamp(activation(DACT, acc, alpha), vec4(-MAXV), vec4(MAXV));
#if MID_FP16
            acc = roundToHalf(acc);
#endif
            s_mid[slot][c4] = acc;  // lanes past the channel count are 0 (zero weights and bias)
        }
    }
    barrier();
    if (!inside) return;
    for (int oc4 = lane; oc4 < OC4; oc4 += LX) {
        vec4 acc = at(u_wp, wpInv, IC4 * 4, oc4);
        for (int i = 0; i < IC4; ++i) {
            int wi = 4 * i;
            mat4 m = mat4(at(u_wp, wpInv, wi, oc4), at(u_wp, wpInv, wi + 1, oc4),
                          at(u_wp, wpInv, wi + 2, oc4), at(u_wp, wpInv, wi + 3, oc4));
            acc += m * s_mid[slot][i];
        }
        acc = addResidual(acc, nb, oy, ox, oc4);
#if ACT == 5
        vec4 alpha = at(u_wp, wpInv, IC4 * 4 + 1, oc4);
#else
        vec4 alpha = vec4(0.0);
#endif
        storeSlice(nb, oy, ox, oc4, activate(acc, alpha));
    }
}
