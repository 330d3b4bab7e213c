// Copies an RGBA texture texel for texel into the target (same size, no filtering).
uniform sampler2D u_src;
out vec4 o_color;
void main() { o_color = texelFetch(u_src, ivec2(gl_FragCoord.xy), 0); }
