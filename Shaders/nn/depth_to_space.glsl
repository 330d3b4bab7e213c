// DEPTH_TO_SPACE: out[n, y, x, c] = in[n, y / B, x / B, ((y % B) * B + x % B) * C + c].
// One fragment = one output texel, element by element.
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform int u_block;
uniform ivec4 u_outShape;

void main() {
    int nb, y, x, c4;
    outTexel(u_outShape, nb, y, x, c4);
    int N = u_outShape.x;
    int r = nb / N, n = nb - r * N;
    int B = u_block;
    vec4 result = vec4(0.0);
    for (int j = 0; j < 4; ++j) {
        int c = c4 * 4 + j;
        if (c >= u_outShape.w) break;
        result[j] = fetchElem(u_x, u_xShape, r, ivec4(n, y / B, x / B, ((y % B) * B + x % B) * u_outShape.w + c));
    }
    o_value = finish(result, c4, u_outShape.w);
}
