// DEPTHWISE_CONV_2D: one fragment = 4 output channels oc4*4.. of one pixel;
//   out[oc] = act(bias[oc] + sum_{ky,kx} W[ky,kx,oc] * x[nb, oy*SY - pad.y + ky*DY, ox*SX - pad.x + kx*DX, oc / MULT])
// Layout of common.glsl; reads outside the input are 0. Weights: row oc4 of u_w holds texel
// ky*KW + kx = the 4 filter taps of channels oc4*4.., then bias at KH*KW, PReLU alpha after it.
// MULT == 1 reads one input texel per tap; other multipliers gather the 4 input channels.
// Defines: KH KW SY SX DY DX MULT ACT, X_PLANAR (MULT 1 only: input planar, a sampler2DArray with
// layer = channel slice, see GPU/BakedConv.swift).
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
uniform sampler2D u_w;
uniform ivec4 u_outShape;
uniform ivec2 u_pad;

void main() {
    int nb, oy, ox, oc4;
    outTexel(u_outShape, nb, oy, ox, oc4);
#if X_PLANAR
    vec2 xInv = 1.0 / vec2(textureSize(u_x, 0).xy), wInv = invSize(u_w);
#else
    vec2 xInv = invSize(u_x), wInv = invSize(u_w);
#endif
    vec4 acc = at(u_w, wInv, KH * KW, oc4);
    int iy0 = oy * SY - u_pad.y;
    int ix0 = ox * SX - u_pad.x;
    int H = u_xShape.y, W = u_xShape.z;
    int rowBase = nb * H;
    int IC4 = slices(u_xShape.w);
#if MULT != 1
    ivec4 ic = (ivec4(oc4 * 4) + ivec4(0, 1, 2, 3)) / MULT;
    ic = min(ic, ivec4(u_xShape.w - 1));
#endif
    for (int ky = 0; ky < KH; ++ky) {
        int iy = iy0 + ky * DY;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < KW; ++kx) {
            int ix = ix0 + kx * DX;
            if (ix < 0 || ix >= W) continue;
            vec4 w = at(u_w, wInv, ky * KW + kx, oc4);
#if X_PLANAR
            vec4 v = texture(u_x, vec3((vec2(float(ix), float(rowBase + iy)) + 0.5) * xInv, float(oc4)));
#elif MULT == 1
            vec4 v = at(u_x, xInv, ix * IC4 + oc4, rowBase + iy);
#else
            vec4 v;
            for (int j = 0; j < 4; ++j) v[j] = at(u_x, xInv, ix * IC4 + (ic[j] >> 2), rowBase + iy)[ic[j] & 3];
#endif
            acc += w * v;
        }
    }
#if ACT == 5
    vec4 alpha = at(u_w, wInv, KH * KW + 1, oc4);
#else
    vec4 alpha = vec4(0.0);
#endif
    o_value = finish(activate(acc, alpha), oc4, u_outShape.w);
}
