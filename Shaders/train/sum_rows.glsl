// Column sums of a texture of ROWS rows (the per-sample gradient shares → the batch's gradient), each of
// a texel's four values (an R32F target keeps the first). Defines: ROWS.
#include "train/common.glsl"
uniform highp sampler2D u_rows;
void main() {
    int i = int(gl_FragCoord.x);
    vec2 inv = invSize(u_rows);
    vec4 s = vec4(0.0);
    for (int n = 0; n < ROWS; ++n) s += at4(u_rows, inv, i, n);
    store4(s);
}
