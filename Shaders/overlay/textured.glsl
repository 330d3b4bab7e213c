// Mesh and sprite elements: a premultiplied-alpha RGBA image (sRGB-encoded values, blended in that
// space like the video) scaled by the element's opacity and the vertex alpha.
uniform sampler2D u_image;
uniform float u_opacity;
in vec2 v_uv;
in float v_alpha;
out vec4 o_color;
void main() { o_color = texture(u_image, v_uv) * (u_opacity * v_alpha); }
