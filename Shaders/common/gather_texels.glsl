// Copies the first u_texels texels of a float texture into a storage buffer (texel i = (i % width, i / width)
// lands at vec4 u_offset + i), so that several results come back in one mapped read instead of one
// glReadPixels each (FaceFXGPU/TexelGather.swift). A complete GLSL ES 3.10 compute
// shader body (the preamble adds version and precision).
layout(local_size_x = 64) in;
uniform highp sampler2D u_src;
uniform int u_width;
uniform int u_texels;
uniform int u_offset;
layout(std430, binding = 0) writeonly buffer Texels { vec4 texels[]; };

void main() {
    int i = int(gl_GlobalInvocationID.x);
    if (i >= u_texels) return;
    texels[u_offset + i] = texelFetch(u_src, ivec2(i % u_width, i / u_width), 0);
}
