// One sample's share of the gradient of the dense layer's parameters (its row: weights [K, C], then
// biases): texel (i, n); sum_rows.glsl adds the samples. Defines: C K.
#include "train/common.glsl"
uniform highp sampler2D u_dlogits;
uniform highp sampler2D u_features;
void main() {
    int i = int(gl_FragCoord.x), n = int(gl_FragCoord.y);
    store(i < K * C ? at(u_dlogits, i / C, n) * at(u_features, i % C, n) : at(u_dlogits, i - K * C, n));
}
