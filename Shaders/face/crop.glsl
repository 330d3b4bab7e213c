// Network input crops: resamples a batch of affine-mapped regions of the RGBA8 frame texture
// into one float tensor texture (detector tiles, landmark ROIs, emotion boxes), one draw per batch.
//
// Output layout = FaceFXNeural's NHWC tensor layout for C <= 4: item n (0-based) occupies rows
// n*u_itemHeight ... n*u_itemHeight + H - 1; tensor element [n, v, u, c] is texel
// (u, n*u_itemHeight + v), lane c (v = 0 is the crop's top row = texture row 0 of the item).
// CHANNELS 3: RGB in lanes 0-2, lane 3 = 0. CHANNELS 1: grey (BT.601 luma weights, as OpenCV's
// BGR2GRAY) in lane 0, lanes 1-3 = 0. Value written = sample (0..1) * u_valueMap.x + u_valueMap.y.
//
// Sampling (MediaPipe ImageToTensorCalculator / OpenCV warpAffine convention): output pixel
// index (u, v) reads the frame at pixel-index position A_n * (u, v, 1), where frame pixel (x, y)
// sits at integer (x, y) and y = 0 is the image's top row (= frame texture row 0). Bilinear
// over the four neighbours with exact fp32 weights (texelFetch, no sampler state involved);
// BORDER_ZERO 1: taps outside the frame read 0 (letterbox padding); 0: taps are clamped to the
// edge (replicate border).
//
// u_params (RGBA32F, 2 x items): texel (0, n) = (a, b, tx, 0), texel (1, n) = (c, d, ty, 0) of
// A_n = [a b tx; c d ty].
uniform sampler2D u_frame;
uniform sampler2D u_params;
uniform int u_itemHeight;
uniform vec2 u_valueMap;
#include "common/pass.glsl"  // o_value at PASS_XY; fragment or compute pass (FaceCropRenderer)

vec3 tap(ivec2 p, ivec2 size) {
#if BORDER_ZERO
    if (any(lessThan(p, ivec2(0))) || any(greaterThanEqual(p, size))) return vec3(0.0);
    return texelFetch(u_frame, p, 0).rgb;
#else
    return texelFetch(u_frame, clamp(p, ivec2(0), size - 1), 0).rgb;
#endif
}

void main() {
    ivec2 o = ivec2(PASS_XY);
    int n = o.y / u_itemHeight;
    vec2 uv = vec2(float(o.x), float(o.y - n * u_itemHeight));
    vec4 r0 = texelFetch(u_params, ivec2(0, n), 0);
    vec4 r1 = texelFetch(u_params, ivec2(1, n), 0);
    vec2 s = vec2(dot(r0.xy, uv) + r0.z, dot(r1.xy, uv) + r1.z);
    vec2 f0 = floor(s);
    vec2 f = s - f0;
    ivec2 p = ivec2(f0);
    ivec2 size = textureSize(u_frame, 0);
    vec3 top = mix(tap(p, size), tap(p + ivec2(1, 0), size), f.x);
    vec3 bottom = mix(tap(p + ivec2(0, 1), size), tap(p + ivec2(1, 1), size), f.x);
    vec3 c = mix(top, bottom, f.y);
#if CHANNELS == 1
    o_value = vec4(dot(c, vec3(0.299, 0.587, 0.114)) * u_valueMap.x + u_valueMap.y, 0.0, 0.0, 0.0);
#else
    o_value = vec4(c * u_valueMap.x + u_valueMap.y, 0.0);
#endif
}
