// Column sums of an R32F texture of ROWS rows (the per-sample gradient shares → the batch's gradient).
// Defines: ROWS.
#include "train/common.glsl"
uniform highp sampler2D u_rows;
void main() {
    int i = int(gl_FragCoord.x);
    float s = 0.0;
    for (int n = 0; n < ROWS; ++n) s += at(u_rows, i, n);
    store(s);
}
