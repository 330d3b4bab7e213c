// I420 packing, Y plane: drawn over the first H rows of the packed target. Each texel gets the
// Y codes of 4 consecutive pixels of one picture row (columns past the width become 0).
#include "color/i420_layout.glsl"
uniform vec4 u_yRow;  // Y code = dot(u_yRow.xyz, rgb) + u_yRow.w

void main() {
    ivec2 t = ivec2(PASS_XY);
    vec4 x = vec4(4 * t.x) + vec4(0.5, 1.5, 2.5, 3.5);  // pixel centres
    float v = PASS_XY.y * u_invSize.y;
    // NEAREST sampler: texture() at texel centres is exact and cheaper than texelFetch on llvmpipe.
    mat4x3 rgb = mat4x3(texture(u_frame, vec2(x.x * u_invSize.x, v)).rgb,
                        texture(u_frame, vec2(x.y * u_invSize.x, v)).rgb,
                        texture(u_frame, vec2(x.z * u_invSize.x, v)).rgb,
                        texture(u_frame, vec2(x.w * u_invSize.x, v)).rgb);
    vec4 codes = u_yRow.xyz * rgb + u_yRow.w;
    o_bytes = packBytes(codes * vec4(lessThan(x, vec4(u_size.x))));
}
