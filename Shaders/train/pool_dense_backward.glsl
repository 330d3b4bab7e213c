// Gradient reaching the last convolution's output [N, S, S, C] (four channels a texel) through the dense
// layer and the global average pool: Σ_k dlogit[n, k] · W[k, c] / S². Defines: C K S.
#include "train/common.glsl"
uniform highp sampler2D u_dlogits;
uniform highp sampler2D u_params;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int c = 4 * (p.x % (C / 4)), n = p.y / S;
    vec4 s = vec4(0.0);
    for (int k = 0; k < K; ++k) {
        s += at(u_dlogits, k, n) * vec4(at(u_params, k * C + c, 0), at(u_params, k * C + c + 1, 0),
                                        at(u_params, k * C + c + 2, 0), at(u_params, k * C + c + 3, 0));
    }
    store4(s / float(S * S));
}
