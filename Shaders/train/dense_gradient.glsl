// Gradient of the dense layer's parameters (its row: weights [K, C], then biases), summed over the batch.
// Defines: C K N.
#include "train/common.glsl"
uniform highp sampler2D u_dlogits;
uniform highp sampler2D u_features;
void main() {
    int i = int(gl_FragCoord.x);
    float s = 0.0;
    if (i < K * C) {
        for (int n = 0; n < N; ++n) s += at(u_dlogits, i / C, n) * at(u_features, i % C, n);
    } else {
        for (int n = 0; n < N; ++n) s += at(u_dlogits, i - K * C, n);
    }
    store(s);
}
