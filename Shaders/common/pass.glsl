// One output texel per invocation, as a fragment pass or as a compute pass (included, never
// compiled alone). The pass writes `o_value` for the texel centred at PASS_XY. As a fragment shader
// that is gl_FragCoord and a colour output; as a compute shader (COMPUTE_PASS, set by
// ProgramCache.computeProgram, which appends the main() that runs the body for each texel and
// stores o_value with imageStore; the texel is in `passTexel`). On GPUs whose graphics units are
// a small part of the chip (the H100: 2 of its 57 TPCs run pixel shaders) the compute form uses
// the whole GPU. Generated kernels with outputs of their own (GPU/BakedConv.swift) define
// NN_CUSTOM_OUTPUTS.
#ifdef COMPUTE_PASS
vec4 o_value;
#define PASS_XY (vec2(passTexel) + 0.5)
#else
#ifndef NN_CUSTOM_OUTPUTS
out vec4 o_value;
#endif
#define PASS_XY gl_FragCoord.xy
#endif
