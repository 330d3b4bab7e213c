// A multisampled colour (RGBA8) + depth (24-bit) render target: overlays draw here for
// antialiased geometry edges and depth occlusion, then `resolve` averages the samples into a
// single-sample framebuffer (the frame texture). Renderbuffers only: GLES cannot sample them.
import CGLES

public final class MultisampleTarget {
    public let context: GPUContext
    public let width: Int
    public let height: Int
    /// Samples actually allocated (the request clamped to GL_MAX_SAMPLES).
    public let samples: Int
    public private(set) var handle: GLuint = 0
    private var colorRB: GLuint = 0
    private var depthRB: GLuint = 0

    public static func maxSamples(_ context: GPUContext) -> Int {
        context.sync { var v: GLint = 0; glGetIntegerv(GLenum(GL_MAX_SAMPLES), &v); return Int(v) }
    }

    public init(context: GPUContext, width: Int, height: Int, samples: Int) throws {
        guard width > 0, height > 0, width <= context.maxTextureSize, height <= context.maxTextureSize else {
            throw GPUError.invalidArgument("multisample target \(width)x\(height)")
        }
        self.context = context
        self.width = width
        self.height = height
        let n = max(1, min(samples, MultisampleTarget.maxSamples(context)))
        self.samples = n
        (handle, colorRB, depthRB) = try context.sync { () throws -> (GLuint, GLuint, GLuint) in
            var fb: GLuint = 0, rbs: [GLuint] = [0, 0]
            glGenFramebuffers(1, &fb); context.noteCreated(.framebuffer)
            glGenRenderbuffers(2, &rbs); context.noteCreated(.renderbuffer); context.noteCreated(.renderbuffer)
            glBindRenderbuffer(GLenum(GL_RENDERBUFFER), rbs[0])
            glRenderbufferStorageMultisample(GLenum(GL_RENDERBUFFER), GLsizei(n), GLenum(GL_RGBA8), GLsizei(width), GLsizei(height))
            glBindRenderbuffer(GLenum(GL_RENDERBUFFER), rbs[1])
            glRenderbufferStorageMultisample(GLenum(GL_RENDERBUFFER), GLsizei(n), GLenum(GL_DEPTH_COMPONENT24), GLsizei(width), GLsizei(height))
            glBindRenderbuffer(GLenum(GL_RENDERBUFFER), 0)
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), fb)
            glFramebufferRenderbuffer(GLenum(GL_FRAMEBUFFER), GLenum(GL_COLOR_ATTACHMENT0), GLenum(GL_RENDERBUFFER), rbs[0])
            glFramebufferRenderbuffer(GLenum(GL_FRAMEBUFFER), GLenum(GL_DEPTH_ATTACHMENT), GLenum(GL_RENDERBUFFER), rbs[1])
            let status = glCheckFramebufferStatus(GLenum(GL_FRAMEBUFFER))
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
            if status != GLenum(GL_FRAMEBUFFER_COMPLETE) {
                glDeleteFramebuffers(1, &fb); context.noteDeleted(.framebuffer)
                glDeleteRenderbuffers(2, &rbs); context.noteDeleted(.renderbuffer); context.noteDeleted(.renderbuffer)
                throw GPUError.framebufferIncomplete(status: status)
            }
            try context.checkGLError("multisample target \(width)x\(height)×\(n)")
            return (fb, rbs[0], rbs[1])
        }
    }

    deinit {
        guard handle != 0 else { return }
        var fb = handle, rbs = [colorRB, depthRB]
        context.deleteLater(.framebuffer) { glDeleteFramebuffers(1, &fb) }
        context.deleteLater(.renderbuffer) { glDeleteRenderbuffers(1, &rbs[0]) }
        context.deleteLater(.renderbuffer) { glDeleteRenderbuffers(1, &rbs[1]) }
    }

    /// Averages the samples of a rectangle (GL pixel coordinates) into the same rectangle of `target`.
    public func resolve(into target: Framebuffer, x: Int, y: Int, width w: Int, height h: Int) throws {
        try target.checkAlive()
        blitColor(context, from: handle, to: target.handle, source: (x, y, x + w, y + h), destination: (x, y, x + w, y + h), filter: GL_NEAREST)
    }
}

extension Framebuffer {
    /// Copies a rectangle (GL pixel coordinates) of this framebuffer's colour into the same place of
    /// `target` (same-size blit, no filtering): cheap snapshots of a region before drawing over it.
    public func copyRegion(into target: Framebuffer, x: Int, y: Int, width w: Int, height h: Int) throws {
        try checkAlive(); try target.checkAlive()
        blitColor(context, from: handle, to: target.handle, source: (x, y, x + w, y + h), destination: (x, y, x + w, y + h), filter: GL_NEAREST)
    }

    /// Stretches this framebuffer's whole colour onto the whole of `target` with bilinear filtering (a
    /// frame of another size scaled to the output's, as FFmpeg's automatic scaler does).
    public func scale(into target: Framebuffer) throws {
        try checkAlive(); try target.checkAlive()
        blitColor(context, from: handle, to: target.handle, source: (0, 0, width, height), destination: (0, 0, target.width, target.height),
                  filter: GL_LINEAR)
    }
}

/// glBlitFramebuffer of the colour buffer between two framebuffers (rectangles x0, y0, x1, y1), on the
/// GL thread; the default framebuffer bindings are restored.
func blitColor(_ context: GPUContext, from read: GLuint, to draw: GLuint, source s: (Int, Int, Int, Int),
               destination d: (Int, Int, Int, Int), filter: Int32) {
    context.sync {
        glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), read)
        glBindFramebuffer(GLenum(GL_DRAW_FRAMEBUFFER), draw)
        glBlitFramebuffer(GLint(s.0), GLint(s.1), GLint(s.2), GLint(s.3), GLint(d.0), GLint(d.1), GLint(d.2), GLint(d.3),
                          GLbitfield(GL_COLOR_BUFFER_BIT), GLenum(filter))
        glBindFramebuffer(GLenum(GL_READ_FRAMEBUFFER), 0)
        glBindFramebuffer(GLenum(GL_DRAW_FRAMEBUFFER), 0)
    }
}
