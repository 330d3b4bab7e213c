// The gradient through a convolution's ReLU: dy where its output y was positive, else 0 (one pass, so
// the gradient passes after it read one texture per tap instead of two). Four channels a texel.
#include "train/common.glsl"
uniform highp sampler2D u_y;
uniform highp sampler2D u_dy;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    store4(mix(vec4(0.0), at4(u_dy, p.x, p.y), greaterThan(at4(u_y, p.x, p.y), vec4(0.0))));
}
