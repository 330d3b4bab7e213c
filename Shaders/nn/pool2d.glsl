// MAX_POOL_2D / AVERAGE_POOL_2D over a KH x KW window with stride (SY, SX): one fragment = one
// output texel. Window taps outside the input are skipped (max ignores them, average divides
// by the in-bounds count), as TFLite. Then the fused activation (ACT of common.glsl).
// Defines: KH KW SY SX IS_MAX ACT, X_PLANAR (input planar: sampler2DArray, layer = channel slice).
#include "nn/common.glsl"
#ifndef X_PLANAR
#define X_PLANAR 0
#endif
#if X_PLANAR
uniform sampler2DArray u_x;
#else
uniform sampler2D u_x;
#endif
uniform ivec4 u_xShape;
uniform ivec4 u_outShape;
uniform ivec2 u_pad;

void main() {
    int nb, oy, ox, c4;
    outTexel(u_outShape, nb, oy, ox, c4);
    int iy0 = oy * SY - u_pad.y, ix0 = ox * SX - u_pad.x;
    int H = u_xShape.y, W = u_xShape.z, C4 = slices(u_xShape.w);
#if X_PLANAR
    vec2 xInv = 1.0 / vec2(textureSize(u_x, 0).xy);
#else
    vec2 xInv = invSize(u_x);
#endif
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
#if X_PLANAR
            vec4 v = texture(u_x, vec3((vec2(float(ix), float(nb * H + iy)) + 0.5) * xInv, float(c4)));
#else
            vec4 v = at(u_x, xInv, ix * C4 + c4, nb * H + iy);
#endif
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
