// FULLY_CONNECTED C → K then SOFTMAX: probability k of sample n (texel (k, n)); logits shifted by
// their maximum so no exp overflows. Defines: C K.
#include "train/common.glsl"
uniform highp sampler2D u_features;
uniform highp sampler2D u_params;
float logit(int k, int n) {
    float s = at(u_params, K * C + k, 0);
    for (int j = 0; j < C; ++j) s += at(u_params, k * C + j, 0) * at(u_features, j, n);
    return s;
}
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float m = logit(0, p.y);
    for (int k = 1; k < K; ++k) m = max(m, logit(k, p.y));
    float z = 0.0;
    for (int k = 0; k < K; ++k) z += exp(logit(k, p.y) - m);
    store(exp(logit(p.x, p.y) - m) / z);
}
