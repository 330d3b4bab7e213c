// Planar Y'CbCr (three textures) -> gamma-encoded RGBA8 frame texture (alpha 1).
// Texel (x, y) of the target is picture pixel (x, y), row 0 = top row (no flip anywhere).
// Chroma is upsampled bilinearly; siting: horizontally co-sited with even luma columns
// (CHROMA_LEFT, MPEG-2/H.264 default) or centred; vertically centred between luma rows.
// Defines: CHROMA_SHIFT_X, CHROMA_SHIFT_Y (0/1), CHROMA_LEFT (0/1),
//          HIGH_BIT_DEPTH (R16UI planes, exact integer codes) or 8-bit R8 planes,
//          HW_BILINEAR (8-bit only: chroma planes are LINEAR-filtered, one fetch per plane).
#if HIGH_BIT_DEPTH
uniform usampler2D u_y;
uniform usampler2D u_u;
uniform usampler2D u_v;
#define FETCH(tex, p) float(texelFetch(tex, p, 0).r)
#else
uniform sampler2D u_y;
uniform sampler2D u_u;
uniform sampler2D u_v;
#define FETCH(tex, p) texelFetch(tex, p, 0).r
#endif
// Code values as sampled (8-bit normalised: code/255; integer: code) -> RGB in 0..1.
uniform mat4 u_yuvToRgb;
uniform ivec2 u_chromaSize;
out vec4 o_color;

vec2 chromaPosition(ivec2 p) {
    vec2 c = vec2(p);
#if CHROMA_SHIFT_X
#if CHROMA_LEFT
    c.x = c.x * 0.5;
#else
    c.x = c.x * 0.5 - 0.25;
#endif
#endif
#if CHROMA_SHIFT_Y
    c.y = c.y * 0.5 - 0.25;
#endif
    return c;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float y = FETCH(u_y, p);
    vec2 cb_cr;
#if CHROMA_SHIFT_X == 0 && CHROMA_SHIFT_Y == 0
    cb_cr = vec2(FETCH(u_u, p), FETCH(u_v, p));
#elif HW_BILINEAR && !HIGH_BIT_DEPTH
    vec2 uv = (chromaPosition(p) + 0.5) / vec2(u_chromaSize);
    cb_cr = vec2(texture(u_u, uv).r, texture(u_v, uv).r);
#else
    vec2 c = chromaPosition(p);
    vec2 c0 = floor(c);
    vec2 f = c - c0;
    ivec2 lo = clamp(ivec2(c0), ivec2(0), u_chromaSize - 1);
    ivec2 hi = clamp(ivec2(c0) + 1, ivec2(0), u_chromaSize - 1);
    vec4 u4 = vec4(FETCH(u_u, lo), FETCH(u_u, ivec2(hi.x, lo.y)), FETCH(u_u, ivec2(lo.x, hi.y)), FETCH(u_u, hi));
    vec4 v4 = vec4(FETCH(u_v, lo), FETCH(u_v, ivec2(hi.x, lo.y)), FETCH(u_v, ivec2(lo.x, hi.y)), FETCH(u_v, hi));
    vec2 ur = mix(u4.xz, u4.yw, f.x);
    vec2 vr = mix(v4.xz, v4.yw, f.x);
    cb_cr = vec2(mix(ur.x, ur.y, f.y), mix(vr.x, vr.y, f.y));
#endif
    vec3 rgb = (u_yuvToRgb * vec4(y, cb_cr, 1.0)).rgb;
    o_color = vec4(clamp(rgb, 0.0, 1.0), 1.0);
}
