// RGBA8 frame texture -> 8-bit I420 bytes, packed four bytes per RGBA8 output texel so that one
// glReadPixels returns the encoder's buffer. Output texel (tx, ty) holds bytes
// [ty*S + 4*tx, +4) of: Y plane (stride S, H rows), then U, then V (stride S/2, ceil(H/2) rows).
// S/2 is a multiple of 4, so the 4 bytes of a texel always lie in one plane row. Padding = 0.
// Chroma = 2x2-subsampled RGB converted to Cb/Cr (linear, so averaging RGB = averaging Cb/Cr):
// CHROMA_LEFT 1: horizontal [1 2 1]/4 around even columns (co-sited), vertical box of two rows;
// CHROMA_LEFT 0: 2x2 box (centred). EXACT_AVERAGE 1 averages with texelFetch instead of
// bilinear fetches of a LINEAR sampler (which may quantise the average to 8 bits).
uniform sampler2D u_frame;
uniform ivec2 u_size;       // picture width, height
uniform int u_stride;       // S
uniform ivec2 u_chromaSize; // ceil(W/2), ceil(H/2)
uniform int u_uOffset;      // S*H
uniform int u_vOffset;      // S*H + S/2*ceil(H/2)
uniform vec4 u_yRow;        // Y code = dot(u_yRow, vec4(rgb, 1))
uniform vec4 u_uRow;
uniform vec4 u_vRow;
out vec4 o_bytes;

vec3 rgbAt(ivec2 p) {
    return texelFetch(u_frame, clamp(p, ivec2(0), u_size - 1), 0).rgb;
}

vec3 chromaRGB(int cx, int cy) {
#if EXACT_AVERAGE
    int x = 2 * cx, y = 2 * cy;
    vec3 s = rgbAt(ivec2(x, y)) + rgbAt(ivec2(x, y + 1));
#if CHROMA_LEFT
    vec3 l = rgbAt(ivec2(x - 1, y)) + rgbAt(ivec2(x - 1, y + 1));
    vec3 r = rgbAt(ivec2(x + 1, y)) + rgbAt(ivec2(x + 1, y + 1));
    return (l + 2.0 * s + r) * 0.125;
#else
    return (s + rgbAt(ivec2(x + 1, y)) + rgbAt(ivec2(x + 1, y + 1))) * 0.25;
#endif
#else
    vec2 inv = 1.0 / vec2(u_size);
    float v = float(2 * cy + 1) * inv.y;
#if CHROMA_LEFT
    // Midpoints between columns (2cx-1, 2cx) and (2cx, 2cx+1): their mean is the [1 2 1] filter.
    return 0.5 * (texture(u_frame, vec2(float(2 * cx) * inv.x, v)).rgb
                + texture(u_frame, vec2(float(2 * cx + 1) * inv.x, v)).rgb);
#else
    return texture(u_frame, vec2(float(2 * cx + 1) * inv.x, v)).rgb;
#endif
#endif
}

void main() {
    ivec2 t = ivec2(gl_FragCoord.xy);
    int offset = t.y * u_stride + 4 * t.x;
    vec4 codes = vec4(0.0);
    if (offset < u_uOffset) {
        int x0 = 4 * t.x;
        for (int i = 0; i < 4; i++) {
            if (x0 + i < u_size.x) {
                codes[i] = dot(u_yRow, vec4(texelFetch(u_frame, ivec2(x0 + i, t.y), 0).rgb, 1.0));
            }
        }
    } else {
        bool isV = offset >= u_vOffset;
        int local = offset - (isV ? u_vOffset : u_uOffset);
        int half_stride = u_stride / 2;
        int row = local / half_stride;
        int col0 = local - row * half_stride;
        vec4 coeffs = isV ? u_vRow : u_uRow;
        if (row < u_chromaSize.y) {
            for (int i = 0; i < 4; i++) {
                if (col0 + i < u_chromaSize.x) {
                    codes[i] = dot(coeffs, vec4(chromaRGB(col0 + i, row), 1.0));
                }
            }
        }
    }
    o_bytes = clamp(floor(codes + 0.5), 0.0, 255.0) / 255.0;
}
