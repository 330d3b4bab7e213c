// Full-screen pass vertex shader: one triangle covering the viewport, built from gl_VertexID
// (no attributes, drawn with an empty VAO). v_uv is 0..1 over the viewport (y up, as GL).
out vec2 v_uv;
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    v_uv = p;
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
