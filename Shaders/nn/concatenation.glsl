// CONCATENATION of up to 4 inputs along 4-D axis u_axis (0..3), then the fused activation.
// Input k covers [u_start[k], u_start[k] + its size) on that axis; a constant input (replica
// count 1) is shared by every replica. One fragment = one output texel, element by element.
// Input k is stored with shape u_s<k> and read as shape u_v<k> (a folded RESHAPE: same elements,
// row-major order; equal shapes otherwise).
// Defines: NIN (2..4), ACT.
#include "nn/common.glsl"
uniform sampler2D u_x0, u_x1, u_x2, u_x3;
uniform ivec4 u_s0, u_s1, u_s2, u_s3;
uniform ivec4 u_v0, u_v1, u_v2, u_v3;
uniform ivec4 u_rep;
uniform ivec4 u_start;
uniform int u_axis;
uniform ivec4 u_outShape;

// Element i of a tensor stored as `s`, indexed as shape `v` (row-major reinterpretation).
float fetchViewed(sampler2D t, ivec4 s, ivec4 v, int r, ivec4 i) {
    if (s != v) i = unlinear(s, linearIndex(v, i));
    return fetchElem(t, s, r, i);
}

void main() {
    int nb, h, w, c4;
    outTexel(u_outShape, nb, h, w, c4);
    int N = u_outShape.x;
    int r = nb / N, n = nb - r * N;
    vec4 result = vec4(0.0);
    for (int j = 0; j < 4; ++j) {
        int c = c4 * 4 + j;
        if (c >= u_outShape.w) break;
        ivec4 i = ivec4(n, h, w, c);
        int pos = i[u_axis];
        int k = 0;
        for (int q = 1; q < NIN; ++q) if (pos >= u_start[q]) k = q;
        i[u_axis] = pos - u_start[k];
        int rr = u_rep[k] == 1 ? 0 : r;
        float v = 0.0;
        if (k == 0) v = fetchViewed(u_x0, u_s0, u_v0, rr, i);
        else if (k == 1) v = fetchViewed(u_x1, u_s1, u_v1, rr, i);
#if NIN > 2
        else if (k == 2) v = fetchViewed(u_x2, u_s2, u_v2, rr, i);
#endif
#if NIN > 3
        else v = fetchViewed(u_x3, u_s3, u_v3, rr, i);
#endif
        result[j] = v;
    }
    o_value = finish(activate(result, vec4(0.0)), c4, u_outShape.w);
}
