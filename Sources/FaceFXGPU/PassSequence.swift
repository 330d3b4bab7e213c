// A fixed list of passes (draws and compute dispatches) resolved once to GL names, uniform
// locations and texture units, then replayed with nothing but GL calls: the neural networks
// run 30-130 passes per inference, and on a hardware GPU the per-pass cost of resolving
// names, checking objects and binding redundant state (~10 µs on the H100's host) was larger
// than many of the passes themselves. Replay skips state that is already bound.
// A memory barrier goes only before a pass that reads (or overwrites) what a dispatch since the last
// barrier wrote, or overwrites what a pass since then read: a barrier costs ~17 µs of GPU idle on the
// H100 (bench/results/h100-pass-floor.txt: 18–25 µs per dependent dispatch, 1–3 µs per independent one),
// so passes that do not depend on each other share one.
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
        /// glMemoryBarrier bits issued before this pass (0: it depends on nothing unsynchronised).
        let barrierBefore: GLbitfield
    }

    private var items: [Item] = []
    /// Textures written by dispatches / read by any pass since the last barrier (while appending).
    private var writtenSinceBarrier = Set<ObjectIdentifier>()
    private var readSinceBarrier = Set<ObjectIdentifier>()
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
    /// Barriers one replay issues between its passes (the closing one not counted).
    public var barrierCount: Int { items.filter { $0.barrierBefore != 0 }.count }

    /// The barrier a pass reading `inputs` and writing `target` needs first, and the bookkeeping after it.
    /// Image stores are incoherent: a later texture fetch, image access or framebuffer write of the same
    /// texture waits for them; a store must also wait for earlier reads of its target (write after read).
    /// Framebuffer writes and texture fetches are ordered by GL itself, so a draw adds nothing to wait for.
    private func barrier(inputs: [Texture], target: Texture, dispatch: Bool) -> GLbitfield {
        let ins = inputs.map(ObjectIdentifier.init), out = ObjectIdentifier(target)
        var bits: GLbitfield = 0
        if ins.contains(where: writtenSinceBarrier.contains) { bits |= GLbitfield(GL_TEXTURE_FETCH_BARRIER_BIT) }
        if writtenSinceBarrier.contains(out) {
            bits |= dispatch ? GLbitfield(GL_SHADER_IMAGE_ACCESS_BARRIER_BIT) : GLbitfield(GL_FRAMEBUFFER_BARRIER_BIT)
        }
        if dispatch && readSinceBarrier.contains(out) { bits |= GLbitfield(GL_SHADER_IMAGE_ACCESS_BARRIER_BIT) }
        if bits != 0 {
            // One barrier orders everything before it: take the bits the old every-dispatch barrier had.
            bits |= GLbitfield(GL_TEXTURE_FETCH_BARRIER_BIT | GL_SHADER_IMAGE_ACCESS_BARRIER_BIT)
            writtenSinceBarrier.removeAll(); readSinceBarrier.removeAll()
        }
        readSinceBarrier.formUnion(ins)
        if dispatch { writtenSinceBarrier.insert(out) }
        return bits
    }

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
            let bits = barrier(inputs: inputs.map(\.texture), target: target.color, dispatch: false)
            items.append(Item(program: program, compute: false, framebuffer: target,
                              viewport: Viewport(width: target.width, height: target.height), image: nil, groups: (0, 0),
                              textures: inputs.map(\.texture), uniforms: resolve(program, inputs, uniforms), barrierBefore: bits))
        }
    }

    /// Appends a compute dispatch over every texel of `target` (as PassRunner.dispatch), or, with
    /// `groups`, of a compute shader with its own work-group layout writing `target` at image unit 0.
    public func appendDispatch(program: Program, target: Texture, inputs: [PassInput], uniforms: [String: UniformValue],
                               groups: (x: Int, y: Int)? = nil) throws {
        precondition(program.isCompute)
        for i in inputs where i.texture === target {
            throw GPUError.invalidArgument("pass \(program.name) reads its own target (\(i.uniform))")
        }
        let g = context.tuning.computeGroup
        let n = groups ?? ((target.width + g.x - 1) / g.x, (target.height + g.y - 1) / g.y)
        var uniforms = uniforms
        if groups == nil { uniforms["u_passRegion"] = .ivec4(0, 0, Int32(target.width), Int32(target.height)) }
        context.sync {
            let bits = barrier(inputs: inputs.map(\.texture), target: target, dispatch: true)
            items.append(Item(program: program, compute: true, framebuffer: nil, viewport: Viewport(width: 0, height: 0),
                              image: target, groups: (GLuint(n.x), GLuint(n.y)),
                              textures: inputs.map(\.texture), uniforms: resolve(program, inputs, uniforms), barrierBefore: bits))
        }
    }

    /// Replays every pass (queued, not waited for), with the barriers recorded for it. Ends with a full
    /// memory barrier when any pass was a dispatch, so later draws, uploads and readbacks see the results. `afterEach(k)` runs on the
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
                if it.barrierBefore != 0 { glMemoryBarrier(it.barrierBefore) }
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
