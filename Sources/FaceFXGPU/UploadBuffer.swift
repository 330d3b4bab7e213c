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
        let size = rowBytes * rows
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), handle)
        glBufferData(GLenum(GL_PIXEL_UNPACK_BUFFER), GLsizeiptr(size), nil, GLenum(GL_STREAM_DRAW))
        guard let p = glMapBufferRange(GLenum(GL_PIXEL_UNPACK_BUFFER), 0, GLsizeiptr(size),
                                       GLbitfield(GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT)) else {
            glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
            return false
        }
        if bytesPerRow == rowBytes {
            p.copyMemory(from: data, byteCount: size)
        } else {
            for r in 0..<rows { (p + r * rowBytes).copyMemory(from: data + r * bytesPerRow, byteCount: rowBytes) }
        }
        guard glUnmapBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER)) == GLboolean(GL_TRUE) else {
            glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
            return false
        }
        return true
    }
}
