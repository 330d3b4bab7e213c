// Vertex data for drawn geometry (overlays): one VAO, one dynamic vertex buffer of interleaved
// floats and one static index buffer, all created once. Per frame only their contents change
// (glBufferSubData), so drawing meshes and sprites allocates no GL object.
import CGLES

/// One float attribute of an interleaved vertex: shader location and component count.
public struct VertexAttribute: Equatable {
    public var location: Int
    public var components: Int
    public init(location: Int, components: Int) { self.location = location; self.components = components }
}

public final class GeometryBuffer {
    public let context: GPUContext
    public let attributes: [VertexAttribute]
    /// Floats per vertex (sum of the attributes' components).
    public let stride: Int
    public let vertexCapacity: Int
    public let indexCapacity: Int
    private var vao: GLuint = 0
    private var vbo: GLuint = 0
    private var ibo: GLuint = 0
    /// Where the attribute pointers currently start (in vertices).
    private var boundBase = -1

    public init(context: GPUContext, attributes: [VertexAttribute], vertexCapacity: Int, indexCapacity: Int) throws {
        guard vertexCapacity > 0, !attributes.isEmpty else { throw GPUError.invalidArgument("empty geometry buffer") }
        self.context = context
        self.attributes = attributes
        stride = attributes.reduce(0) { $0 + $1.components }
        self.vertexCapacity = vertexCapacity
        self.indexCapacity = indexCapacity
        (vao, vbo, ibo) = try context.sync { () throws -> (GLuint, GLuint, GLuint) in
            var a: GLuint = 0, b: GLuint = 0, i: GLuint = 0
            glGenVertexArrays(1, &a); context.noteCreated(.vertexArray)
            glGenBuffers(1, &b); context.noteCreated(.buffer)
            glBindVertexArray(a)
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), b)
            glBufferData(GLenum(GL_ARRAY_BUFFER), vertexCapacity * stride * 4, nil, GLenum(GL_DYNAMIC_DRAW))
            for attr in attributes { glEnableVertexAttribArray(GLuint(attr.location)) }
            if indexCapacity > 0 {
                glGenBuffers(1, &i); context.noteCreated(.buffer)
                glBindBuffer(GLenum(GL_ELEMENT_ARRAY_BUFFER), i)
                glBufferData(GLenum(GL_ELEMENT_ARRAY_BUFFER), indexCapacity * 4, nil, GLenum(GL_STATIC_DRAW))
            }
            glBindVertexArray(0)
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), 0)
            try context.checkGLError("geometry buffer (\(vertexCapacity) vertices, \(indexCapacity) indices)")
            return (a, b, i)
        }
    }

    deinit {
        var a = vao, b = vbo, i = ibo
        context.deleteLater(.vertexArray) { glDeleteVertexArrays(1, &a) }
        context.deleteLater(.buffer) { glDeleteBuffers(1, &b) }
        if i != 0 { context.deleteLater(.buffer) { glDeleteBuffers(1, &i) } }
    }

    /// Writes indices (UInt32) at `offset` (in indices). Meant for load time: index lists are static.
    public func setIndices(_ indices: [UInt32], at offset: Int = 0) throws {
        guard offset >= 0, offset + indices.count <= indexCapacity else {
            throw GPUError.invalidArgument("\(indices.count) indices at \(offset) exceed capacity \(indexCapacity)")
        }
        context.sync {
            glBindVertexArray(vao)
            indices.withUnsafeBytes {
                glBufferSubData(GLenum(GL_ELEMENT_ARRAY_BUFFER), offset * 4, $0.count, $0.baseAddress)
            }
            glBindVertexArray(0)
        }
    }

    /// Writes interleaved vertices (`stride` floats each) starting at vertex `offset`.
    public func setVertices(_ floats: UnsafeBufferPointer<Float>, at offset: Int = 0) throws {
        let n = floats.count / stride
        guard floats.count % stride == 0, offset >= 0, offset + n <= vertexCapacity else {
            throw GPUError.invalidArgument("\(floats.count) floats at vertex \(offset) exceed capacity \(vertexCapacity)×\(stride)")
        }
        guard n > 0 else { return }
        context.sync {
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), vbo)
            glBufferSubData(GLenum(GL_ARRAY_BUFFER), offset * stride * 4, floats.count * 4, floats.baseAddress)
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), 0)
        }
    }

    /// Binds the VAO with vertex 0 of the attributes at vertex `base` of the buffer (GL thread only,
    /// inside `context.sync`). Indices drawn next are relative to `base`.
    public func bind(base: Int) {
        glBindVertexArray(vao)
        if base != boundBase {
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), vbo)
            var off = 0
            for attr in attributes {
                glVertexAttribPointer(GLuint(attr.location), GLint(attr.components), GLenum(GL_FLOAT), GLboolean(GL_FALSE),
                                      GLsizei(stride * 4), UnsafeRawPointer(bitPattern: (base * stride + off) * 4))
                off += attr.components
            }
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), 0)
            boundBase = base
        }
    }

    /// Draws `count` indices from index `first` as triangles (after `bind`).
    public func drawIndexed(first: Int, count: Int) {
        guard count > 0 else { return }
        glDrawElements(GLenum(GL_TRIANGLES), GLsizei(count), GLenum(GL_UNSIGNED_INT), UnsafeRawPointer(bitPattern: first * 4))
    }

    /// Draws `count` vertices from vertex `first` (relative to the bound base) as triangles.
    public func draw(first: Int, count: Int) {
        guard count > 0 else { return }
        glDrawArrays(GLenum(GL_TRIANGLES), GLint(first), GLsizei(count))
    }

    public func unbind() { glBindVertexArray(0) }
}
