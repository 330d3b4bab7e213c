// `facefx-gpubench floor`: the fixed cost of one network pass on this GPU, without any network: N
// dependent passes (each reads the texture the previous one wrote, as layers do), as compute dispatches
// with the engine's barrier after each and as fragment draws, for a few sizes; and N independent
// dispatches with one barrier at the end (what a pass costs when nothing waits for it). Mean µs per pass
// over N = 200, best of 5, timed with glFinish at both ends.
import CGLES
import FaceFXGPU
import Foundation

func floorBench(_ o: Options) throws {
    let c = try openContext(o)
    let cache = ProgramCache(context: c)
    let body = """
    uniform sampler2D u_src;
    out vec4 o_value;
    void main() {
        ivec2 p = ivec2(gl_FragCoord.xy);
        o_value = texelFetch(u_src, p, 0) * 0.5 + 1.0;
    }
    """
    let computeBody = """
    #include "common/pass.glsl"
    uniform sampler2D u_src;
    void main() {
        ivec2 p = ivec2(PASS_XY);
        o_value = texelFetch(u_src, p, 0) * 0.5 + 1.0;
    }
    """
    let n = 200
    print("renderer: \(c.renderer) | \(c.version)")
    print("\(n) passes per run, best of 5; µs per pass\n")
    print("| texels per pass | compute, dependent (barrier each) | compute, independent (one barrier) | fragment, dependent |")
    print("|---:|---:|---:|---:|")
    do {
        let frag = try cache.program(key: "floor-frag", vertexBody: ProgramCache.fullscreenVertexBody, fragmentBody: body)
        let expanded = computeBody.replacingOccurrences(of: "#include \"common/pass.glsl\"", with: ProgramCache.librarySource("common/pass.glsl") ?? "")
        let comp = try cache.computeProgram(key: "floor-compute", passBody: expanded, defines: [:], imageFormat: .rgba16f)
        let runner = PassRunner(context: c)
        for side in [1, 16, 64, 256] {
            let a = try Texture(context: c, width: side, height: side, format: .rgba16f)
            let b = try Texture(context: c, width: side, height: side, format: .rgba16f)
            let fa = try Framebuffer(context: c, color: a), fb = try Framebuffer(context: c, color: b)
            func best(_ body: () throws -> Void) rethrows -> Double {
                var out = Double.infinity
                for _ in 0..<5 {
                    c.finish()
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try body()
                    c.finish()
                    out = min(out, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(n))
                }
                return out
            }
            let dep = try best {
                for i in 0..<n {
                    let (src, dst) = i % 2 == 0 ? (a, b) : (b, a)
                    try runner.dispatch(program: comp, target: dst, inputs: [PassInput("u_src", src)])
                }
            }
            let indep = try best {
                try c.sync { () throws in
                    glUseProgram(comp.handle)
                    glActiveTexture(GLenum(GL_TEXTURE0)); glBindTexture(GLenum(GL_TEXTURE_2D), a.handle)
                    comp.set("u_src", .int(0))
                    comp.set("u_passRegion", .ivec4(0, 0, Int32(side), Int32(side)))
                    glBindImageTexture(0, b.handle, 0, GLboolean(GL_FALSE), 0, GLenum(GL_WRITE_ONLY), b.format.internalFormat)
                    let g = c.tuning.computeGroup
                    for _ in 0..<n { glDispatchCompute(GLuint((side + g.x - 1) / g.x), GLuint((side + g.y - 1) / g.y), 1) }
                    glMemoryBarrier(GLbitfield(GL_ALL_BARRIER_BITS))
                }
            }
            let fr = try best {
                for i in 0..<n {
                    let (src, dst) = i % 2 == 0 ? (a, fb) : (b, fa)
                    try runner.drawFullscreen(program: frag, target: dst, inputs: [PassInput("u_src", src)])
                }
            }
            print(String(format: "| %d | %.1f | %.1f | %.1f |", side * side, dep, indep, fr))
        }
    } catch {
        throw BenchError(message: "\(error)", usage: false)
    }
}
