// A rendered crop into its CropAtlas slot: item u_item of an RGBA crop target (items of SIDE×SIDE
// stacked in y, FaceCropRenderer's layout) → R32F texels in the trainer's image layout (x·CIN + c, y),
// the slot starting at u_origin. Defines: CIN SIDE.
#include "train/common.glsl"
uniform highp sampler2D u_crop;
uniform int u_item;
uniform ivec2 u_origin;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy) - u_origin;
    vec4 v = texelFetch(u_crop, ivec2(p.x / CIN, u_item * SIDE + p.y), 0);
    int c = p.x % CIN;
    store(c == 0 ? v.r : c == 1 ? v.g : v.b);
}
