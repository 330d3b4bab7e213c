// RESIZE_BILINEAR as TFLite's float kernel: source position p = (o + 0.5) * scale - 0.5 with
// half-pixel centres, else o * scale; lo = max(floor(p), 0), hi = min(ceil(p), size - 1),
// weights from p - lo. One fragment = one output texel (4 channels).
// Defines: HALF_PIXEL.
#include "nn/common.glsl"
uniform sampler2D u_x;
uniform ivec4 u_xShape;
uniform vec2 u_scale;   // (y, x)
uniform ivec4 u_outShape;

void main() {
    int nb, oy, ox, c4;
    outTexel(u_outShape, nb, oy, ox, c4);
#if HALF_PIXEL
    vec2 p = (vec2(oy, ox) + 0.5) * u_scale - 0.5;
#else
    vec2 p = vec2(oy, ox) * u_scale;
#endif
    ivec2 lo = max(ivec2(floor(p)), ivec2(0));
    ivec2 hi = min(ivec2(ceil(p)), ivec2(u_xShape.y - 1, u_xShape.z - 1));
    vec2 f = p - vec2(lo);
    int C4 = slices(u_xShape.w), base = nb * u_xShape.y;
    vec2 xInv = invSize(u_x);
    vec4 v00 = at(u_x, xInv, lo.y * C4 + c4, base + lo.x);
    vec4 v01 = at(u_x, xInv, hi.y * C4 + c4, base + lo.x);
    vec4 v10 = at(u_x, xInv, lo.y * C4 + c4, base + hi.x);
    vec4 v11 = at(u_x, xInv, hi.y * C4 + c4, base + hi.x);
    vec4 r = v00 * (1.0 - f.x) * (1.0 - f.y) + v10 * f.x * (1.0 - f.y) + v01 * (1.0 - f.x) * f.y + v11 * f.x * f.y;
    o_value = finish(r, c4, u_outShape.w);
}
