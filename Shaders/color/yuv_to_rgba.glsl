// Planar Y'CbCr (Y texture + U, V textures, or one interleaved UV texture) -> gamma-encoded
// RGBA8 frame texture (alpha 1).
// Texel (x, y) of the target is picture pixel (x, y), row 0 = top row (no flip anywhere).
// Chroma is upsampled bilinearly in float from a textureGather of the 2x2 neighbourhood
// (exact, and one fetch per plane: texelFetch and LINEAR filtering are both slower on llvmpipe,
// and LINEAR quantises to 8 bits there). Siting: chroma sample (i, j) sits at luma position
// c = (p - u_chromaOffset) / scale, see u_chromaMap. Clamp-to-edge handles the borders.
// Defines: CHROMA_SHIFT_X, CHROMA_SHIFT_Y (0/1); HIGH_BIT_DEPTH 1: R16UI/RG16UI planes holding
// integer codes, 0: R8/RG8 planes (normalised code/255), u_yuvToRgb absorbs the difference;
// CHROMA_RG 1: U and V interleaved in one RG texture u_uv, read with 4 NEAREST fetches per pixel
// (cheaper than 2 gathers on llvmpipe).
#if HIGH_BIT_DEPTH
#define SAMPLER usampler2D
#define VEC4(v) vec4(v)
#else
#define SAMPLER sampler2D
#define VEC4(v) (v)
#endif
uniform SAMPLER u_y;
#if CHROMA_RG
uniform SAMPLER u_uv;
#else
uniform SAMPLER u_u;
uniform SAMPLER u_v;
#endif
uniform mat4 u_yuvToRgb;    // (Y, Cb, Cr, 1) as sampled -> RGB 0..1
uniform vec2 u_lumaInvSize; // 1 / picture size
uniform vec4 u_chromaMap;   // chroma texel coordinate c = pixel * xy + zw
uniform vec2 u_chromaInvSize;
#include "common/pass.glsl"  // o_value at PASS_XY; fragment or compute pass

void main() {
    vec2 pixel = PASS_XY - 0.5;  // integer picture coordinates
    float y = VEC4(texture(u_y, PASS_XY * u_lumaInvSize)).r;
#if CHROMA_SHIFT_X == 0 && CHROMA_SHIFT_Y == 0
    vec2 uv = PASS_XY * u_chromaInvSize;
#if CHROMA_RG
    vec2 cbcr = VEC4(texture(u_uv, uv)).rg;
#else
    vec2 cbcr = vec2(VEC4(texture(u_u, uv)).r, VEC4(texture(u_v, uv)).r);
#endif
#else
    vec2 c = pixel * u_chromaMap.xy + u_chromaMap.zw;
    vec2 c0 = floor(c);
    vec2 f = c - c0;
#if CHROMA_RG
    // Texel centres of c0 and c0+1 (clamp-to-edge repeats the border texels).
    vec2 d = u_chromaInvSize;
    vec2 h = (c0 + 0.5) * d;
    vec2 s00 = VEC4(texture(u_uv, h)).rg;
    vec2 s10 = VEC4(texture(u_uv, vec2(h.x + d.x, h.y))).rg;
    vec2 s01 = VEC4(texture(u_uv, vec2(h.x, h.y + d.y))).rg;
    vec2 s11 = VEC4(texture(u_uv, h + d)).rg;
    vec2 cbcr = mix(mix(s00, s10, f.x), mix(s01, s11, f.x), f.y);
#else
    // Gather at the corner shared by texels c0 and c0+1: returns (c0.x, c0.y+1), (c0.x+1, c0.y+1),
    // (c0.x+1, c0.y), (c0.x, c0.y) in x, y, z, w.
    vec2 g = (c0 + 1.0) * u_chromaInvSize;
    vec4 gu = VEC4(textureGather(u_u, g, 0));
    vec4 gv = VEC4(textureGather(u_v, g, 0));
    vec2 bottom = mix(vec2(gu.w, gv.w), vec2(gu.z, gv.z), f.x);
    vec2 top = mix(vec2(gu.x, gv.x), vec2(gu.y, gv.y), f.x);
    vec2 cbcr = mix(bottom, top, f.y);
#endif
#endif
    vec3 rgb = (u_yuvToRgb * vec4(y, cbcr, 1.0)).rgb;
    o_value = vec4(clamp(rgb, 0.0, 1.0), 1.0);
}
