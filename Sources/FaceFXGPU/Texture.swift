// 2-D textures with immutable storage (glTexStorage2D). Images and tensors both live here:
// tensors use the float formats with NEAREST filtering and are read at texel centres
// (texelFetch, or texture() at (i + 0.5) / size, which is exact with NEAREST and cheaper on llvmpipe).
import CGLES

public enum TextureFormat: String, CaseIterable, Hashable {
    case r8, rg8, rgba8, r8ui, r16ui, rg16ui, r32ui, rgba8ui, r16f, rg16f, rgba16f, r32f, rg32f, rgba32f

    public var internalFormat: GLenum {
        switch self {
        case .r8: return GLenum(GL_R8)
        case .rg8: return GLenum(GL_RG8)
        case .rgba8: return GLenum(GL_RGBA8)
        case .r8ui: return GLenum(GL_R8UI)
        case .r16ui: return GLenum(GL_R16UI)
        case .rg16ui: return GLenum(GL_RG16UI)
        case .r32ui: return GLenum(GL_R32UI)
        case .rgba8ui: return GLenum(GL_RGBA8UI)
        case .r16f: return GLenum(GL_R16F)
        case .rg16f: return GLenum(GL_RG16F)
        case .rgba16f: return GLenum(GL_RGBA16F)
        case .r32f: return GLenum(GL_R32F)
        case .rg32f: return GLenum(GL_RG32F)
        case .rgba32f: return GLenum(GL_RGBA32F)
        }
    }

    public var channels: Int {
        switch self {
        case .r8, .r8ui, .r16ui, .r32ui, .r16f, .r32f: return 1
        case .rg8, .rg16ui, .rg16f, .rg32f: return 2
        case .rgba8, .rgba8ui, .rgba16f, .rgba32f: return 4
        }
    }

    /// Pixel transfer format (GL_RED, GL_RG_INTEGER, ...).
    public var pixelFormat: GLenum {
        switch (channels, isInteger) {
        case (1, false): return GLenum(GL_RED)
        case (2, false): return GLenum(GL_RG)
        case (4, false): return GLenum(GL_RGBA)
        case (1, true): return GLenum(GL_RED_INTEGER)
        case (2, true): return GLenum(GL_RG_INTEGER)
        default: return GLenum(GL_RGBA_INTEGER)
        }
    }

    /// The natural client data type for uploads (half-float formats: fp16 bits as UInt16).
    public var defaultDataType: PixelDataType {
        switch self {
        case .r8, .rg8, .rgba8, .r8ui, .rgba8ui: return .unsignedByte
        case .r16ui, .rg16ui: return .unsignedShort
        case .r32ui: return .unsignedInt
        case .r16f, .rg16f, .rgba16f: return .halfFloat
        case .r32f, .rg32f, .rgba32f: return .float
        }
    }

    public var isInteger: Bool { [.r8ui, .r16ui, .rg16ui, .r32ui, .rgba8ui].contains(self) }
    public var isFloat: Bool { [.r16f, .rg16f, .rgba16f, .r32f, .rg32f, .rgba32f].contains(self) }
    /// Linear filtering works on these without extra extensions (32-bit float needs OES_texture_float_linear).
    public var isFilterable: Bool { !isInteger && ![.r32f, .rg32f, .rgba32f].contains(self) }
}

/// Client-side element type of uploaded pixel data.
public enum PixelDataType {
    case unsignedByte, unsignedShort, unsignedInt, halfFloat, float
    public var glType: GLenum {
        switch self {
        case .unsignedByte: return GLenum(GL_UNSIGNED_BYTE)
        case .unsignedShort: return GLenum(GL_UNSIGNED_SHORT)
        case .unsignedInt: return GLenum(GL_UNSIGNED_INT)
        case .halfFloat: return GLenum(GL_HALF_FLOAT)
        case .float: return GLenum(GL_FLOAT)
        }
    }
    public var byteSize: Int {
        switch self {
        case .unsignedByte: return 1
        case .unsignedShort, .halfFloat: return 2
        case .unsignedInt, .float: return 4
        }
    }
}

public enum TextureFilter { case nearest, linear }

/// Owns one GL texture. Deleted on the GL thread when the last reference goes (deinit),
/// or at once with `release()`. All methods may be called from any thread.
public final class Texture {
    public let context: GPUContext
    public let width: Int
    public let height: Int
    public let format: TextureFormat
    public private(set) var filter: TextureFilter
    /// The GL name; 0 after `release()`.
    public private(set) var handle: GLuint = 0
    /// Mipmap levels of the storage (1 unless created `mipmapped`).
    public let levels: Int
    /// Layers of a 2-D array texture (`init(context:width:height:layers:format:)`); 0 for a plain 2-D texture.
    public let layers: Int
    /// GL_TEXTURE_2D, or GL_TEXTURE_2D_ARRAY for an array texture.
    public var target: GLenum { layers > 0 ? GLenum(GL_TEXTURE_2D_ARRAY) : GLenum(GL_TEXTURE_2D) }

    /// `mipmapped`: full mip chain (trilinear minification for images drawn smaller than their size,
    /// e.g. overlay art); fill level 0 with `upload` and call `generateMipmaps()`.
    public init(context: GPUContext, width: Int, height: Int, format: TextureFormat, filter: TextureFilter = .nearest,
                mipmapped: Bool = false) throws {
        guard width > 0, height > 0, width <= context.maxTextureSize, height <= context.maxTextureSize else {
            throw GPUError.invalidArgument("texture size \(width)x\(height) (max \(context.maxTextureSize))")
        }
        if filter == .linear && !format.isFilterable {
            throw GPUError.invalidArgument("\(format) textures cannot be filtered linearly")
        }
        self.context = context
        self.width = width
        self.height = height
        self.format = format
        self.filter = filter
        var levels = 1
        if mipmapped { while (max(width, height) >> levels) > 0 { levels += 1 } }
        self.levels = levels
        layers = 0
        handle = try context.sync { () throws -> GLuint in
            var t: GLuint = 0
            glGenTextures(1, &t)
            glBindTexture(GLenum(GL_TEXTURE_2D), t)
            glTexStorage2D(GLenum(GL_TEXTURE_2D), GLsizei(levels), format.internalFormat, GLsizei(width), GLsizei(height))
            Texture.applyParameters(filter, mipmapped: levels > 1)
            glBindTexture(GLenum(GL_TEXTURE_2D), 0)
            context.noteCreated(.texture)
            do { try context.checkGLError("glTexStorage2D(\(format) \(width)x\(height))") } catch {
                glDeleteTextures(1, &t); context.noteDeleted(.texture); throw error
            }
            return t
        }
    }

    /// A 2-D array texture of `layers` layers (NEAREST, clamp to edge), immutable storage. Only sampling
    /// (sampler2DArray) and rendering into layers (`Framebuffer(context:layersOf:)`) use it: `upload` and
    /// `setFilter` are for plain 2-D textures.
    public init(context: GPUContext, width: Int, height: Int, layers: Int, format: TextureFormat) throws {
        guard width > 0, height > 0, width <= context.maxTextureSize, height <= context.maxTextureSize,
              layers > 0, layers <= context.maxArrayTextureLayers else {
            throw GPUError.invalidArgument("array texture \(width)x\(height)x\(layers) (max \(context.maxTextureSize), \(context.maxArrayTextureLayers) layers)")
        }
        self.context = context
        self.width = width
        self.height = height
        self.format = format
        self.filter = .nearest
        self.layers = layers
        self.levels = 1
        handle = try context.sync { () throws -> GLuint in
            var t: GLuint = 0
            let target = GLenum(GL_TEXTURE_2D_ARRAY)
            glGenTextures(1, &t)
            glBindTexture(target, t)
            glTexStorage3D(target, 1, format.internalFormat, GLsizei(width), GLsizei(height), GLsizei(layers))
            let f = GLint(GL_NEAREST)
            glTexParameteri(target, GLenum(GL_TEXTURE_MIN_FILTER), f)
            glTexParameteri(target, GLenum(GL_TEXTURE_MAG_FILTER), f)
            glTexParameteri(target, GLenum(GL_TEXTURE_WRAP_S), GLint(GL_CLAMP_TO_EDGE))
            glTexParameteri(target, GLenum(GL_TEXTURE_WRAP_T), GLint(GL_CLAMP_TO_EDGE))
            glBindTexture(target, 0)
            context.noteCreated(.texture)
            do { try context.checkGLError("glTexStorage3D(\(format) \(width)x\(height)x\(layers))") } catch {
                glDeleteTextures(1, &t); context.noteDeleted(.texture); throw error
            }
            return t
        }
    }

    deinit {
        guard handle != 0 else { return }
        var h = handle
        context.deleteLater(.texture) { glDeleteTextures(1, &h) }
    }

    /// Deletes the GL texture now instead of waiting for deinit.
    public func release() {
        guard handle != 0 else { return }
        var h = handle
        handle = 0
        context.sync { glDeleteTextures(1, &h); context.noteDeleted(.texture) }
    }

    private static func applyParameters(_ filter: TextureFilter, mipmapped: Bool = false) {
        let f = GLint(filter == .linear ? GL_LINEAR : GL_NEAREST)
        let minFilter = mipmapped ? GLint(filter == .linear ? GL_LINEAR_MIPMAP_LINEAR : GL_NEAREST_MIPMAP_NEAREST) : f
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MIN_FILTER), minFilter)
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MAG_FILTER), f)
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_WRAP_S), GLint(GL_CLAMP_TO_EDGE))
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_WRAP_T), GLint(GL_CLAMP_TO_EDGE))
    }

    /// NEAREST for tensors (default); LINEAR only for image resampling (letterbox, ROI crops).
    public func setFilter(_ newFilter: TextureFilter) throws {
        guard newFilter != filter else { return }
        if newFilter == .linear && !format.isFilterable {
            throw GPUError.invalidArgument("\(format) textures cannot be filtered linearly")
        }
        try checkAlive()
        context.sync {
            glBindTexture(GLenum(GL_TEXTURE_2D), handle)
            Texture.applyParameters(newFilter, mipmapped: levels > 1)
            glBindTexture(GLenum(GL_TEXTURE_2D), 0)
        }
        filter = newFilter
    }

    func checkAlive() throws {
        if handle == 0 { throw GPUError.released("texture \(width)x\(height) \(format)") }
    }

    /// Uploads a region from client memory. `bytesPerRow` may exceed the row (decoder strides):
    /// it becomes GL_UNPACK_ROW_LENGTH, so no repacking copy is made. `dataType` defaults to the
    /// format's natural type (fp16 bits for half formats; `.float` also works for them).
    /// `through`: copy via that pixel-unpack buffer (UploadBuffer: faster DMA on hardware GPUs).
    public func upload(_ data: UnsafeRawPointer, bytesPerRow: Int, dataType: PixelDataType? = nil,
                       x: Int = 0, y: Int = 0, width w: Int? = nil, height h: Int? = nil,
                       through buffer: UploadBuffer? = nil) throws {
        let type = dataType ?? format.defaultDataType
        let rw = w ?? width, rh = h ?? height
        let pixelBytes = type.byteSize * format.channels
        guard x >= 0, y >= 0, rw > 0, rh > 0, x + rw <= width, y + rh <= height else {
            throw GPUError.invalidArgument("upload region \(x),\(y) \(rw)x\(rh) outside \(width)x\(height)")
        }
        guard bytesPerRow >= rw * pixelBytes, bytesPerRow % pixelBytes == 0 else {
            throw GPUError.invalidArgument("bytesPerRow \(bytesPerRow) for \(rw) pixels of \(pixelBytes) bytes")
        }
        try checkAlive()
        try context.sync { () throws in
            glBindTexture(GLenum(GL_TEXTURE_2D), handle)
            if let buffer, buffer.stage(data, bytesPerRow: bytesPerRow, rowBytes: rw * pixelBytes, rows: rh) {
                // Tightly packed rows (the context keeps GL_UNPACK_ALIGNMENT at 1).
                glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, GLint(x), GLint(y), GLsizei(rw), GLsizei(rh),
                                format.pixelFormat, type.glType, nil)
                glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
            } else {
                glPixelStorei(GLenum(GL_UNPACK_ROW_LENGTH), GLint(bytesPerRow / pixelBytes))
                glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, GLint(x), GLint(y), GLsizei(rw), GLsizei(rh),
                                format.pixelFormat, type.glType, data)
                glPixelStorei(GLenum(GL_UNPACK_ROW_LENGTH), 0)
            }
            glBindTexture(GLenum(GL_TEXTURE_2D), 0)
            try context.checkGLError("glTexSubImage2D(\(format), \(type))")
        }
    }

    /// GL thread: the whole texture from a filled, unmapped `UploadBuffer` (`UploadBuffer.unmap` left it
    /// bound), rows tightly packed; unbinds it.
    func uploadFromBoundUnpackBuffer(dataType: PixelDataType, width w: Int, height h: Int) throws {
        try checkAlive()
        glBindTexture(GLenum(GL_TEXTURE_2D), handle)
        glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, 0, 0, GLsizei(w), GLsizei(h), format.pixelFormat, dataType.glType, nil)
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
        glBindTexture(GLenum(GL_TEXTURE_2D), 0)
        try context.checkGLError("glTexSubImage2D(\(format), \(dataType)) from an upload buffer")
    }

    /// Fills levels 1… from level 0 (mipmapped textures; a no-op otherwise).
    public func generateMipmaps() throws {
        guard levels > 1 else { return }
        try checkAlive()
        try context.sync { () throws in
            glBindTexture(GLenum(GL_TEXTURE_2D), handle)
            glGenerateMipmap(GLenum(GL_TEXTURE_2D))
            glBindTexture(GLenum(GL_TEXTURE_2D), 0)
            try context.checkGLError("glGenerateMipmap")
        }
    }

    /// Uploads the whole texture from tightly packed Float values (float and half-float formats).
    public func upload(floats: [Float]) throws {
        try checkCount(floats.count)
        try floats.withUnsafeBytes { try upload($0.baseAddress!, bytesPerRow: width * format.channels * 4, dataType: .float) }
    }

    /// Uploads the whole texture from tightly packed IEEE fp16 bit patterns (half-float formats).
    public func upload(halfFloats: [UInt16]) throws {
        try checkCount(halfFloats.count)
        try halfFloats.withUnsafeBytes { try upload($0.baseAddress!, bytesPerRow: width * format.channels * 2, dataType: .halfFloat) }
    }

    /// Uploads the whole texture from tightly packed bytes (8-bit formats).
    public func upload(bytes: [UInt8]) throws {
        try checkCount(bytes.count)
        try bytes.withUnsafeBytes { try upload($0.baseAddress!, bytesPerRow: width * format.channels, dataType: .unsignedByte) }
    }

    private func checkCount(_ n: Int) throws {
        guard n == width * height * format.channels else {
            throw GPUError.invalidArgument("\(n) values for a \(width)x\(height) \(format) texture")
        }
    }
}

/// Reuses textures by (size, format) so per-frame or per-layer temporaries cost no GL allocation
/// after warm-up. Network executors acquire activations by liveness and recycle them after their last use.
/// Not locked: use it from one thread (normally inside `context.sync`).
public final class TexturePool {
    public let context: GPUContext
    private struct Key: Hashable { let width: Int, height: Int, layers: Int, format: TextureFormat, filter: TextureFilter }
    private var idle: [Key: [Texture]] = [:]
    public private(set) var createdCount = 0

    public init(context: GPUContext) { self.context = context }

    /// An idle texture of this shape, or a new one. Contents are undefined.
    public func acquire(width: Int, height: Int, format: TextureFormat, filter: TextureFilter = .nearest) throws -> Texture {
        let key = Key(width: width, height: height, layers: 0, format: format, filter: filter)
        if var list = idle[key], let t = list.popLast() {
            idle[key] = list
            return t
        }
        createdCount += 1
        return try Texture(context: context, width: width, height: height, format: format, filter: filter)
    }

    /// An idle 2-D array texture of this shape, or a new one. Contents are undefined.
    public func acquire(width: Int, height: Int, layers: Int, format: TextureFormat) throws -> Texture {
        let key = Key(width: width, height: height, layers: layers, format: format, filter: .nearest)
        if var list = idle[key], let t = list.popLast() {
            idle[key] = list
            return t
        }
        createdCount += 1
        return try Texture(context: context, width: width, height: height, layers: layers, format: format)
    }

    /// Hands a texture back for reuse.
    public func recycle(_ texture: Texture) {
        guard texture.handle != 0 else { return }
        idle[Key(width: texture.width, height: texture.height, layers: texture.layers, format: texture.format, filter: texture.filter), default: []].append(texture)
    }

    public var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// Drops every idle texture (deleted on the GL thread).
    public func purge() { idle.removeAll() }
}
