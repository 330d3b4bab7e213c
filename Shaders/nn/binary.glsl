// ADD / SUB / MUL / DIV / SQUARED_DIFFERENCE / PRELU with numpy broadcasting, then a fused
// activation (ACT of common.glsl; ACT 5 reads a per-channel PReLU alpha texel from u_alpha).
// One fragment = one output texel (4 channels). Operand access per define:
//   X_SAME    operand has the output's shape (and replicas): one texel fetch;
//   X_CHANNEL operand is a constant [C] vector over the output's channels: texel (c4, 0);
//   X_SCALAR  operand has one element: texel (0, 0).x;
//   otherwise per-channel element fetches with broadcast (size-1 axes read index 0; a constant
//   without replicas is shared by all replicas).
// DIV by 0 gives +-MAXV (0/0 gives 0) instead of Inf/NaN; the result is clamped to MAXV.
// Defines: OP (1 add, 2 sub, 3 mul, 4 div, 5 squared difference, 6 prelu), ACT, A_MODE, B_MODE
// (0 general, 1 same, 2 channel, 3 scalar).
#include "nn/common.glsl"
uniform sampler2D u_a;
uniform ivec4 u_aShape;
uniform int u_aRep;
uniform sampler2D u_b;
uniform ivec4 u_bShape;
uniform int u_bRep;
uniform ivec4 u_outShape;
#if ACT == 5
uniform sampler2D u_alpha;
#endif

vec4 operand(sampler2D t, ivec4 s, int rep, int mode, int nb, int h, int w, int c4) {
    if (mode == 1) return at(t, invSize(t), w * slices(s.w) + c4, nb * s.y + h);
    if (mode == 2) return at(t, invSize(t), c4, 0);
    if (mode == 3) return vec4(at(t, invSize(t), 0, 0).x);
    int N = u_outShape.x;
    int r = nb / N, n = nb - r * N;
    int ri = rep == 1 ? 0 : r;
    ivec4 keep = ivec4(greaterThan(s, ivec4(1)));
    vec4 v;
    for (int j = 0; j < 4; ++j) {
        int c = min(c4 * 4 + j, u_outShape.w - 1);
        v[j] = fetchElem(t, s, ri, ivec4(n, h, w, c) * keep);
    }
    return v;
}

float safeDiv(float a, float b) {
    if (b == 0.0) return a == 0.0 ? 0.0 : sign(a) * MAXV;
    return a / b;
}

void main() {
    int nb, h, w, c4;
    outTexel(u_outShape, nb, h, w, c4);
    vec4 a = operand(u_a, u_aShape, u_aRep, A_MODE, nb, h, w, c4);
    vec4 b = operand(u_b, u_bShape, u_bRep, B_MODE, nb, h, w, c4);
#if OP == 1
    vec4 r = a + b;
#elif OP == 2
    vec4 r = a - b;
#elif OP == 3
    vec4 r = a * b;
#elif OP == 4
    vec4 r = vec4(safeDiv(a.x, b.x), safeDiv(a.y, b.y), safeDiv(a.z, b.z), safeDiv(a.w, b.w));
#elif OP == 5
    vec4 r = (a - b) * (a - b);
#else
    vec4 r = mix(a * b, a, greaterThanEqual(a, vec4(0.0)));
#endif
#if ACT == 5
    vec4 alpha = at(u_alpha, invSize(u_alpha), c4, 0);
#else
    vec4 alpha = vec4(0.0);
#endif
    o_value = finish(activate(clamp(r, vec4(-MAXV), vec4(MAXV)), alpha), c4, u_outShape.w);
}
