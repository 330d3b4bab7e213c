// Render target: one colour texture plus an optional depth renderbuffer (for 3-D overlays).
// Readback helpers live here because glReadPixels reads the bound framebuffer.
import CGLES

public final class Framebuffer {
    public let context: GPUContext
    public let color: Texture
    public let hasDepth: Bool
    public private(set) var handle: GLuint = 0
    private var depthHandle: GLuint = 0

    /// Layers of `color` rendered by a layered framebuffer (`init(context:layersOf:range:)`): colour output k
    /// of a pass lands in layer range.lowerBound + k. Nil for a plain framebuffer.
    public let layerRange: Range<Int>?

    public var width: Int { color.width }
    public var height: Int { color.height }

    public init(context: GPUContext, color: Texture, depth: Bool = false) throws {
        guard color.context === context else { throw GPUError.invalidArgument("texture from another GPUContext") }
        try color.checkAlive()
        self.context = context
        self.color = color
        hasDepth = depth
        layerRange = nil
        (handle, depthHandle) = try context.sync { () throws -> (GLuint, GLuint) in
            var fb: GLuint = 0, rb: GLuint = 0
            glGenFramebuffers(1, &fb)
            context.noteCreated(.framebuffer)
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), fb)
            glFramebufferTexture2D(GLenum(GL_FRAMEBUFFER), GLenum(GL_COLOR_ATTACHMENT0), GLenum(GL_TEXTURE_2D), color.handle, 0)
            if depth {
                glGenRenderbuffers(1, &rb)
                context.noteCreated(.renderbuffer)
                glBindRenderbuffer(GLenum(GL_RENDERBUFFER), rb)
                glRenderbufferStorage(GLenum(GL_RENDERBUFFER), GLenum(GL_DEPTH_COMPONENT24), GLsizei(color.width), GLsizei(color.height))
                glBindRenderbuffer(GLenum(GL_RENDERBUFFER), 0)
                glFramebufferRenderbuffer(GLenum(GL_FRAMEBUFFER), GLenum(GL_DEPTH_ATTACHMENT), GLenum(GL_RENDERBUFFER), rb)
            }
            let status = glCheckFramebufferStatus(GLenum(GL_FRAMEBUFFER))
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
            if status != GLenum(GL_FRAMEBUFFER_COMPLETE) {
                glDeleteFramebuffers(1, &fb); context.noteDeleted(.framebuffer)
                if rb != 0 { glDeleteRenderbuffers(1, &rb); context.noteDeleted(.renderbuffer) }
                throw GPUError.framebufferIncomplete(status: status)
            }
            return (fb, rb)
        }
    }

    /// Multiple render targets over layers `range` of a 2-D array texture (at most
    /// `context.maxDrawBuffers` of them): `layout(location = k) out` of a pass writes layer range.lowerBound + k.
    public init(context: GPUContext, layersOf color: Texture, range: Range<Int>) throws {
        guard color.context === context else { throw GPUError.invalidArgument("texture from another GPUContext") }
        try color.checkAlive()
        guard color.layers > 0, range.lowerBound >= 0, range.upperBound <= color.layers, !range.isEmpty,
              range.count <= context.maxDrawBuffers else {
            throw GPUError.invalidArgument("layers \(range) of a \(color.layers)-layer texture (\(context.maxDrawBuffers) draw buffers)")
        }
        self.context = context
        self.color = color
        hasDepth = false
        layerRange = range
        handle = try context.sync { () throws -> GLuint in
            var fb: GLuint = 0
            glGenFramebuffers(1, &fb)
            context.noteCreated(.framebuffer)
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), fb)
            var bufs: [GLenum] = []
            for (k, layer) in range.enumerated() {
                let a = GLenum(GL_COLOR_ATTACHMENT0) + GLenum(k)
                glFramebufferTextureLayer(GLenum(GL_FRAMEBUFFER), a, color.handle, 0, GLint(layer))
                bufs.append(a)
            }
            glDrawBuffers(GLsizei(bufs.count), bufs)
            let status = glCheckFramebufferStatus(GLenum(GL_FRAMEBUFFER))
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
            if status != GLenum(GL_FRAMEBUFFER_COMPLETE) {
                glDeleteFramebuffers(1, &fb); context.noteDeleted(.framebuffer)
                throw GPUError.framebufferIncomplete(status: status)
            }
            return fb
        }
    }

    deinit {
        guard handle != 0 else { return }
        var fb = handle, rb = depthHandle
        context.deleteLater(.framebuffer) { glDeleteFramebuffers(1, &fb) }
        if rb != 0 { context.deleteLater(.renderbuffer) { glDeleteRenderbuffers(1, &rb) } }
    }

    /// Deletes the framebuffer (not the colour texture) now.
    public func release() {
        guard handle != 0 else { return }
        var fb = handle, rb = depthHandle
        handle = 0; depthHandle = 0
        context.sync {
            glDeleteFramebuffers(1, &fb); context.noteDeleted(.framebuffer)
            if rb != 0 { glDeleteRenderbuffers(1, &rb); context.noteDeleted(.renderbuffer) }
        }
    }

    func checkAlive() throws {
        if handle == 0 { throw GPUError.released("framebuffer") }
        try color.checkAlive()
    }

    /// Clears colour (and depth) to the given values. Float and 8-bit targets only.
    public func clear(_ r: Float = 0, _ g: Float = 0, _ b: Float = 0, _ a: Float = 0) throws {
        try checkAlive()
        context.sync {
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), handle)
            glViewport(0, 0, GLsizei(width), GLsizei(height))
            glClearColor(r, g, b, a)
            glClearDepthf(1)
            glClear(GLbitfield(GL_COLOR_BUFFER_BIT) | (hasDepth ? GLbitfield(GL_DEPTH_BUFFER_BIT) : 0))
        }
    }

    private func checkRect(_ x: Int, _ y: Int, _ w: Int, _ h: Int) throws {
        guard x >= 0, y >= 0, w > 0, h > 0, x + w <= width, y + h <= height else {
            throw GPUError.invalidArgument("read rectangle \(x),\(y) \(w)x\(h) outside \(width)x\(height)")
        }
    }

    /// Reads an RGBA8 target into caller memory: rows of `w*4` bytes, bottom row (y) first as GL
    /// stores it (GL_PACK_ALIGNMENT 4, so rows are tight). Blocks until rendering is done.
    public func readRGBA8(into destination: UnsafeMutableRawPointer, x: Int = 0, y: Int = 0, width w: Int? = nil, height h: Int? = nil) throws {
        let rw = w ?? width, rh = h ?? height
        try checkRect(x, y, rw, rh)
        guard color.format == .rgba8 else { throw GPUError.invalidArgument("readRGBA8 from a \(color.format) target") }
        try checkAlive()
        if try readOffThread(x: x, y: y, width: rw, height: rh, attachment: 0, type: GLenum(GL_UNSIGNED_BYTE),
                             into: UnsafeMutableRawBufferPointer(start: destination, count: rw * rh * 4)) { return }
        try context.sync { () throws in
            glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), handle)
            glReadPixels(GLint(x), GLint(y), GLsizei(rw), GLsizei(rh), GLenum(GL_RGBA), GLenum(GL_UNSIGNED_BYTE), destination)
            glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), 0)
            try context.checkGLError("glReadPixels(RGBA8)")
        }
    }

    /// A readback from a caller other than the GL thread, in three steps: the copy queued into a
    /// pixel-pack buffer of its own, the wait for the GPU on the caller's thread (the GL thread serves
    /// other streams meanwhile: their passes fill the GPU), then the mapped copy. false (nothing read)
    /// on the GL thread, with FACEFX_READ_PBO=0, or when the buffer could not be made or mapped.
    private func readOffThread(x: Int, y: Int, width w: Int, height h: Int, attachment: Int, type: GLenum,
                               into dst: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard !context.thread.isCurrent, context.tuning.readThroughPackBuffer else { return false }
        let started = try context.sync { () throws -> PackedRead? in
            glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), handle)
            if attachment != 0 { glReadBuffer(GLenum(GL_COLOR_ATTACHMENT0) + GLenum(attachment)) }
            let read = context.startPackedRead(x: x, y: y, width: w, height: h, format: GLenum(GL_RGBA), type: type, bytes: dst.count)
            if attachment != 0 { glReadBuffer(GLenum(GL_COLOR_ATTACHMENT0)) }
            glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), 0)
            try context.checkGLError("glReadPixels(into a pixel-pack buffer)")
            return read
        }
        guard let started else { return false }
        context.waitForGPU()
        return context.sync { context.finishPackedRead(started) { dst.baseAddress!.copyMemory(from: $0, byteCount: dst.count) } }
    }

    /// Reads an RGBA8 target into a new array (tests, small outputs).
    public func readRGBA8(x: Int = 0, y: Int = 0, width w: Int? = nil, height h: Int? = nil) throws -> [UInt8] {
        let rw = w ?? width, rh = h ?? height
        var out = [UInt8](repeating: 0, count: rw * rh * 4)
        try out.withUnsafeMutableBytes { try readRGBA8(into: $0.baseAddress!, x: x, y: y, width: rw, height: rh) }
        return out
    }

    /// Reads a float target (R/RG/RGBA 16F or 32F) as RGBA Float, 4 values per texel (GL_RGBA/GL_FLOAT,
    /// which EXT_color_buffer_float guarantees). Network outputs come back this way.
    /// `attachment`: colour attachment k of a layered framebuffer (layer layerRange.lowerBound + k).
    public func readFloats(x: Int = 0, y: Int = 0, width w: Int? = nil, height h: Int? = nil, attachment: Int = 0) throws -> [Float] {
        let rw = w ?? width, rh = h ?? height
        try checkRect(x, y, rw, rh)
        guard color.format.isFloat else { throw GPUError.invalidArgument("readFloats from a \(color.format) target") }
        try checkAlive()
        var out = [Float](repeating: 0, count: rw * rh * 4)
        if try out.withUnsafeMutableBytes({ dst throws -> Bool in
            try readOffThread(x: x, y: y, width: rw, height: rh, attachment: attachment, type: GLenum(GL_FLOAT), into: dst)
        }) { return out }
        try context.sync { () throws in
            glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), handle)
            if attachment != 0 { glReadBuffer(GLenum(GL_COLOR_ATTACHMENT0) + GLenum(attachment)) }
            out.withUnsafeMutableBytes { dst in
                let staged = context.tuning.readThroughPackBuffer
                    && context.startPackedRead(x: x, y: y, width: rw, height: rh, format: GLenum(GL_RGBA), type: GLenum(GL_FLOAT),
                                               bytes: dst.count).map { read in
                        context.finishPackedRead(read) { dst.baseAddress!.copyMemory(from: $0, byteCount: dst.count) }
                    } == true
                if !staged {
                    glReadPixels(GLint(x), GLint(y), GLsizei(rw), GLsizei(rh), GLenum(GL_RGBA), GLenum(GL_FLOAT), dst.baseAddress)
                }
            }
            if attachment != 0 { glReadBuffer(GLenum(GL_COLOR_ATTACHMENT0)) }
            glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), 0)
            try context.checkGLError("glReadPixels(RGBA/FLOAT)")
        }
        return out
    }
}
