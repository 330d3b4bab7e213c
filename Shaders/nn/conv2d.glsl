// CONV_2D (also FULLY_CONNECTED as a 1x1 conv): one fragment = one output texel, i.e. 4 output
// channels oc4*4.. of one pixel:
//   out = act(bias + sum_{ky,kx,ic} W[oc,ky,kx,ic] * x[nb, oy*SY - pad.y + ky*DY, ox*SX - pad.x + kx*DX, ic]
//             (+ residual[nb, oy, ox, oc]))
// Input/output/residual in the tensor layout of common.glsl; reads outside the input are 0
// (SAME padding and folded PAD ops both come in through u_pad).
// Weights (uploaded once): row oc4 of u_w holds, for t = (ky*KW + kx)*IC4 + ic4, the 4 texels
// 4t..4t+3 = the columns of the mat4 mapping input channels ic4*4+j to the 4 output channels,
// then the bias texel at KH*KW*IC4*4 and (ACT 5) the PReLU alpha texel after it.
// Defines: KH KW IC4 SY SX DY DX ACT RESIDUAL (0, 1, or 2: a max-pooled residual, see common.glsl's
// residualTexel; never planar), RES_POOL_FP16, X_PLANAR / RES_PLANAR (input / residual stored planar:
// a sampler2DArray, layer = channel slice, see GPU/BakedConv.swift).
#include "nn/common.glsl"
#ifndef X_PLANAR
#define X_PLANAR 0
#endif
#ifndef RES_PLANAR
#define RES_PLANAR 0
#endif
#if X_PLANAR
uniform sampler2DArray u_x;
#else
uniform sampler2D u_x;
#endif
uniform ivec4 u_xShape;
uniform sampler2D u_w;
uniform ivec4 u_outShape;
uniform ivec2 u_pad;
#if RESIDUAL && RES_PLANAR
uniform sampler2DArray u_res;
#elif RESIDUAL
uniform sampler2D u_res;
#endif
#if RESIDUAL
uniform ivec4 u_resShape;
#endif

void main() {
    int nb, oy, ox, oc4;
    outTexel(u_outShape, nb, oy, ox, oc4);
    const int KTEX = KH * KW * IC4 * 4;
#if X_PLANAR
    vec2 xInv = 1.0 / vec2(textureSize(u_x, 0).xy), wInv = invSize(u_w);
#else
    vec2 xInv = invSize(u_x), wInv = invSize(u_w);
#endif
    vec4 acc = at(u_w, wInv, KTEX, oc4);
    float wv = (float(oc4) + 0.5) * wInv.y;
    int iy0 = oy * SY - u_pad.y;
    int ix0 = ox * SX - u_pad.x;
    int rowBase = nb * u_xShape.y;
    int H = u_xShape.y, W = u_xShape.z;
    for (int ky = 0; ky < KH; ++ky) {
        int iy = iy0 + ky * DY;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < KW; ++kx) {
            int ix = ix0 + kx * DX;
            if (ix < 0 || ix >= W) continue;
            int wx = (ky * KW + kx) * IC4 * 4;
#if X_PLANAR
            int xx = ix;
#else
            int xx = ix * IC4;
#endif
            float xv = (float(rowBase + iy) + 0.5) * xInv.y;
            float xu = (float(xx) + 0.5) * xInv.x;
            float wu = (float(wx) + 0.5) * wInv.x;
#if NN_TEXEL_FETCH && !X_PLANAR
            for (int i = 0; i < IC4; ++i) {
                vec4 v = texelFetch(u_x, ivec2(xx + i, rowBase + iy), 0);
                int wi = wx + 4 * i;
                mat4 m = mat4(texelFetch(u_w, ivec2(wi, oc4), 0), texelFetch(u_w, ivec2(wi + 1, oc4), 0),
                              texelFetch(u_w, ivec2(wi + 2, oc4), 0), texelFetch(u_w, ivec2(wi + 3, oc4), 0));
                acc += m * v;
            }
#else
            for (int i = 0; i < IC4; ++i) {
#if X_PLANAR
                vec4 v = texture(u_x, vec3(xu, xv, float(i)));
#else
                vec4 v = texture(u_x, vec2(xu + float(i) * xInv.x, xv));
#endif
                float u = wu + float(4 * i) * wInv.x;
                mat4 m = mat4(texture(u_w, vec2(u, wv)), texture(u_w, vec2(u + wInv.x, wv)),
                              texture(u_w, vec2(u + 2.0 * wInv.x, wv)), texture(u_w, vec2(u + 3.0 * wInv.x, wv)));
                acc += m * v;
            }
#endif
        }
    }
#if RESIDUAL
#if RES_PLANAR
    // The residual may have fewer channels (a folded channel PAD): missing ones are 0.
    if (oc4 < slices(u_resShape.w))
        acc += texture(u_res, vec3((vec2(float(ox), float(nb * u_resShape.y + oy)) + 0.5) / vec2(textureSize(u_res, 0).xy), float(oc4)));
#else
    acc += residualTexel(u_res, u_resShape, nb, oy, ox, oc4);
#endif
#endif
#if ACT == 5
    vec4 alpha = at(u_w, wInv, KTEX + 1, oc4);
#else
    vec4 alpha = vec4(0.0);
#endif
    o_value = finish(activate(acc, alpha), oc4, u_outShape.w);
}
