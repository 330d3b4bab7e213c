// Adam, one of its three updates per pass (no render target may be read): OUTPUT 0 the first moment,
// 1 the second, 2 the parameters from the new moments. u_bias = (1 − β1^t, 1 − β2^t). Each of a texel's
// four values (an R32F target keeps the first; its unused channels read 0 or 1, never Inf or NaN).
#include "train/common.glsl"
uniform highp sampler2D u_gradient;
uniform highp sampler2D u_m;
uniform highp sampler2D u_v;
uniform highp sampler2D u_params;
uniform float u_rate;
uniform vec2 u_beta;
uniform vec2 u_bias;
uniform float u_epsilon;
void main() {
    int i = int(gl_FragCoord.x);
    vec4 g = at4(u_gradient, i, 0);
#if OUTPUT == 0
    store4(u_beta.x * at4(u_m, i, 0) + (1.0 - u_beta.x) * g);
#elif OUTPUT == 1
    store4(u_beta.y * at4(u_v, i, 0) + (1.0 - u_beta.y) * g * g);
#else
    vec4 mhat = at4(u_m, i, 0) / u_bias.x, vhat = at4(u_v, i, 0) / u_bias.y;
    store4(at4(u_params, i, 0) - u_rate * mhat / (sqrt(vhat) + u_epsilon));
#endif
}
