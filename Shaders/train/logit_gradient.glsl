// d(mean cross-entropy)/d logit k of sample n = (p − [label = k]) / N. Defines: N. Labels: texel (0, n).
#include "train/common.glsl"
uniform highp sampler2D u_probabilities;
uniform highp sampler2D u_labels;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float target = int(at(u_labels, 0, p.y)) == p.x ? 1.0 : 0.0;
    store((at(u_probabilities, p.x, p.y) - target) / float(N));
}
