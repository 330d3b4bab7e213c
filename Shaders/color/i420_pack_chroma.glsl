// I420 packing, U and V planes: drawn over the rows after the Y plane. Each texel gets 4
// consecutive Cb (or Cr) codes of one chroma row; S/2 is a multiple of 4, so a texel never
// straddles planes or rows. RGB is subsampled first (the transform is linear, so this equals
// averaging Cb/Cr): CHROMA_LEFT 1: [1 2 1]/4 across columns 2i-1..2i+1 (co-sited with even
// columns, MPEG-2/H.264), CHROMA_LEFT 0: 2x2 box (centred); always the two rows 2j, 2j+1.
// EXACT_AVERAGE 0: bilinear fetches at texel corners through a LINEAR sampler (1-2 per sample,
// may round the average to 8 bits); 1: averages NEAREST fetches in float.
#include "color/i420_layout.glsl"
uniform int u_stride;        // S
uniform int u_uOffset;       // S*H
uniform int u_vOffset;       // S*H + S/2*ceil(H/2)
uniform ivec2 u_chromaSize;  // ceil(W/2), ceil(H/2)
uniform vec4 u_uRow;         // Cb code = dot(u_uRow.xyz, rgb) + u_uRow.w
uniform vec4 u_vRow;

// Sum of the two texels at (column x, rows 2j and 2j+1), x in picture pixels (clamped at edges).
vec3 column(float x, float v0, float v1) {
    float u = (x + 0.5) * u_invSize.x;
    return texture(u_frame, vec2(u, v0)).rgb + texture(u_frame, vec2(u, v1)).rgb;
}

vec3 subsampledRGB(int i, float v) {
    float x = float(2 * i);
#if EXACT_AVERAGE
    float v0 = v - 0.5 * u_invSize.y, v1 = v + 0.5 * u_invSize.y;
#if CHROMA_LEFT
    return (column(x - 1.0, v0, v1) + 2.0 * column(x, v0, v1) + column(x + 1.0, v0, v1)) * 0.125;
#else
    return (column(x, v0, v1) + column(x + 1.0, v0, v1)) * 0.25;
#endif
#else
#if CHROMA_LEFT
    return 0.5 * (texture(u_frame, vec2(x * u_invSize.x, v)).rgb + texture(u_frame, vec2((x + 1.0) * u_invSize.x, v)).rgb);
#else
    return texture(u_frame, vec2((x + 1.0) * u_invSize.x, v)).rgb;
#endif
#endif
}

void main() {
    ivec2 t = ivec2(PASS_XY);
    int offset = t.y * u_stride + 4 * t.x;
    bool isV = offset >= u_vOffset;
    int local = offset - (isV ? u_vOffset : u_uOffset);
    int halfStride = u_stride / 2;
    int row = local / halfStride;
    int col = local - row * halfStride;
    vec4 coeffs = isV ? u_vRow : u_uRow;
    // Boundary between picture rows 2*row and 2*row+1 (clamp-to-edge repeats the last row).
    float v = float(2 * row + 1) * u_invSize.y;
    mat4x3 rgb = mat4x3(subsampledRGB(col, v), subsampledRGB(col + 1, v),
                        subsampledRGB(col + 2, v), subsampledRGB(col + 3, v));
    vec4 codes = coeffs.xyz * rgb + coeffs.w;
    vec4 inside = vec4(lessThan(ivec4(col) + ivec4(0, 1, 2, 3), ivec4(u_chromaSize.x)));
    o_bytes = packBytes(codes * inside * float(row < u_chromaSize.y));
}
