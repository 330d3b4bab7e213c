// Adam, one of its three updates per pass (no render target may be read): OUTPUT 0 the first moment,
// 1 the second, 2 the parameters from the new moments. u_bias = (1 − β1^t, 1 − β2^t).
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
    float g = at(u_gradient, i, 0);
#if OUTPUT == 0
    store(u_beta.x * at(u_m, i, 0) + (1.0 - u_beta.x) * g);
#elif OUTPUT == 1
    store(u_beta.y * at(u_v, i, 0) + (1.0 - u_beta.y) * g * g);
#else
    float mhat = at(u_m, i, 0) / u_bias.x, vhat = at(u_v, i, 0) / u_bias.y;
    store(at(u_params, i, 0) - u_rate * mhat / (sqrt(vhat) + u_epsilon));
#endif
}
