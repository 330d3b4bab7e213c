// SOFTMAX over the last axis: exp(beta * (x - max)) / sum, the max subtracted first so exp never
// overflows. One fragment = one output texel; it scans the whole channel row of its pixel.
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_outShape;
uniform float u_beta;

void main() {
    int nb, h, w, c4;
    outTexel(u_outShape, nb, h, w, c4);
    int C = u_outShape.w, C4 = slices(C);
    int row = nb * u_outShape.y + h;
    vec2 xInv = invSize(u_x);
    float m = -MAXV;
    for (int i = 0; i < C4; ++i) {
        vec4 v = at(u_x, xInv, w * C4 + i, row);
        for (int j = 0; j < 4; ++j) if (i * 4 + j < C) m = max(m, v[j]);
    }
    float s = 0.0;
    for (int i = 0; i < C4; ++i) {
        vec4 v = at(u_x, xInv, w * C4 + i, row);
        for (int j = 0; j < 4; ++j) if (i * 4 + j < C) s += exp(max(u_beta * (v[j] - m), -80.0));
    }
    vec4 x = at(u_x, xInv, w * C4 + c4, row);
    vec4 e = exp(max(u_beta * (x - vec4(m)), vec4(-80.0)));
    o_value = finish(e / s, c4, C);
}
