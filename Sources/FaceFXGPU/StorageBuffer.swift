// A shader storage buffer (GLES 3.1) that compute shaders write and the CPU reads a range of: how
// results come back on hardware GPUs without glReadPixels of whole textures (the detector rows worth
// decoding, a network run's outputs in one read, the packed I420 frame). The NVIDIA driver reads back
// textures written by compute shaders slowly, and maps a buffer slowly while the GPU is busy with other
// streams' passes (its copy queues behind them: 0.6–0.8 ms a read at 8 jobs), so where the context has
// GL_EXT_buffer_storage the buffer is mapped once, persistently and coherently, and a read is the wait
// for the GPU on the caller's thread and a memcpy: no GL call at all.
import CGLES

public final class StorageBuffer {
    public let context: GPUContext
    public let bytes: Int
    public private(set) var handle: GLuint = 0
    /// The persistent coherent mapping of the whole buffer, nil where it is mapped per read (no
    /// GL_EXT_buffer_storage, or FACEFX_READ_PBO=0).
    private var mapped: UnsafeRawPointer?
    /// True when reads need no GL call (the buffer stays mapped).
    public var isMappedPersistently: Bool { mapped != nil }

    public init(context: GPUContext, bytes: Int) throws {
        guard bytes > 0 else { throw GPUError.invalidArgument("storage buffer of \(bytes) bytes") }
        self.context = context
        self.bytes = bytes
        (handle, mapped) = try context.sync { () throws(GPUError) -> (GLuint, UnsafeRawPointer?) in
            let target = GLenum(GL_SHADER_STORAGE_BUFFER)
            var b = context.makeName(.buffer) { glGenBuffers(1, $0) }
            glBindBuffer(target, b)
            defer { glBindBuffer(target, 0) }
            let persistent = GLbitfield(GL_MAP_READ_BIT | GL_MAP_PERSISTENT_BIT_EXT | GL_MAP_COHERENT_BIT_EXT)
            // DYNAMIC_STORAGE: `clear` writes it with glBufferSubData.
            let storage = persistent | GLbitfield(GL_DYNAMIC_STORAGE_BIT_EXT)
            if context.tuning.readThroughPackBuffer, context.hasExtension("GL_EXT_buffer_storage"),
               cgles_buffer_storage(target, GLsizeiptr(bytes), nil, storage) != 0, glGetError() == GLenum(GL_NO_ERROR) {
                if let p = glMapBufferRange(target, 0, GLsizeiptr(bytes), persistent) { return (b, UnsafeRawPointer(p)) }
                // Immutable storage that would not map: start again with an ordinary buffer.
                _ = glGetError()
                glDeleteBuffers(1, &b)
                b = 0
                glGenBuffers(1, &b)
                glBindBuffer(target, b)
            }
            glBufferData(target, GLsizeiptr(bytes), nil, GLenum(GL_DYNAMIC_READ))
            do { try context.checkGLError("storage buffer of \(bytes) bytes") } catch {
                glDeleteBuffers(1, &b); context.noteDeleted(.buffer)
                throw error as! GPUError
            }
            return (b, nil)
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
    /// `after`: the fence armed after the writing pass (waits for that pass only, not for work queued
    /// since); without one, for everything queued so far.
    public func read(offset: Int, bytes n: Int, into out: UnsafeMutableRawBufferPointer, after fence: GPUFence? = nil) throws {
        guard offset >= 0, n > 0, offset + n <= bytes, out.count >= n else {
            throw GPUError.invalidArgument("read of \(n) bytes at \(offset) from a \(bytes)-byte buffer")
        }
        if let fence {
            try context.wait(fence)
        } else if context.thread.isCurrent {
            if mapped != nil { glFinish() }   // the map below waits by itself
        } else {
            context.waitForGPU()
        }
        if let mapped {
            // The writing dispatch ended with the client-mapped barrier (PassRunner.dispatch), so its writes
            // are visible here once the GPU has passed the fence.
            out.baseAddress!.copyMemory(from: mapped + offset, byteCount: n)
            return
        }
        // Off the GL thread the wait above happened here, so the map does not hold the GL thread.
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
