// RELU / RELU6 / LOGISTIC / NEG / SQRT / RSQRT, texel by texel (same layout in and out).
// Finite for every finite input: LOGISTIC in the exp(-|x|) form; SQRT of x < 0 gives 0 and
// RSQRT of x <= 0 gives MAXV (TFLite gives NaN / Inf there); results clamped to MAXV.
// Defines: OP (1 relu, 2 relu6, 3 logistic, 4 neg, 5 sqrt, 6 rsqrt).
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_outShape;

void main() {
    int nb, h, w, c4;
    outTexel(u_outShape, nb, h, w, c4);
    vec4 x = at(u_x, invSize(u_x), int(PASS_XY.x), int(PASS_XY.y));
#if OP == 1
    vec4 r = max(x, vec4(0.0));
#elif OP == 2
    vec4 r = clamp(x, vec4(0.0), vec4(6.0));
#elif OP == 3
    vec4 r = sigmoid4(x);
#elif OP == 4
    vec4 r = -x;
#elif OP == 5
    vec4 r = sqrt(max(x, vec4(0.0)));
#else
    vec4 r = mix(vec4(MAXV), inversesqrt(max(x, vec4(1e-30))), greaterThan(x, vec4(0.0)));
#endif
    o_value = finish(r, c4, u_outShape.w);
}
