// Shared by the compute passes whose invocations take output pixels rather than output texels
// (conv2d_pixels.glsl, depthwise_pointwise.glsl; included, never compiled alone): common.glsl, the
// input, the output's shape and image, the padding, the pixel count, and the residual ADD.
// Defines: RESIDUAL (0, 1, or 2: a max-pooled residual, see common.glsl), RES_POOL_FP16, FORMAT (the
// image's layout qualifier), and those common.glsl reads.
// common.glsl's one-texel-per-invocation helpers compile as in a compute pass (unused here).
#define COMPUTE_PASS 1
ivec2 passTexel;
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform ivec4 u_outShape;
uniform ivec2 u_pad;
uniform int u_pixels;  // output pixels of all replicas
#if RESIDUAL
uniform sampler2D u_res;
uniform ivec4 u_resShape;
#endif
layout(FORMAT, binding = 0) writeonly uniform highp image2D u_out;

// Output pixel `pixel` (counted over all replicas, row-major) as replica-and-batch row nb, oy, ox.
void outPixel(int pixel, out int nb, out int oy, out int ox) {
    int W = u_outShape.z, rest = pixel / W;
    ox = pixel - rest * W;
    oy = rest % u_outShape.y;
    nb = rest / u_outShape.y;
}

// `acc` plus the residual's texel for output slice oc4 of that pixel (common.glsl's residualTexel).
vec4 addResidual(vec4 acc, int nb, int oy, int ox, int oc4) {
#if RESIDUAL
    acc += residualTexel(u_res, u_resShape, nb, oy, ox, oc4);
#endif
    return acc;
}

// Stores output slice oc4 of that pixel (OC4 slices a pixel).
void storeSlice(int nb, int oy, int ox, int oc4, vec4 v) {
    imageStore(u_out, ivec2(ox * OC4 + oc4, nb * u_outShape.y + oy), finish(v, oc4, u_outShape.w));
}
