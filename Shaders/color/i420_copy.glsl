// I420 passthrough: 8-bit 4:2:0 planes -> the packed I420 target, unchanged (no colour maths).
// Used when no stage draws into the frame: the frame still goes through the GL context, but
// converting to RGBA and back would only cost time and rounding.
// Each plane was uploaded as an RGBA8 texture holding 4 consecutive samples per texel (width
// ceil(planeWidth/4)); each target texel is 4 consecutive bytes of the I420 buffer (see
// i420_layout.glsl), so one fetch fills one texel. Bytes past a plane's width are copied from the
// decoder's row padding (the encoder never reads them).
uniform sampler2D u_yq;
uniform sampler2D u_uq;
uniform sampler2D u_vq;
uniform int u_height;        // H
uniform int u_stride;        // S
uniform int u_uOffset;       // S*H
uniform int u_vOffset;       // S*H + S/2*ceil(H/2)
uniform int u_chromaRows;    // ceil(H/2)
uniform ivec3 u_texelWidth;  // texels per row of the Y, U, V textures
out vec4 o_bytes;

void main() {
    ivec2 t = ivec2(gl_FragCoord.xy);
    if (t.y < u_height) {
        o_bytes = t.x < u_texelWidth.x ? texelFetch(u_yq, t, 0) : vec4(0.0);
        return;
    }
    int offset = t.y * u_stride + 4 * t.x;
    bool isV = offset >= u_vOffset;
    int local = offset - (isV ? u_vOffset : u_uOffset);
    int halfStride = u_stride / 2;
    int row = local / halfStride;
    int col = (local - row * halfStride) / 4;
    int width = isV ? u_texelWidth.z : u_texelWidth.y;
    if (row >= u_chromaRows || col >= width) { o_bytes = vec4(0.0); return; }
    o_bytes = isV ? texelFetch(u_vq, ivec2(col, row), 0) : texelFetch(u_uq, ivec2(col, row), 0);
}
