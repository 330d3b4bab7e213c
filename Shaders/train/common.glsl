// Training passes (train/*.glsl, FaceFXNeural/Training/GPUClassifierTrainer.swift), fp32 textures, one
// fragment per texel, accumulating in fp32. Layouts:
//  - the images [N, S, S, CIN] (CIN 1 or 3): R32F scalars, texel (x·CIN + c, n·S + y);
//  - the convolutions' outputs and their gradients [N, S, S, C] (C a multiple of 4): RGBA32F, four channels
//    to a texel, texel (x·C/4 + c/4, n·S + y);
//  - a convolution's parameters: one RGBA32F row, its weights in HWIO order (four consecutive outputs to a
//    texel: texel ((ky·3 + kx)·CIN + i)·COUT/4 + o/4), then its biases (COUT/4 texels); so a fragment
//    computes four output channels from one weight fetch per input channel and tap, where scalars took
//    two fetches per multiply-add (the cost on llvmpipe, which runs every fetch as a gather);
//  - the pooled features, the probabilities, the dense layer's parameters (weights [K, C] then biases):
//    R32F scalars.
// Gradient, Adam moments and per-sample gradient shares of a layer have its parameters' layout.
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
vec4 at4(highp sampler2D t, vec2 inv, int x, int y) { return texelFetch(t, ivec2(x, y), 0); }
#else
vec4 at4(highp sampler2D t, vec2 inv, int x, int y) { return texture(t, (vec2(float(x), float(y)) + 0.5) * inv); }
#endif
vec4 at4(highp sampler2D t, int x, int y) { return at4(t, invSize(t), x, y); }
float at(highp sampler2D t, vec2 inv, int x, int y) { return at4(t, inv, x, y).r; }
float at(highp sampler2D t, int x, int y) { return at(t, invSize(t), x, y); }
void store(float v) { o_value = vec4(v, 0.0, 0.0, 1.0); }
// Four values (RGBA32F targets); an R32F target keeps the first (the elementwise passes serve both).
void store4(vec4 v) { o_value = v; }
