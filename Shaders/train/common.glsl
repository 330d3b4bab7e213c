// Training passes (train/*.glsl, FaceFXNeural/Training/GPUClassifierTrainer.swift): every tensor is an
// R32F texture of scalars. Images and activations [N, S, S, C]: texel (x·C + c, n·S + y). A layer's
// parameters: one row, its weights (conv: OHWI, dense: [K, C]) then its biases. One fragment writes one
// scalar, accumulating in fp32.
out vec4 o_value;
float at(highp sampler2D t, int x, int y) { return texelFetch(t, ivec2(x, y), 0).r; }
void store(float v) { o_value = vec4(v, 0.0, 0.0, 1.0); }
