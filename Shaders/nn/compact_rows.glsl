// Compacts the rows of two network outputs on the GPU, so that only the rows that matter cross
// the bus (see GPU/RowCompactor.swift): output S of shape [1, A, 1] holds one score per row, output
// D of shape [1, A, C] the row's data (in the layout of common.glsl: score of row a of replica r at
// texel (a, r) lane 0, its data at texels (a*C4 .. a*C4+C4-1, r)). Every row whose score is
// >= u_threshold is appended to the buffer: a header texel (replica, row as int bits, score, 0)
// then its C4 data texels. The order of the rows depends on the GPU's scheduling; the reader
// sorts them. A complete GLSL ES 3.10 compute shader body (the preamble adds version and precision).
layout(local_size_x = 64) in;
uniform highp sampler2D u_score;
uniform highp sampler2D u_data;
uniform int u_rowsPerReplica;   // A
uniform int u_replicas;
uniform int u_dataSlices;       // C4
uniform float u_threshold;
layout(std430, binding = 0) buffer Rows {
    uint count;
    uint pad0;
    uint pad1;
    uint pad2;
    vec4 rows[];
};

void main() {
    int i = int(gl_GlobalInvocationID.x);
    if (i >= u_rowsPerReplica * u_replicas) return;
    int r = i / u_rowsPerReplica;
    int a = i - r * u_rowsPerReplica;
    float s = texelFetch(u_score, ivec2(a, r), 0).x;
    if (!(s >= u_threshold)) return;
    // The buffer holds every row of the batch, so the slot is always inside it.
    int base = int(atomicAdd(count, 1u)) * (1 + u_dataSlices);
    rows[base] = vec4(intBitsToFloat(r), intBitsToFloat(a), s, 0.0);
    for (int j = 0; j < u_dataSlices; ++j) rows[base + 1 + j] = texelFetch(u_data, ivec2(a * u_dataSlices + j, r), 0);
}
