// MEAN / SUM over any set of axes (4-D view of common.glsl). For each output element: its
// linear index within the replica, read in the "kept" shape (reduced axes of size 1, which has
// the same element order as the output with or without keep_dims), then a loop over the
// reduced extents u_extent (1 on kept axes). Accumulated in fp32.
// Defines: IS_MEAN.
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform ivec4 u_keptShape;
uniform ivec4 u_extent;
uniform ivec4 u_outShape;

void main() {
    int nb, h, w, c4;
    outTexel(u_outShape, nb, h, w, c4);
    int N = u_outShape.x;
    int r = nb / N, n = nb - r * N;
    vec4 result;
    for (int j = 0; j < 4; ++j) {
        int c = min(c4 * 4 + j, u_outShape.w - 1);
        ivec4 k = unlinear(u_keptShape, linearIndex(u_outShape, ivec4(n, h, w, c)));
        float s = 0.0;
        for (int a = 0; a < u_extent.x; ++a)
        for (int b = 0; b < u_extent.y; ++b)
        for (int d = 0; d < u_extent.z; ++d)
        for (int e = 0; e < u_extent.w; ++e)
            s += fetchElem(u_x, u_xShape, r, k + ivec4(a, b, d, e));
#if IS_MEAN
        s /= float(u_extent.x * u_extent.y * u_extent.z * u_extent.w);
#endif
        result[j] = s;
    }
    o_value = finish(result, c4, u_outShape.w);
}
