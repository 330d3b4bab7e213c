// A shader storage buffer (GLES 3.1) that compute shaders write and the CPU maps a range of: how
// results come back on hardware GPUs without glReadPixels of whole textures (the detector rows worth
// decoding, a network run's outputs in one read, the packed I420 frame). The NVIDIA driver maps
// buffers fast but reads back textures written by compute shaders slowly.
import CGLES

public final class StorageBuffer {
    public let context: GPUContext
    public let bytes: Int
    public private(set) var handle: GLuint = 0

    public init(context: GPUContext, bytes: Int) throws {
        guard bytes > 0 else { throw GPUError.invalidArgument("storage buffer of \(bytes) bytes") }
        self.context = context
        self.bytes = bytes
        handle = try context.sync { () throws(GPUError) -> GLuint in
            var b = context.makeName(.buffer) { glGenBuffers(1, $0) }
            glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), b)
            glBufferData(GLenum(GL_SHADER_STORAGE_BUFFER), GLsizeiptr(bytes), nil, GLenum(GL_DYNAMIC_READ))
            glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), 0)
            do { try context.checkGLError("storage buffer of \(bytes) bytes") } catch {
                glDeleteBuffers(1, &b); context.noteDeleted(.buffer)
                throw error as! GPUError
            }
            return b
        }
    }

    /// `existing` when it holds at least `bytes`, else a new buffer of that size (scratch buffers
    /// sized by their first use).
    public static func atLeast(_ bytes: Int, reusing existing: StorageBuffer?, context: GPUContext) throws -> StorageBuffer {
        if let b = existing, b.bytes >= bytes { return b }
        return try StorageBuffer(context: context, bytes: bytes)
    }

    deinit {
        var b = handle
        context.deleteLater(.buffer) { glDeleteBuffers(1, &b) }
    }

    /// Zeroes bytes 0..<n (queued; ordered before later dispatches).
    public func clear(bytes n: Int) {
        precondition(n > 0 && n <= bytes && n % 4 == 0)
        let zeros = [UInt32](repeating: 0, count: n / 4)
        context.sync {
            glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), handle)
            zeros.withUnsafeBytes { glBufferSubData(GLenum(GL_SHADER_STORAGE_BUFFER), 0, GLsizeiptr(n), $0.baseAddress) }
            glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), 0)
        }
    }

    /// Waits for the GPU and copies bytes offset..<offset+n out (a mapped read of that range only).
    public func read(offset: Int, bytes n: Int, into out: UnsafeMutableRawBufferPointer) throws {
        guard offset >= 0, n > 0, offset + n <= bytes, out.count >= n else {
            throw GPUError.invalidArgument("read of \(n) bytes at \(offset) from a \(bytes)-byte buffer")
        }
        // Off the GL thread: the range copied into a read-back buffer, the wait for the GPU here (the GL
        // thread serves other callers meanwhile), then that buffer mapped (GPUContext.startBufferRead).
        if !context.thread.isCurrent, context.tuning.readThroughPackBuffer,
           let started = context.sync({ context.startBufferRead(of: handle, offset: offset, bytes: n) }) {
            context.waitForGPU()
            if context.sync({ context.finishPackedRead(started) { out.baseAddress!.copyMemory(from: $0, byteCount: n) } }) { return }
        }
        try context.sync { () throws(GPUError) in
            glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), handle)
            defer { glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), 0) }
            guard let p = glMapBufferRange(GLenum(GL_SHADER_STORAGE_BUFFER), GLintptr(offset), GLsizeiptr(n), GLbitfield(GL_MAP_READ_BIT)) else {
                throw GPUError.glError(operation: "glMapBufferRange(storage buffer)", code: glGetError())
            }
            out.baseAddress!.copyMemory(from: p, byteCount: n)
            glUnmapBuffer(GLenum(GL_SHADER_STORAGE_BUFFER))
        }
    }

    public func readUInt32s(offset: Int, count: Int) throws -> [UInt32] {
        var out = [UInt32](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try read(offset: offset, bytes: count * 4, into: $0) }
        return out
    }

    public func readFloats(offset: Int, count: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try read(offset: offset, bytes: count * 4, into: $0) }
        return out
    }
}
