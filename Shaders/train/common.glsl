// Training passes (train/*.glsl, FaceFXNeural/Training/GPUClassifierTrainer.swift): every tensor is an
// R32F texture of scalars. Images and activations [N, S, S, C]: texel (x·C + c, n·S + y). A layer's
// parameters: one row, its weights (conv: OHWI, dense: [K, C]) then its biases. One fragment writes one
// scalar, accumulating in fp32.
out vec4 o_value;
// TEXEL_FETCH (set by GPUClassifierTrainer on hardware GPUs): texelFetch. Otherwise texture() at the texel's
// centre, exact with the NEAREST filtering of every training texture and on llvmpipe much cheaper than
// texelFetch (no per-lane bounds check or level select): a training step at batch 32 there 156 → 67 ms.
#ifndef TEXEL_FETCH
#define TEXEL_FETCH 0
#endif
// `inv`: 1 / the texture's size (invSize), computed once per pass by the loops that read the most.
vec2 invSize(highp sampler2D t) { return 1.0 / vec2(textureSize(t, 0)); }
#if TEXEL_FETCH
float at(highp sampler2D t, vec2 inv, int x, int y) { return texelFetch(t, ivec2(x, y), 0).r; }
#else
float at(highp sampler2D t, vec2 inv, int x, int y) { return texture(t, (vec2(float(x), float(y)) + 0.5) * inv).r; }
#endif
float at(highp sampler2D t, int x, int y) { return at(t, invSize(t), x, y); }
void store(float v) { o_value = vec4(v, 0.0, 0.0, 1.0); }
