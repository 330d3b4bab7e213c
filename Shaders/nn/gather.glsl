// RESHAPE (when the layout changes), TRANSPOSE, STRIDED_SLICE and PAD as one affine gather:
// for each output element, its linear index within the replica is read in a "virtual" 4-D
// shape u_vShape, giving v; the input index is i = A v + u_offset (A's rows u_a0..u_a3);
// indices outside the input read 0 (PAD). One fragment = one output texel.
//   RESHAPE: v = input shape, A = I.  TRANSPOSE: v = output shape, A = permutation.
//   STRIDED_SLICE: v = slice shape before shrinking, A = diag(strides), offset = begin.
//   PAD: v = output shape, A = I, offset = -before.
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform ivec4 u_vShape;
uniform ivec4 u_a0, u_a1, u_a2, u_a3;
uniform ivec4 u_offset;
uniform ivec4 u_outShape;

int dot4(ivec4 a, ivec4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

void main() {
    int nb, h, w, c4;
    outTexel(u_outShape, nb, h, w, c4);
    int N = u_outShape.x;
    int r = nb / N, n = nb - r * N;
    vec4 result = vec4(0.0);
    for (int j = 0; j < 4; ++j) {
        int c = c4 * 4 + j;
        if (c >= u_outShape.w) break;
        ivec4 v = unlinear(u_vShape, linearIndex(u_outShape, ivec4(n, h, w, c)));
        ivec4 i = ivec4(dot4(u_a0, v), dot4(u_a1, v), dot4(u_a2, v), dot4(u_a3, v)) + u_offset;
        if (all(greaterThanEqual(i, ivec4(0))) && all(lessThan(i, u_xShape))) result[j] = fetchElem(u_x, u_xShape, r, i);
    }
    o_value = finish(result, c4, u_outShape.w);
}
