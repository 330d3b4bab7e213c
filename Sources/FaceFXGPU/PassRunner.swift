// Runs one full-screen fragment pass: bind target, textures and uniforms, draw one triangle.
// Every colour conversion and network layer is such a pass.
import CGLES
import Foundation

/// A sampler object: overrides a texture's own filter for one pass (e.g. bilinear reads of a
/// NEAREST frame texture for resampling) without changing the texture.
public final class Sampler {
    public let context: GPUContext
    public let filter: TextureFilter
    public private(set) var handle: GLuint = 0

    public init(context: GPUContext, filter: TextureFilter) {
        self.context = context
        self.filter = filter
        handle = context.sync {
            var s: GLuint = 0
            glGenSamplers(1, &s)
            let f = GLint(filter == .linear ? GL_LINEAR : GL_NEAREST)
            glSamplerParameteri(s, GLenum(GL_TEXTURE_MIN_FILTER), f)
            glSamplerParameteri(s, GLenum(GL_TEXTURE_MAG_FILTER), f)
            glSamplerParameteri(s, GLenum(GL_TEXTURE_WRAP_S), GLint(GL_CLAMP_TO_EDGE))
            glSamplerParameteri(s, GLenum(GL_TEXTURE_WRAP_T), GLint(GL_CLAMP_TO_EDGE))
            context.noteCreated(.sampler)
            return s
        }
    }

    deinit {
        var s = handle
        context.deleteLater(.sampler) { glDeleteSamplers(1, &s) }
    }
}

/// One texture input of a pass: bound to unit `index in the list`, its sampler uniform set to that unit.
public struct PassInput {
    public var uniform: String
    public var texture: Texture
    public var sampler: Sampler?
    public init(_ uniform: String, _ texture: Texture, sampler: Sampler? = nil) {
        self.uniform = uniform
        self.texture = texture
        self.sampler = sampler
    }
}

/// Integer viewport in target pixels (GL convention: origin bottom-left).
public struct Viewport: Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int = 0, y: Int = 0, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

public final class PassRunner {
    public let context: GPUContext
    private var vao: GLuint = 0

    /// Creates the one empty VAO every pass draws with (GLES 3 needs a VAO bound to draw).
    public init(context: GPUContext) {
        self.context = context
        vao = context.makeName(.vertexArray) { glGenVertexArrays(1, $0) }
    }

    deinit {
        var v = vao
        context.deleteLater(.vertexArray) { glDeleteVertexArrays(1, &v) }
    }

    /// Draws `program` over `viewport` of `target` (default: all of it). The draw is queued, not
    /// waited for; reading the target (readPixels) or sampling it in a later pass orders it.
    /// A texture must not be both an input and the target (GL feedback loop): that throws.
    public func drawFullscreen(program: Program, target: Framebuffer, viewport: Viewport? = nil,
                     inputs: [PassInput] = [], uniforms: [String: UniformValue] = [:]) throws {
        for i in inputs where i.texture === target.color {
            throw GPUError.invalidArgument("pass \(program.name) reads its own target (\(i.uniform))")
        }
        try target.checkAlive()
        for i in inputs { try i.texture.checkAlive() }
        let vp = viewport ?? Viewport(width: target.width, height: target.height)
        context.sync {
            glBindFramebuffer(GLenum(GL_DRAW_FRAMEBUFFER), target.handle)
            glViewport(GLint(vp.x), GLint(vp.y), GLsizei(vp.width), GLsizei(vp.height))
            glUseProgram(program.handle)
            bind(program, inputs, uniforms)
            glBindVertexArray(vao)
            glDrawArrays(GLenum(GL_TRIANGLES), 0, 3)
            glBindVertexArray(0)
            unbind(inputs)
        }
    }

    /// Runs a compute pass (`ProgramCache.computeProgram`) over the texels of `region` of `target`
    /// (default: all), bound as image unit 0 in its own format (the program's format must match).
    /// Queued, not waited for; a memory barrier after the dispatch orders it before later texture
    /// reads, image access, framebuffer reads and uploads, as a draw would be.
    public func dispatch(program: Program, target: Texture, region: Viewport? = nil, inputs: [PassInput] = [],
                         uniforms: [String: UniformValue] = [:]) throws {
        precondition(program.isCompute, "dispatch needs a compute program (\(program.name))")
        for i in inputs where i.texture === target {
            throw GPUError.invalidArgument("pass \(program.name) reads its own target (\(i.uniform))")
        }
        try target.checkAlive()
        for i in inputs { try i.texture.checkAlive() }
        let g = context.tuning.computeGroup
        let r = region ?? Viewport(width: target.width, height: target.height)
        guard r.x >= 0, r.y >= 0, r.width > 0, r.height > 0, r.x + r.width <= target.width, r.y + r.height <= target.height else {
            throw GPUError.invalidArgument("pass \(program.name): region \(r) outside \(target.width)x\(target.height)")
        }
        context.sync {
            glUseProgram(program.handle)
            bind(program, inputs, uniforms)
            program.set("u_passRegion", .ivec4(Int32(r.x), Int32(r.y), Int32(r.width), Int32(r.height)))
            glBindImageTexture(0, target.handle, 0, GLboolean(GL_FALSE), 0, GLenum(GL_WRITE_ONLY), target.format.internalFormat)
            glDispatchCompute(GLuint((r.width + g.x - 1) / g.x), GLuint((r.height + g.y - 1) / g.y), 1)
            glMemoryBarrier(dispatchBarrier)
            unbind(inputs)
        }
    }

    /// Runs a complete compute shader (`ProgramCache.computeShader`) over `groups` work groups with
    /// `buffer` at storage binding 0; a barrier then makes its buffer writes visible to later passes, maps
    /// and (a persistently mapped buffer) the CPU once the reader's fence passes (`GPUContext.waitForGPU`).
    public func dispatch(program: Program, groups: (x: Int, y: Int, z: Int), buffer: StorageBuffer,
                         inputs: [PassInput] = [], uniforms: [String: UniformValue] = [:]) throws {
        precondition(program.isCompute, "dispatch needs a compute program (\(program.name))")
        for i in inputs { try i.texture.checkAlive() }
        guard groups.x > 0, groups.y > 0, groups.z > 0 else { return }
        context.sync {
            glUseProgram(program.handle)
            bind(program, inputs, uniforms)
            glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 0, buffer.handle)
            glDispatchCompute(GLuint(groups.x), GLuint(groups.y), GLuint(groups.z))
            // A persistently mapped buffer: its writes reach the CPU's mapping once a later fence passes.
            glMemoryBarrier(GLbitfield(GL_BUFFER_UPDATE_BARRIER_BIT | GL_SHADER_STORAGE_BARRIER_BIT)
                            | (buffer.isMappedPersistently ? GLbitfield(GL_CLIENT_MAPPED_BUFFER_BARRIER_BIT_EXT) : 0))
            glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 0, 0)
            unbind(inputs)
        }
    }

    /// Barrier after each dispatch: texture fetches, image access, framebuffer reads, uploads and
    /// pixel transfers all see its writes (a single pass has no later pass to share a barrier with;
    /// networks replay through `PassSequence`, which orders their passes more cheaply).
    let dispatchBarrier = GLbitfield(GL_TEXTURE_FETCH_BARRIER_BIT | GL_SHADER_IMAGE_ACCESS_BARRIER_BIT | GL_FRAMEBUFFER_BARRIER_BIT
                                     | GL_TEXTURE_UPDATE_BARRIER_BIT | GL_PIXEL_BUFFER_BARRIER_BIT)

    /// Textures to units 0, 1, ... (with their sampler objects) and uniforms (GL thread, program in use).
    private func bind(_ program: Program, _ inputs: [PassInput], _ uniforms: [String: UniformValue]) {
        for (unit, input) in inputs.enumerated() {
            glActiveTexture(GLenum(GL_TEXTURE0 + Int32(unit)))
            glBindTexture(input.texture.target, input.texture.handle)
            glBindSampler(GLuint(unit), input.sampler?.handle ?? 0)
            program.set(input.uniform, .int(Int32(unit)))
        }
        for (name, value) in uniforms { program.set(name, value) }
    }

    private func unbind(_ inputs: [PassInput]) {
        for unit in inputs.indices where inputs[unit].sampler != nil { glBindSampler(GLuint(unit), 0) }
        glActiveTexture(GLenum(GL_TEXTURE0))
    }

    /// Tuple form: `textures: [("u_src", tex)]`.
    public func drawFullscreen(program: Program, target: Framebuffer, viewport: Viewport? = nil,
                     textures: [(String, Texture)], uniforms: [String: UniformValue] = [:]) throws {
        try drawFullscreen(program: program, target: target, viewport: viewport,
                 inputs: textures.map { PassInput($0.0, $0.1) }, uniforms: uniforms)
    }
}
