// Copies an RGBA texture (placeholder so the table is never empty).
uniform highp sampler2D u_src;
out vec4 o_color;
void main() { o_color = texelFetch(u_src, ivec2(gl_FragCoord.xy), 0); }
