// One direction of a Gaussian blur on the small working texture (u_limit = texels in use, edges clamped).
uniform sampler2D u_src;
uniform ivec2 u_dir;
uniform float u_sigma;
uniform int u_radius;
uniform ivec2 u_limit;
out vec4 o_color;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 sum = vec4(0.0);
    float wsum = 0.0;
    for (int i = -u_radius; i <= u_radius; i++) {
        float w = exp(-0.5 * float(i * i) / (u_sigma * u_sigma));
        sum += w * texelFetch(u_src, clamp(p + u_dir * i, ivec2(0), u_limit - 1), 0);
        wsum += w;
    }
    o_color = sum / wsum;
}
