// MAX_POOL_2D / AVERAGE_POOL_2D over a KH x KW window with stride (SY, SX): one fragment = one
// output texel. Window taps outside the input are skipped (max ignores them, average divides
// by the in-bounds count), as TFLite. Then the fused activation (ACT of common.glsl).
// Defines: KH KW SY SX IS_MAX ACT.
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform ivec4 u_outShape;
uniform ivec2 u_pad;
out vec4 o_value;

void main() {
    int nb, oy, ox, c4;
    outTexel(u_outShape, nb, oy, ox, c4);
    int iy0 = oy * SY - u_pad.y, ix0 = ox * SX - u_pad.x;
    int H = u_xShape.y, W = u_xShape.z, C4 = slices(u_xShape.w);
    vec2 xInv = invSize(u_x);
#if IS_MAX
    vec4 acc = vec4(-MAXV);
#else
    vec4 acc = vec4(0.0);
#endif
    int count = 0;
    for (int ky = 0; ky < KH; ++ky) {
        int iy = iy0 + ky;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < KW; ++kx) {
            int ix = ix0 + kx;
            if (ix < 0 || ix >= W) continue;
            vec4 v = at(u_x, xInv, ix * C4 + c4, nb * H + iy);
#if IS_MAX
            acc = max(acc, v);
#else
            acc += v;
#endif
            ++count;
        }
    }
#if !IS_MAX
    acc = count > 0 ? acc / float(count) : vec4(0.0);
#endif
    o_value = finish(activate(acc, vec4(0.0)), c4, u_outShape.w);
}
