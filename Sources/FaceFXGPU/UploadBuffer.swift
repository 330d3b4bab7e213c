// A pixel-unpack buffer for uploads: the rows are copied into driver-owned memory (orphaned and
// mapped each time, so the copy never waits for the previous upload's DMA), then glTexSubImage
// reads from the buffer. On the NVIDIA driver a 1080p frame from client memory took ~1.45 ms
// (pageable memory); through a mapped buffer the DMA runs from memory the driver owns.
import CGLES

public final class UploadBuffer {
    public let context: GPUContext
    private var handle: GLuint = 0

    public init(context: GPUContext) {
        self.context = context
        handle = context.makeName(.buffer) { glGenBuffers(1, $0) }
    }

    deinit {
        var b = handle
        context.deleteLater(.buffer) { glDeleteBuffers(1, &b) }
    }

    /// GL thread: copies `rows` rows of `rowBytes` (source rows `bytesPerRow` apart) into a fresh
    /// store and leaves the buffer bound to GL_PIXEL_UNPACK_BUFFER, tightly packed from offset 0.
    /// false (nothing bound) if the driver could not map it: upload from client memory instead.
    func stage(_ data: UnsafeRawPointer, bytesPerRow: Int, rowBytes: Int, rows: Int) -> Bool {
        guard let p = map(bytes: rowBytes * rows) else { return false }
        UploadBuffer.copyRows(data, bytesPerRow: bytesPerRow, rowBytes: rowBytes, rows: rows, into: p)
        return unmap()
    }

    /// GL thread: a fresh store of `bytes` mapped for writing (nil if the driver could not map it).
    /// Any thread may fill it; `unmap` (GL thread) then hands it to the GL. Between the two the buffer
    /// is the caller's alone: other GL work may run, none may use this buffer.
    public func map(bytes: Int) -> UnsafeMutableRawPointer? {
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), handle)
        glBufferData(GLenum(GL_PIXEL_UNPACK_BUFFER), GLsizeiptr(bytes), nil, GLenum(GL_STREAM_DRAW))
        let p = glMapBufferRange(GLenum(GL_PIXEL_UNPACK_BUFFER), 0, GLsizeiptr(bytes),
                                 GLbitfield(GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT))
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
        return p
    }

    /// GL thread: ends a `map`, leaving the buffer bound to GL_PIXEL_UNPACK_BUFFER (tightly packed rows
    /// from offset 0) for a glTexSubImage; false (nothing bound) if the store was lost (upload again
    /// from client memory).
    public func unmap() -> Bool {
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), handle)
        guard glUnmapBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER)) == GLboolean(GL_TRUE) else {
            glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
            return false
        }
        return true
    }

    /// Rows `bytesPerRow` apart → tightly packed rows of `rowBytes`.
    public static func copyRows(_ data: UnsafeRawPointer, bytesPerRow: Int, rowBytes: Int, rows: Int, into p: UnsafeMutableRawPointer) {
        if bytesPerRow == rowBytes {
            p.copyMemory(from: data, byteCount: rowBytes * rows)
        } else {
            for r in 0..<rows { (p + r * rowBytes).copyMemory(from: data + r * bytesPerRow, byteCount: rowBytes) }
        }
    }
}
