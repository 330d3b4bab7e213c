// Debug marks, antialiased analytically. u_mode 0: dots (v_uv in [-1,1]², u_edgePx = radius in px);
// 1: lines (v_uv.y in [-1,1] across, u_edgePx = half width); 2: digits of a 3×5 bitmap font
// (v_uv.x = 4·digit + column, v_uv.y = row from the top; column 3 is the gap between digits).
uniform int u_mode;
uniform float u_edgePx;
uniform vec4 u_color;      // premultiplied
uniform float u_opacity;
in vec2 v_uv;
in float v_alpha;
out vec4 o_color;
// Bit (row·3 + column) of each digit 0–9, rows top to bottom.
const int FONT[10] = int[10](0x7B6F, 0x749A, 0x73E7, 0x79E7, 0x49ED, 0x79CF, 0x7BCF, 0x4927, 0x7BEF, 0x79EF);
void main() {
    float a;
    if (u_mode == 0) {
        a = clamp((1.0 - length(v_uv)) * u_edgePx + 0.5, 0.0, 1.0);
    } else if (u_mode == 1) {
        a = clamp((1.0 - abs(v_uv.y)) * u_edgePx + 0.5, 0.0, 1.0);
    } else {
        int digit = clamp(int(floor(v_uv.x / 4.0)), 0, 9);
        int col = int(floor(mod(v_uv.x, 4.0)));
        int row = clamp(int(floor(v_uv.y)), 0, 4);
        a = col >= 3 ? 0.0 : float((FONT[digit] >> (row * 3 + col)) & 1);
    }
    o_color = u_color * (a * v_alpha * u_opacity);
}
