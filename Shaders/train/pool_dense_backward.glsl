// Gradient reaching the last convolution's output [N, S, S, C] through the dense layer and the global
// average pool: Σ_k dlogit[n, k] · W[k, c] / S². Defines: C K S.
#include "train/common.glsl"
uniform highp sampler2D u_dlogits;
uniform highp sampler2D u_params;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int c = p.x % C, n = p.y / S;
    float s = 0.0;
    for (int k = 0; k < K; ++k) s += at(u_dlogits, k, n) * at(u_params, k * C + c, 0);
    store(s / float(S * S));
}
