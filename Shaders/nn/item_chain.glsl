// The start of every chain shader (Sources/FaceFXNeural/Ops/ItemChain.swift, fusion G): a generated GLSL ES 3.10
// compute shader that runs a chain of small convolutions for one batch item per work group, its intermediate
// tensors in shared memory. The generator appends the uniforms, the shared array and main(); this file gives it
// common.glsl's helpers (at, invSize, roundToHalf, the stable activations). Defines: FORMAT (the output
// image's layout qualifier), and MAXV / NN_TEXEL_FETCH as every nn pass.
#define COMPUTE_PASS 1
ivec2 passTexel;  // common.glsl's one-texel-per-invocation helpers compile as in a compute pass (unused here)
#include "nn/common.glsl"
