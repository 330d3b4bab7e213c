// Shared helpers of every nn/ pass (included, never compiled alone).
// Tensor layout (see Sources/FaceFXNeural/GPU/TensorLayout.swift): a tensor is viewed as
// [R][N][H][W][C] (R = batch replicas, shape left-padded to rank 4), channels packed by 4
// into RGBA texels; texel x = w * C4 + c / 4, y = (r * N + n) * H + h, component c % 4,
// C4 = ceil(C / 4). Channel lanes past C hold 0. Shapes arrive as ivec4 (N, H, W, C) per
// replica; "rows" = R * N * H.
// MAXV (defined by the engine) is the largest finite magnitude the storage format holds:
// every pass clamps its result to it, so fp16 storage never receives Inf.
#ifndef MAXV
#define MAXV 65504.0
#endif

#include "common/pass.glsl"
#ifndef STORE_FP16
#define STORE_FP16 0
#endif

int slices(int c) { return (c + 3) >> 2; }

// Texel (x, y) of t read with texture() at its centre; `inv` = 1 / textureSize(t, 0). Exact with
// the NEAREST filtering of every tensor texture, and much cheaper than texelFetch on llvmpipe
// (no per-lane bounds check / lod select): 106 -> 77 ms CPU for the landmark net. Coordinates
// must be inside the texture (callers skip out-of-range taps themselves).
vec2 invSize(sampler2D t) { return 1.0 / vec2(textureSize(t, 0)); }
// NN_TEXEL_FETCH (hardware GPUs, see NeuralEngine.texelFetch): texelFetch instead.
#ifndef NN_TEXEL_FETCH
#define NN_TEXEL_FETCH 0
#endif
#if NN_TEXEL_FETCH
vec4 at(sampler2D t, vec2 inv, int x, int y) { return texelFetch(t, ivec2(x, y), 0); }
#else
vec4 at(sampler2D t, vec2 inv, int x, int y) { return texture(t, (vec2(float(x), float(y)) + 0.5) * inv); }
#endif

// The 4 channels of a texel at (w, c4) in row `row` of a tensor with `C` channels.
vec4 fetchTexel(sampler2D t, int C, int row, int w, int c4) {
    return at(t, invSize(t), w * slices(C) + c4, row);
}

// One element of tensor t (shape s per replica) at replica r and index i = (n, h, w, c).
float fetchElem(sampler2D t, ivec4 s, int r, ivec4 i) {
    vec4 v = at(t, invSize(t), i.z * slices(s.w) + (i.w >> 2), (r * s.x + i.x) * s.y + i.y);
    return v[i.w & 3];
}

// Rounds to the nearest fp16 value, ties to even (11 significant bits) in the fp32 bit pattern.
// Some drivers (Mesa llvmpipe) truncate when storing into RGBA16F: the bias toward zero piles up
// over a hundred layers; with the value already representable, the store is exact.
vec4 roundToHalf(vec4 v) {
    uvec4 u = floatBitsToUint(v);
    u += uvec4(0x0FFFu) + ((u >> 13u) & uvec4(1u));
    return uintBitsToFloat(u & uvec4(0xFFFFE000u));
}

// A convolution's residual texel for output slice oc4 of pixel (nb, oy, ox); r has shape rs (per replica). It may
// have fewer channels than the output (a folded channel PAD): 0 past them. RESIDUAL 2: the residual is the 2x2/2
// max pool of r, computed here instead of in a pass of its own (CompiledNetwork's fusion F), rounded as the
// pool's fp16 texture would have stored it where it would have been one (RES_POOL_FP16), so the values match.
#ifndef RESIDUAL
#define RESIDUAL 0
#endif
#ifndef RES_POOL_FP16
#define RES_POOL_FP16 0
#endif
vec4 residualTexel(sampler2D r, ivec4 rs, int nb, int oy, int ox, int oc4) {
    int S = slices(rs.w);
    if (oc4 >= S) return vec4(0.0);
    vec2 inv = invSize(r);
#if RESIDUAL == 2
    int x = 2 * ox * S + oc4, y = nb * rs.y + 2 * oy;
    vec4 m = max(max(at(r, inv, x, y), at(r, inv, x + S, y)), max(at(r, inv, x, y + 1), at(r, inv, x + S, y + 1)));
#if RES_POOL_FP16
    m = roundToHalf(m);
#endif
    return m;
#else
    return at(r, inv, ox * S + oc4, nb * rs.y + oy);
#endif
}

// Zeroes the lanes past the last channel and clamps to the storage range (no Inf in fp16);
// STORE_FP16 (set when the target is RGBA16F) rounds to nearest first.
vec4 finish(vec4 v, int c4, int C) {
    bvec4 inside = lessThan(ivec4(c4 * 4) + ivec4(0, 1, 2, 3), ivec4(C));
    v = clamp(v, vec4(-MAXV), vec4(MAXV));
#if STORE_FP16
    v = roundToHalf(v);
#endif
    return mix(vec4(0.0), v, inside);
}

// The output texel of this fragment: replica-and-batch row split into (nb, h), and (w, c4).
// nb = r * N + n.
void outTexel(ivec4 s, out int nb, out int h, out int w, out int c4) {
    ivec2 p = ivec2(PASS_XY);
    int C4 = slices(s.w);
    w = p.x / C4;
    c4 = p.x - w * C4;
    nb = p.y / s.y;
    h = p.y - nb * s.y;
}

// Linear element index within one replica <-> 4-D index, row-major over s.
int linearIndex(ivec4 s, ivec4 i) { return ((i.x * s.y + i.y) * s.z + i.z) * s.w + i.w; }
ivec4 unlinear(ivec4 s, int l) {
    ivec4 i;
    i.w = l % s.w; l /= s.w;
    i.z = l % s.z; l /= s.z;
    i.y = l % s.y; l /= s.y;
    i.x = l;
    return i;
}

// Numerically safe activations: finite for every finite input.
float sigmoidStable(float x) {
    float e = exp(-abs(clamp(x, -80.0, 80.0)));
    float s = 1.0 / (1.0 + e);
    return x >= 0.0 ? s : e * s;
}
float tanhStable(float x) {
    float t = exp(-2.0 * abs(clamp(x, -40.0, 40.0)));
    float y = (1.0 - t) / (1.0 + t);
    return x >= 0.0 ? y : -y;
}
vec4 sigmoid4(vec4 x) { return vec4(sigmoidStable(x.x), sigmoidStable(x.y), sigmoidStable(x.z), sigmoidStable(x.w)); }
vec4 tanh4(vec4 x) { return vec4(tanhStable(x.x), tanhStable(x.y), tanhStable(x.z), tanhStable(x.w)); }

// Activation `code` (ActivationCode in GPU/OpKernel.swift): 0 none, 1 relu, 2 relu_n1_to_1, 3 relu6, 4 tanh,
// 5 prelu (alpha per channel, passed in), 6 logistic. Called with a constant code, so it compiles to that one.
vec4 activation(int code, vec4 x, vec4 alpha) {
    if (code == 1) return max(x, vec4(0.0));
    if (code == 2) return clamp(x, vec4(-1.0), vec4(1.0));
    if (code == 3) return clamp(x, vec4(0.0), vec4(6.0));
    if (code == 4) return tanh4(x);
    if (code == 5) return mix(alpha * x, x, greaterThanEqual(x, vec4(0.0)));
    if (code == 6) return sigmoid4(x);
    return x;
}

// The pass's fused activation (ACT).
#ifndef ACT
#define ACT 0
#endif
vec4 activate(vec4 x, vec4 alpha) { return activation(ACT, x, alpha); }
