// `facefx-gpubench proto [--batch N]`: micro-benchmarks of conv kernel variants on the landmark net's hot
// shapes (128x128, 1x1 8->16 + residual + PReLU; depthwise 3x3 on 8 channels): GL-thread CPU ms, best of 7
// (run with LP_NUM_THREADS=0). Raw GL on purpose (layouts the engine does not have). Measured on llvmpipe:
// current kernel 1.15 ms; all 4 output slices per fragment through MRT with weights in a uniform array
// 1.15-1.22 ms (uniforms reloaded per fragment block), from a texture 1.48 ms; with the weights as shader
// literals 0.27 ms -> GPU/BakedConv.swift.
import CGLES
import FaceFXGPU
import Foundation

private let vert = """
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"""

func proto(_ o: Options) throws {
    let c = try openContext(o)
    let cache = ProgramCache(context: c)
    let W = 128, H = 128 * (o.batches.first ?? 1), IC = 8, OC = 16
    let IC4 = IC / 4, OC4 = OC / 4
    func tex(_ w: Int, _ h: Int, _ f: TextureFormat = .rgba16f) -> Texture { try! Texture(context: c, width: w, height: h, format: f) }
    let xStd = tex(W * IC4, H)
    let res = tex(W * OC4, H)
    let wTex = tex(IC4 * 4 + 2, OC4, .rgba32f)
    let outStd = tex(W * OC4, H)
    let outPl = (0..<OC4).map { _ in tex(W, H) }
    let xArr: GLuint = c.sync {
        var t: GLuint = 0
        glGenTextures(1, &t)
        glBindTexture(GLenum(GL_TEXTURE_2D_ARRAY), t)
        glTexStorage3D(GLenum(GL_TEXTURE_2D_ARRAY), 1, GLenum(GL_RGBA16F), GLsizei(W), GLsizei(H), GLsizei(IC4))
        glTexParameteri(GLenum(GL_TEXTURE_2D_ARRAY), GLenum(GL_TEXTURE_MIN_FILTER), GL_NEAREST)
        glTexParameteri(GLenum(GL_TEXTURE_2D_ARRAY), GLenum(GL_TEXTURE_MAG_FILTER), GL_NEAREST)
        return t
    }
    func fb(_ texs: [GLuint], layered: GLuint? = nil, layers: Int = 0) -> GLuint {
        c.sync {
            var f: GLuint = 0
            glGenFramebuffers(1, &f)
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), f)
            var bufs: [GLenum] = []
            if let a = layered {
                for k in 0..<layers { glFramebufferTextureLayer(GLenum(GL_FRAMEBUFFER), GLenum(GL_COLOR_ATTACHMENT0 + Int32(k)), a, 0, GLint(k)); bufs.append(GLenum(GL_COLOR_ATTACHMENT0 + Int32(k))) }
            } else {
                for (k, t) in texs.enumerated() { glFramebufferTexture2D(GLenum(GL_FRAMEBUFFER), GLenum(GL_COLOR_ATTACHMENT0 + Int32(k)), GLenum(GL_TEXTURE_2D), t, 0); bufs.append(GLenum(GL_COLOR_ATTACHMENT0 + Int32(k))); let e = glGetError(); if e != 0 { print("attach \(k) tex \(t) err \(e)") } }
                var mx: GLint = 0; glGetIntegerv(GLenum(GL_MAX_COLOR_ATTACHMENTS), &mx); if texs.count > 1 { print("max attachments \(mx)") }
            }
            glDrawBuffers(GLsizei(bufs.count), bufs)
            let st = glCheckFramebufferStatus(GLenum(GL_FRAMEBUFFER)); if st != GLenum(GL_FRAMEBUFFER_COMPLETE) { print("fb incomplete \(String(st, radix: 16)) err \(glGetError())") }
            return f
        }
    }
    let fbStd = fb([outStd.handle])
    let fbPl = fb(outPl.map(\.handle))
    // 8-channel planar output for the depthwise variant
    let dwPl = (0..<IC4).map { _ in tex(W, H) }
    let fbDwPl = fb(dwPl.map(\.handle))
    let dwStd = tex(W * IC4, H)
    let fbDwStd = fb([dwStd.handle])
    let vao: GLuint = c.sync { var v: GLuint = 0; glGenVertexArrays(1, &v); return v }
    var rng = UInt64(1)
    func rnd(_ n: Int) -> [Float] { (0..<n).map { _ in rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Float(rng >> 40) / Float(1 << 24) - 0.5 } }
    try! xStd.upload(floats: rnd(W * IC4 * H * 4))
    try! res.upload(floats: rnd(W * OC4 * H * 4))
    try! wTex.upload(floats: rnd((IC4 * 4 + 2) * OC4 * 4))

    func run(_ name: String, _ fs: String, defines: [String: String], target: GLuint, vw: Int, vh: Int,
             textures: [(String, GLuint, GLenum)], uniforms: [String: UniformValue] = [:]) {
        let p: Program
        do { p = try cache.program(key: name, vertexBody: vert, fragmentBody: fs, defines: defines) } catch { print("\(name): \(error)"); return }
        for (k, v) in uniforms { p.set(k, v) }
        let ms: Double = c.sync {
            func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6 }
            func draw() {
                glBindFramebuffer(GLenum(GL_DRAW_FRAMEBUFFER), target)
                glViewport(0, 0, GLsizei(vw), GLsizei(vh))
                glUseProgram(p.handle)
                for (u, (n, t, kind)) in textures.enumerated() {
                    glActiveTexture(GLenum(GL_TEXTURE0 + Int32(u))); glBindTexture(kind, t)
                    glUniform1i(glGetUniformLocation(p.handle, n), GLint(u))
                }
                glBindVertexArray(vao); glDrawArrays(GLenum(GL_TRIANGLES), 0, 3); glBindVertexArray(0)
            }
            draw(); glFinish()
            var best = 1e9
            for _ in 0..<7 { let t0 = now(); draw(); glFinish(); best = min(best, now() - t0) }
            return best
        }
        print(String(format: "%-48@ %7.3f ms", name, ms))
    }
    let T2 = GLenum(GL_TEXTURE_2D), TA = GLenum(GL_TEXTURE_2D_ARRAY)
    // A: current-style 1x1 conv (texture weights, one texel per fragment) with residual + prelu
    let fsA = """
    uniform sampler2D u_x; uniform sampler2D u_w; uniform sampler2D u_res;
    out vec4 o_value;
    void main() {
        ivec2 p = ivec2(gl_FragCoord.xy);
        int ox = p.x / OC4; int oc4 = p.x - ox * OC4; int row = p.y;
        vec2 xInv = 1.0 / vec2(textureSize(u_x, 0)), wInv = 1.0 / vec2(textureSize(u_w, 0));
        float wv = (float(oc4) + 0.5) * wInv.y;
        vec4 acc = texture(u_w, vec2((float(IC4 * 4) + 0.5) * wInv.x, wv));
        float xv = (float(row) + 0.5) * xInv.y;
        for (int i = 0; i < IC4; ++i) {
            vec4 v = texture(u_x, vec2((float(ox * IC4 + i) + 0.5) * xInv.x, xv));
            float u = (float(4 * i) + 0.5) * wInv.x;
            mat4 m = mat4(texture(u_w, vec2(u, wv)), texture(u_w, vec2(u + wInv.x, wv)), texture(u_w, vec2(u + 2.0 * wInv.x, wv)), texture(u_w, vec2(u + 3.0 * wInv.x, wv)));
            acc += m * v;
        }
        vec2 rInv = 1.0 / vec2(textureSize(u_res, 0));
        acc += texture(u_res, (vec2(p) + 0.5) * rInv);
        vec4 alpha = texture(u_w, vec2((float(IC4 * 4 + 1) + 0.5) * wInv.x, wv));
        o_value = mix(alpha * acc, acc, greaterThanEqual(acc, vec4(0.0)));
    }
    """
    let d = ["IC4": "\(IC4)", "OC4": "\(OC4)"]
    run("A conv1x1 std (texture w) 8->16", fsA, defines: d, target: fbStd, vw: W * OC4, vh: H,
        textures: [("u_x", xStd.handle, T2), ("u_w", wTex.handle, T2), ("u_res", res.handle, T2)])
    // B: per pixel, all OC4 slices, weights as uniform vec4 array, MRT planar output, std input + residual (std)
    func fsB(weightsFromTexture: Bool, planarIn: Bool) -> String {
        var s = planarIn ? "uniform sampler2DArray u_x;\n" : "uniform sampler2D u_x;\n"
        s += "uniform sampler2D u_res; uniform sampler2D u_w;\nuniform vec4 u_wv[(IC4 * 4 + 2) * OC4];\n"
        for k in 0..<OC4 { s += "layout(location = \(k)) out vec4 o_\(k);\n" }
        s += """
        vec4 W_(int oc4, int t) {
        #if WTEX
            return texelFetch(u_w, ivec2(t, oc4), 0);
        #else
            return u_wv[oc4 * (IC4 * 4 + 2) + t];
        #endif
        }
        void main() {
            ivec2 p = ivec2(gl_FragCoord.xy);
            vec4 acc[OC4];
            for (int o = 0; o < OC4; ++o) acc[o] = W_(o, IC4 * 4);
        #if PLANAR_IN
            vec2 xInv = 1.0 / vec2(textureSize(u_x, 0).xy);
            vec2 uv = (vec2(p) + 0.5) * xInv;
        #else
            vec2 xInv = 1.0 / vec2(textureSize(u_x, 0));
            float xv = (float(p.y) + 0.5) * xInv.y;
        #endif
            for (int i = 0; i < IC4; ++i) {
        #if PLANAR_IN
                vec4 v = texture(u_x, vec3(uv, float(i)));
        #else
                vec4 v = texture(u_x, vec2((float(p.x * IC4 + i) + 0.5) * xInv.x, xv));
        #endif
                for (int o = 0; o < OC4; ++o)
                    acc[o] += mat4(W_(o, 4 * i), W_(o, 4 * i + 1), W_(o, 4 * i + 2), W_(o, 4 * i + 3)) * v;
            }
            vec2 rInv = 1.0 / vec2(textureSize(u_res, 0));
            float rv = (float(p.y) + 0.5) * rInv.y;
            for (int o = 0; o < OC4; ++o) {
                acc[o] += texture(u_res, vec2((float(p.x * OC4 + o) + 0.5) * rInv.x, rv));
                vec4 alpha = W_(o, IC4 * 4 + 1);
                acc[o] = mix(alpha * acc[o], acc[o], greaterThanEqual(acc[o], vec4(0.0)));
            }

        """
        for k in 0..<OC4 { s += "    o_\(k) = acc[\(k)];\n" }
        s += "}\n"
        return s
    }
    var dB = d; dB["WTEX"] = "0"; dB["PLANAR_IN"] = "0"
    run("B conv1x1 MRT planar-out, uniform w, std in", fsB(weightsFromTexture: false, planarIn: false), defines: dB, target: fbPl, vw: W, vh: H,
        textures: [("u_x", xStd.handle, T2), ("u_res", res.handle, T2), ("u_w", wTex.handle, T2)], uniforms: ["u_wv": .vec4Array(rnd((IC4 * 4 + 2) * OC4 * 4))])
    dB["WTEX"] = "1"
    run("C conv1x1 MRT planar-out, texelFetch w, std in", fsB(weightsFromTexture: true, planarIn: false), defines: dB, target: fbPl, vw: W, vh: H,
        textures: [("u_x", xStd.handle, T2), ("u_res", res.handle, T2), ("u_w", wTex.handle, T2)])
    dB["WTEX"] = "0"; dB["PLANAR_IN"] = "1"
    run("D conv1x1 MRT planar-out, uniform w, planar in", fsB(weightsFromTexture: false, planarIn: true), defines: dB, target: fbPl, vw: W, vh: H,
        textures: [("u_x", xArr, TA), ("u_res", res.handle, T2), ("u_w", wTex.handle, T2)], uniforms: ["u_wv": .vec4Array(rnd((IC4 * 4 + 2) * OC4 * 4))])
    // Depthwise 3x3 8ch: current style vs per-pixel all slices, uniform weights
    let fsDwA = """
    uniform sampler2D u_x; uniform sampler2D u_w;
    out vec4 o_value;
    void main() {
        ivec2 p = ivec2(gl_FragCoord.xy);
        int ox = p.x / IC4; int c4 = p.x - ox * IC4;
        vec2 xInv = 1.0 / vec2(textureSize(u_x, 0)), wInv = 1.0 / vec2(textureSize(u_w, 0));
        vec4 acc = texture(u_w, (vec2(9.0, float(c4)) + 0.5) * wInv);
        int W = textureSize(u_x, 0).x / IC4, H = textureSize(u_x, 0).y;
        for (int ky = 0; ky < 3; ++ky) { int iy = p.y + ky - 1; if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < 3; ++kx) { int ix = ox + kx - 1; if (ix < 0 || ix >= W) continue;
                acc += texture(u_w, (vec2(float(ky * 3 + kx), float(c4)) + 0.5) * wInv) * texture(u_x, (vec2(float(ix * IC4 + c4), float(iy)) + 0.5) * xInv);
            } }
        o_value = acc;
    }
    """
    run("E dw3x3 std (texture w) 8ch", fsDwA, defines: d, target: fbDwStd, vw: W * IC4, vh: H,
        textures: [("u_x", xStd.handle, T2), ("u_w", wTex.handle, T2)])
    func fsDw(planarIn: Bool) -> String {
        var s = planarIn ? "uniform sampler2DArray u_x;\n" : "uniform sampler2D u_x;\n"
        s += "uniform vec4 u_wv[10 * IC4];\n"
        for k in 0..<IC4 { s += "layout(location = \(k)) out vec4 o_\(k);\n" }
        s += """
        void main() {
            ivec2 p = ivec2(gl_FragCoord.xy);
            vec4 acc[IC4];
            for (int c = 0; c < IC4; ++c) acc[c] = u_wv[c * 10 + 9];
        #if PLANAR_IN
            ivec2 sz = textureSize(u_x, 0).xy; int W = sz.x, H = sz.y;
        #else
            ivec2 sz = textureSize(u_x, 0); int W = sz.x / IC4, H = sz.y;
        #endif
            vec2 xInv = 1.0 / vec2(sz);
            for (int ky = 0; ky < 3; ++ky) { int iy = p.y + ky - 1; if (iy < 0 || iy >= H) continue;
                for (int kx = 0; kx < 3; ++kx) { int ix = p.x + kx - 1; if (ix < 0 || ix >= W) continue;
                    for (int c = 0; c < IC4; ++c) {
        #if PLANAR_IN
                        vec4 v = texture(u_x, vec3((vec2(float(ix), float(iy)) + 0.5) * xInv, float(c)));
        #else
                        vec4 v = texture(u_x, (vec2(float(ix * IC4 + c), float(iy)) + 0.5) * xInv);
        #endif
                        acc[c] += u_wv[c * 10 + ky * 3 + kx] * v;
                    }
                } }

        """
        for k in 0..<IC4 { s += "    o_\(k) = acc[\(k)];\n" }
        s += "}\n"
        return s
    }
    var dD = d; dD["PLANAR_IN"] = "0"
    run("F dw3x3 MRT planar-out, uniform w, std in", fsDw(planarIn: false), defines: dD, target: fbDwPl, vw: W, vh: H,
        textures: [("u_x", xStd.handle, T2)], uniforms: ["u_wv": .vec4Array(rnd(40 * IC4))])
    dD["PLANAR_IN"] = "1"
    run("G dw3x3 MRT planar-out, uniform w, planar in", fsDw(planarIn: true), defines: dD, target: fbDwPl, vw: W, vh: H,
        textures: [("u_x", xArr, TA)], uniforms: ["u_wv": .vec4Array(rnd(40 * IC4))])
    run("Z1 trivial std 512x128", "out vec4 o_value; void main() { o_value = gl_FragCoord.xyxy; }", defines: d, target: fbStd, vw: W * OC4, vh: H, textures: [])
    run("Z2 trivial MRT4 128x128", "layout(location=0) out vec4 o0; layout(location=1) out vec4 o1; layout(location=2) out vec4 o2; layout(location=3) out vec4 o3; void main() { o0 = gl_FragCoord.xyxy; o1 = o0 + 1.0; o2 = o0 + 2.0; o3 = o0 + 3.0; }", defines: d, target: fbPl, vw: W, vh: H, textures: [])
    run("Z3 one fetch std 512x128", "uniform sampler2D u_x; out vec4 o_value; void main() { o_value = texture(u_x, gl_FragCoord.xy / vec2(256.0, 128.0)); }", defines: d, target: fbStd, vw: W * OC4, vh: H, textures: [("u_x", xStd.handle, T2)])
    run("Z4 8 fetch std 512x128", "uniform sampler2D u_x; out vec4 o_value; void main() { vec4 a = vec4(0.0); for (int i = 0; i < 8; ++i) a += texture(u_x, (gl_FragCoord.xy + vec2(float(i), 0.0)) / vec2(256.0, 128.0)); o_value = a; }", defines: d, target: fbStd, vw: W * OC4, vh: H, textures: [("u_x", xStd.handle, T2)])
    run("Z5 8 texelFetch std 512x128", "uniform sampler2D u_x; out vec4 o_value; void main() { vec4 a = vec4(0.0); for (int i = 0; i < 8; ++i) a += texelFetch(u_x, ivec2(gl_FragCoord.xy) / ivec2(2, 1) + ivec2(i, 0), 0); o_value = a; }", defines: d, target: fbStd, vw: W * OC4, vh: H, textures: [("u_x", xStd.handle, T2)])
    // unrolled constant-index uniform weights
    var g = "uniform sampler2D u_x; uniform sampler2D u_res; uniform vec4 u_wv[(IC4 * 4 + 2) * OC4];\n"
    for k in 0..<OC4 { g += "layout(location = \(k)) out vec4 o_\(k);\n" }
    g += "void main() { ivec2 p = ivec2(gl_FragCoord.xy); vec2 xInv = 1.0 / vec2(textureSize(u_x, 0)); float xv = (float(p.y) + 0.5) * xInv.y;\n"
    for i in 0..<IC4 { g += "vec4 v\(i) = texture(u_x, vec2((float(p.x * IC4 + \(i)) + 0.5) * xInv.x, xv));\n" }
    g += "vec2 rInv = 1.0 / vec2(textureSize(u_res, 0)); float rv = (float(p.y) + 0.5) * rInv.y;\n"
    for o in 0..<OC4 {
        let b = o * (IC4 * 4 + 2)
        g += "vec4 a\(o) = u_wv[\(b + IC4 * 4)] + texture(u_res, vec2((float(p.x * OC4 + \(o)) + 0.5) * rInv.x, rv));\n"
        for i in 0..<IC4 { g += "a\(o) += mat4(u_wv[\(b + 4*i)], u_wv[\(b + 4*i+1)], u_wv[\(b + 4*i+2)], u_wv[\(b + 4*i+3)]) * v\(i);\n" }
        g += "o_\(o) = mix(u_wv[\(b + IC4 * 4 + 1)] * a\(o), a\(o), greaterThanEqual(a\(o), vec4(0.0)));\n"
    }
    g += "}\n"
    run("H conv1x1 MRT unrolled const uniform w", g, defines: d, target: fbPl, vw: W, vh: H,
        textures: [("u_x", xStd.handle, T2), ("u_res", res.handle, T2)], uniforms: ["u_wv": .vec4Array(rnd((IC4 * 4 + 2) * OC4 * 4))])
    for variant in ["nores", "literal", "nomat"] {
        var g = "uniform sampler2D u_x; uniform sampler2D u_res; uniform vec4 u_wv[(IC4 * 4 + 2) * OC4];\n"
        let wl = rnd((IC4 * 4 + 2) * OC4 * 4)
        if variant == "literal" {
            g += "const vec4 K[\((IC4 * 4 + 2) * OC4)] = vec4[](" + (0..<((IC4 * 4 + 2) * OC4)).map { j in "vec4(" + (0..<4).map { String(format: "%.9g", wl[j * 4 + $0]) }.joined(separator: ",") + ")" }.joined(separator: ",") + ");\n"
            g += "#define WV K\n"
        } else { g += "#define WV u_wv\n" }
        for k in 0..<OC4 { g += "layout(location = \(k)) out vec4 o_\(k);\n" }
        g += "void main() { ivec2 p = ivec2(gl_FragCoord.xy); vec2 xInv = 1.0 / vec2(textureSize(u_x, 0)); float xv = (float(p.y) + 0.5) * xInv.y;\n"
        for i in 0..<IC4 { g += "vec4 v\(i) = texture(u_x, vec2((float(p.x * IC4 + \(i)) + 0.5) * xInv.x, xv));\n" }
        for o in 0..<OC4 {
            let b = o * (IC4 * 4 + 2)
            g += "vec4 a\(o) = WV[\(b + IC4 * 4)];\n"
            for i in 0..<IC4 {
                if variant == "nomat" { g += "a\(o) += WV[\(b + 4*i)] * v\(i);\n" }
                else { g += "a\(o) += mat4(WV[\(b + 4*i)], WV[\(b + 4*i+1)], WV[\(b + 4*i+2)], WV[\(b + 4*i+3)]) * v\(i);\n" }
            }
            g += "o_\(o) = a\(o);\n"
        }
        g += "}\n"
        run("H-\(variant)", g, defines: d, target: fbPl, vw: W, vh: H,
            textures: [("u_x", xStd.handle, T2), ("u_res", res.handle, T2)], uniforms: ["u_wv": .vec4Array(wl)])
    }
    withExtendedLifetime((xStd, res, wTex, outStd, outPl, dwPl, dwStd)) {}
}
