// A fixed list of passes (draws and compute dispatches) resolved once to GL names, uniform
// locations and texture units, then replayed with nothing but GL calls: the neural networks
// run 30-130 passes per inference, and on a hardware GPU the per-pass cost of resolving
// names, checking objects and binding redundant state (~10 µs on the H100's host) was larger
// than many of the passes themselves. Replay skips state that is already bound.
import CGLES

public final class PassSequence {
    public let context: GPUContext
    /// What the passes compute, e.g. a network and its batch (the GL thread's profile, `FACEFX_GL_PROFILE`).
    public var label: String?

    private struct Item {
        let program: Program
        let compute: Bool
        // draw
        let framebuffer: Framebuffer?
        let viewport: Viewport
        // dispatch
        let image: Texture?
        let groups: (x: GLuint, y: GLuint)
        let textures: [Texture]
        let uniforms: [(GLint, UniformValue)]
    }

    private var items: [Item] = []
    private var vao: GLuint = 0
    /// Units bound per program when recorded (a program's samplers keep their units).
    private var samplerUnits: [ObjectIdentifier: [GLint: Int32]] = [:]

    public init(context: GPUContext) {
        self.context = context
    }

    deinit {
        var v = vao
        if v != 0 { context.deleteLater(.vertexArray) { glDeleteVertexArrays(1, &v) } }
    }

    public var count: Int { items.count }

    /// Resolves sampler units: set once on the program when every pass using it agrees, else per pass.
    private func resolve(_ program: Program, _ inputs: [PassInput], _ uniforms: [String: UniformValue]) -> [(GLint, UniformValue)] {
        var out: [(GLint, UniformValue)] = []
        var units = samplerUnits[ObjectIdentifier(program), default: [:]]
        for (unit, input) in inputs.enumerated() {
            precondition(input.sampler == nil, "PassSequence: sampler objects are not supported (\(program.name))")
            let l = program.location(input.uniform)
            guard l >= 0 else { continue }
            if let u = units[l], u != Int32(unit) {
                out.append((l, .int(Int32(unit))))
            } else if units[l] == nil {
                units[l] = Int32(unit)
                program.set(location: l, .int(Int32(unit)))
            }
        }
        samplerUnits[ObjectIdentifier(program)] = units
        for (name, value) in uniforms.sorted(by: { $0.key < $1.key }) {
            let l = program.location(name)
            if l >= 0 { out.append((l, value)) }
        }
        return out
    }

    /// Appends a full-target draw of a fragment program (as PassRunner.drawFullscreen).
    public func appendDraw(program: Program, target: Framebuffer, inputs: [PassInput], uniforms: [String: UniformValue]) throws {
        precondition(!program.isCompute)
        for i in inputs where i.texture === target.color {
            throw GPUError.invalidArgument("pass \(program.name) reads its own target (\(i.uniform))")
        }
        context.sync {
            if vao == 0 { vao = context.makeName(.vertexArray) { glGenVertexArrays(1, $0) } }
            items.append(Item(program: program, compute: false, framebuffer: target,
                              viewport: Viewport(width: target.width, height: target.height), image: nil, groups: (0, 0),
                              textures: inputs.map(\.texture), uniforms: resolve(program, inputs, uniforms)))
        }
    }

    /// Appends a compute dispatch over every texel of `target` (as PassRunner.dispatch).
    public func appendDispatch(program: Program, target: Texture, inputs: [PassInput], uniforms: [String: UniformValue]) throws {
        precondition(program.isCompute)
        for i in inputs where i.texture === target {
            throw GPUError.invalidArgument("pass \(program.name) reads its own target (\(i.uniform))")
        }
        let g = context.tuning.computeGroup
        var uniforms = uniforms
        uniforms["u_passRegion"] = .ivec4(0, 0, Int32(target.width), Int32(target.height))
        context.sync {
            items.append(Item(program: program, compute: true, framebuffer: nil, viewport: Viewport(width: 0, height: 0),
                              image: target, groups: (GLuint((target.width + g.x - 1) / g.x), GLuint((target.height + g.y - 1) / g.y)),
                              textures: inputs.map(\.texture), uniforms: resolve(program, inputs, uniforms)))
        }
    }

    /// Replays every pass (queued, not waited for). Ends with a full memory barrier when any pass
    /// was a dispatch, so later draws, uploads and readbacks see the results. `afterEach(k)` runs on the
    /// GL thread after pass k is queued (profiling waits there for each pass).
    public func run(afterEach: ((Int) -> Void)? = nil) throws {
        for it in items {
            try it.framebuffer?.checkAlive()
            try it.image?.checkAlive()
        }
        context.sync(label: label) {
            var program: GLuint = 0
            var bound = [GLuint](repeating: 0, count: 16)
            var fbo: GLuint = .max, image: GLuint = 0
            var anyCompute = false
            var vp = Viewport(width: -1, height: -1)
            for u in 0..<16 {
                glActiveTexture(GLenum(GL_TEXTURE0 + Int32(u)))
                glBindSampler(GLuint(u), 0)
            }
            glBindVertexArray(vao)
            var activeUnit = 15
            for (k, it) in items.enumerated() {
                if it.program.handle != program { program = it.program.handle; glUseProgram(program) }
                for (unit, t) in it.textures.enumerated() where unit >= bound.count || bound[unit] != t.handle {
                    if unit != activeUnit { glActiveTexture(GLenum(GL_TEXTURE0 + Int32(unit))); activeUnit = unit }
                    glBindTexture(t.target, t.handle)
                    if unit < bound.count { bound[unit] = t.handle }
                }
                for (l, v) in it.uniforms { it.program.set(location: l, v) }
                if it.compute {
                    let img = it.image!
                    if img.handle != image {
                        image = img.handle
                        glBindImageTexture(0, img.handle, 0, GLboolean(GL_FALSE), 0, GLenum(GL_WRITE_ONLY), img.format.internalFormat)
                    }
                    glDispatchCompute(it.groups.x, it.groups.y, 1)
                    glMemoryBarrier(GLbitfield(GL_TEXTURE_FETCH_BARRIER_BIT | GL_SHADER_IMAGE_ACCESS_BARRIER_BIT))
                    anyCompute = true
                } else {
                    let fb = it.framebuffer!
                    if fb.handle != fbo { fbo = fb.handle; glBindFramebuffer(GLenum(GL_DRAW_FRAMEBUFFER), fbo) }
                    if it.viewport != vp {
                        vp = it.viewport
                        glViewport(GLint(vp.x), GLint(vp.y), GLsizei(vp.width), GLsizei(vp.height))
                    }
                    glDrawArrays(GLenum(GL_TRIANGLES), 0, 3)
                }
                afterEach?(k)
            }
            if anyCompute { glMemoryBarrier(GLbitfield(GL_ALL_BARRIER_BITS)) }
            glBindVertexArray(0)
            glActiveTexture(GLenum(GL_TEXTURE0))
        }
    }
}
