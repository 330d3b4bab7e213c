// Shared declarations of the I420 packing passes (included by i420_pack_*.glsl).
// The packed target is RGBA8 (or a buffer of words), S/4 texels wide: texel (tx, ty) holds bytes [ty*S + 4*tx, +4) of
// the contiguous I420 buffer: Y (stride S, H rows), then U, then V (stride S/2, ceil(H/2) rows).
// Every byte outside a plane's picture area (row padding, the tail) is written as 0.
uniform sampler2D u_frame;  // RGBA8 frame texture, row 0 = top row of the picture
uniform vec2 u_invSize;     // 1 / picture size
uniform ivec2 u_size;       // picture size
// The texel's 4 bytes go to `o_value` at PASS_XY (common/pass.glsl): a fragment pass into the RGBA8
// target, or a compute pass storing them as one word of a storage buffer (FrameColorConverter.computePack).
#include "common/pass.glsl"
#define o_bytes o_value

// 8-bit codes (0..255) -> unorm8 texel bytes, rounded to nearest.
vec4 packBytes(vec4 codes) { return clamp(floor(codes + 0.5), 0.0, 255.0) * (1.0 / 255.0); }
