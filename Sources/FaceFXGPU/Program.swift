// Linked GLSL programs, a cache keyed by shader names + sorted defines, and uniform setters.
// Shader files hold only the body; the cache prepends version, precision and defines.
import CGLES
import Foundation
import FaceFXShaders

/// A uniform value for `PassRunner.drawFullscreen(uniforms:)` and `Program.set`.
public enum UniformValue {
    case int(Int32), ivec2(Int32, Int32), ivec3(Int32, Int32, Int32), ivec4(Int32, Int32, Int32, Int32)
    case uint(UInt32)
    case float(Float), vec2(Float, Float), vec3(Float, Float, Float), vec4(Float, Float, Float, Float)
    /// Column-major 3x3 / 4x4 (GLSL order).
    case mat3([Float]), mat4([Float])
    /// `uniform float u[N]` / `uniform vec4 u[N]` (4 floats per element).
    case floatArray([Float]), vec4Array([Float])
    case intArray([Int32])
}

public final class Program {
    public let context: GPUContext
    /// Cache key: "fragment.glsl|vertex.glsl|A=1,B=2".
    public let name: String
    public private(set) var handle: GLuint = 0
    private var locations: [String: GLint] = [:]

    /// Compiles and links complete sources (preamble included). Prefer `ProgramCache.program`.
    public init(context: GPUContext, name: String, vertexSource: String, fragmentSource: String,
                bodyLineOffset: (vertex: Int, fragment: Int) = (0, 0)) throws {
        self.context = context
        self.name = name
        handle = try context.sync { () throws -> GLuint in
            let vs = try Program.compile(GLenum(GL_VERTEX_SHADER), vertexSource, name: name, stage: "vertex", lineOffset: bodyLineOffset.vertex)
            defer { glDeleteShader(vs) }
            let fs = try Program.compile(GLenum(GL_FRAGMENT_SHADER), fragmentSource, name: name, stage: "fragment", lineOffset: bodyLineOffset.fragment)
            defer { glDeleteShader(fs) }
            return try Program.link([vs, fs], name: name, context: context)
        }
    }

    /// Compiles and links a compute program from its complete source (preamble included).
    /// Prefer `ProgramCache.computeProgram`.
    public init(context: GPUContext, name: String, computeSource: String, bodyLineOffset: Int = 0) throws {
        self.context = context
        self.name = name
        isCompute = true
        handle = try context.sync { () throws -> GLuint in
            let cs = try Program.compile(GLenum(GL_COMPUTE_SHADER), computeSource, name: name, stage: "compute", lineOffset: bodyLineOffset)
            defer { glDeleteShader(cs) }
            return try Program.link([cs], name: name, context: context)
        }
    }

    /// Links compiled shaders into a program (GL thread); the link log in the error on failure.
    private static func link(_ shaders: [GLuint], name: String, context: GPUContext) throws -> GLuint {
        let p = glCreateProgram()
        for sh in shaders { glAttachShader(p, sh) }
        glLinkProgram(p)
        var ok: GLint = 0
        glGetProgramiv(p, GLenum(GL_LINK_STATUS), &ok)
        if ok == 0 {
            let log = Program.infoLog(p, isProgram: true)
            glDeleteProgram(p)
            throw GPUError.programLink(name: name, log: log)
        }
        context.noteCreated(.program)
        return p
    }

    /// A compute program (`ProgramCache.computeProgram`): run with `PassRunner.dispatch`.
    public private(set) var isCompute = false

    deinit {
        guard handle != 0 else { return }
        let p = handle
        context.deleteLater(.program) { glDeleteProgram(p) }
    }

    private static func compile(_ type: GLenum, _ source: String, name: String, stage: String, lineOffset: Int) throws -> GLuint {
        let sh = glCreateShader(type)
        source.withCString { cs in
            var p: UnsafePointer<GLchar>? = cs
            glShaderSource(sh, 1, &p, nil)
        }
        glCompileShader(sh)
        var ok: GLint = 0
        glGetShaderiv(sh, GLenum(GL_COMPILE_STATUS), &ok)
        if ok == 0 {
            let log = infoLog(sh, isProgram: false)
            glDeleteShader(sh)
            throw GPUError.shaderCompile(name: name, stage: stage, log: log, numberedSource: numbered(source, lineOffset: lineOffset))
        }
        return sh
    }

    /// Source with line numbers as the compiler reports them: preamble lines are unnumbered ("  -"),
    /// body lines count from 1 because the cache emits `#line 1` before the body.
    static func numbered(_ source: String, lineOffset: Int) -> String {
        source.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { i, line in
            let n = i - lineOffset + 1
            let tag = n >= 1 ? String(n) : "-"
            return String(repeating: " ", count: max(0, 4 - tag.count)) + tag + ": " + line
        }.joined(separator: "\n")
    }

    private static func infoLog(_ object: GLuint, isProgram: Bool) -> String {
        var len: GLint = 0
        if isProgram { glGetProgramiv(object, GLenum(GL_INFO_LOG_LENGTH), &len) } else { glGetShaderiv(object, GLenum(GL_INFO_LOG_LENGTH), &len) }
        guard len > 1 else { return "(no info log)" }
        var buf = [GLchar](repeating: 0, count: Int(len) + 1)
        if isProgram { glGetProgramInfoLog(object, len, nil, &buf) } else { glGetShaderInfoLog(object, len, nil, &buf) }
        return String(cString: buf).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Uniform location, cached; -1 for names the compiler removed (setting those is a no-op, as in GL).
    public func location(_ uniform: String) -> GLint {
        context.sync {
            if let l = locations[uniform] { return l }
            let l = glGetUniformLocation(handle, uniform)
            locations[uniform] = l
            return l
        }
    }

    /// Sets a uniform without binding the program (glProgramUniform*, GLES 3.1).
    public func set(_ uniform: String, _ value: UniformValue) {
        context.sync {
            let l = location(uniform)
            guard l >= 0 else { return }
            set(location: l, value)
        }
    }

    /// Sets a uniform by location (GL thread only; `location(_:)` resolves names once).
    public func set(location l: GLint, _ value: UniformValue) {
        do {
            let p = handle
            switch value {
            case .int(let a): glProgramUniform1i(p, l, a)
            case .ivec2(let a, let b): glProgramUniform2i(p, l, a, b)
            case .ivec3(let a, let b, let c): glProgramUniform3i(p, l, a, b, c)
            case .ivec4(let a, let b, let c, let d): glProgramUniform4i(p, l, a, b, c, d)
            case .uint(let a): glProgramUniform1ui(p, l, a)
            case .float(let a): glProgramUniform1f(p, l, a)
            case .vec2(let a, let b): glProgramUniform2f(p, l, a, b)
            case .vec3(let a, let b, let c): glProgramUniform3f(p, l, a, b, c)
            case .vec4(let a, let b, let c, let d): glProgramUniform4f(p, l, a, b, c, d)
            case .mat3(let m): precondition(m.count == 9); glProgramUniformMatrix3fv(p, l, 1, GLboolean(GL_FALSE), m)
            case .mat4(let m): precondition(m.count == 16); glProgramUniformMatrix4fv(p, l, 1, GLboolean(GL_FALSE), m)
            case .floatArray(let a): glProgramUniform1fv(p, l, GLsizei(a.count), a)
            case .vec4Array(let a): precondition(a.count % 4 == 0); glProgramUniform4fv(p, l, GLsizei(a.count / 4), a)
            case .intArray(let a): glProgramUniform1iv(p, l, GLsizei(a.count), a)
            }
        }
    }

    public func set(_ uniform: String, _ v: Int) { set(uniform, .int(Int32(v))) }
    public func set(_ uniform: String, _ v: Float) { set(uniform, .float(v)) }
    public func set(_ uniform: String, _ v: SIMD2<Float>) { set(uniform, .vec2(v.x, v.y)) }
    public func set(_ uniform: String, _ v: SIMD3<Float>) { set(uniform, .vec3(v.x, v.y, v.z)) }
    public func set(_ uniform: String, _ v: SIMD4<Float>) { set(uniform, .vec4(v.x, v.y, v.z, v.w)) }
    public func set(_ uniform: String, _ v: SIMD2<Int32>) { set(uniform, .ivec2(v.x, v.y)) }
    public func set(_ uniform: String, _ v: SIMD3<Int32>) { set(uniform, .ivec3(v.x, v.y, v.z)) }
    public func set(_ uniform: String, _ v: SIMD4<Int32>) { set(uniform, .ivec4(v.x, v.y, v.z, v.w)) }
    public func set(_ uniform: String, floats: [Float]) { set(uniform, .floatArray(floats)) }
}

/// Compiles each (vertex, fragment, defines) combination once. Create programs at load time;
/// a lookup of a cached program is a dictionary hit. Use from one thread at a time.
public final class ProgramCache {
    public let context: GPUContext
    public static let fullscreenVertex = "common/fullscreen.vert.glsl"
    /// Compiled programs by key. Locked: the passes of one job are encoded from more than one thread (its
    /// analysis thread and its drawing thread); a program two threads compile at once is kept once.
    private var programs: [String: Program] = [:]
    private let lock = NSLock()
    /// Constant textures (network weights) by size, format and a digest of their values, shared like the
    /// programs: the jobs on a context (a batch's files, a file's lanes) and a network's batch variants
    /// upload each weight tensor once (8 jobs compiled 104 networks, 1.2 s of the GL thread's 4.9 s).
    private var constants: [ConstantKey: [(values: [Float], texture: Texture)]] = [:]

    private struct ConstantKey: Hashable {
        var width: Int, height: Int, format: TextureFormat, digest: UInt64
    }

    public init(context: GPUContext) { self.context = context }

    /// A texture of RGBA texels (row 0 first) that is never written again, made by `pack` from `sources`:
    /// arrays that stay unchanged while they live (a graph's weights), packed the way `layout` names (it must
    /// say everything `pack` does with them besides reading them). A network built again from the same
    /// graph (another batch size, another lane or file) finds its textures by the sources' storage and
    /// `layout`, without packing or comparing (2-9 ms of a 7-10 ms build on an H100 host); other sources
    /// by content: the texture already made with the same size, format and values, else a new one.
    public func constantTexture(sources: [[Float]], layout: String, format: TextureFormat,
                                pack: () throws -> (width: Int, height: Int, values: [Float])) throws -> Texture {
        let key = SourceKey(layout: layout, format: format, storage: sources.map { a in
            a.withUnsafeBufferPointer { SourceKey.Storage(address: UInt(bitPattern: $0.baseAddress), count: $0.count) }
        })
        if let hit = lock.withLock({ bySource[key]?.texture }) { return hit }
        let (width, height, values) = try pack()
        var digest: UInt64 = 0xcbf29ce484222325   // FNV-1a over the values' bits; equal values are still compared
        for v in values { digest = (digest ^ UInt64(v.bitPattern)) &* 0x100000001b3 }
        let contentKey = ConstantKey(width: width, height: height, format: format, digest: digest)
        let texture: Texture
        if let same = lock.withLock({ constants[contentKey]?.first { $0.values == values }?.texture }) {
            texture = same
        } else {
            texture = try Texture(context: context, width: width, height: height, format: format)
            try texture.upload(floats: values)
            lock.withLock { constants[contentKey, default: []].append((values, texture)) }
        }
        // The entry keeps the sources alive, so no other array can take their storage's address.
        lock.withLock { bySource[key] = (sources, texture) }
        return texture
    }

    /// What `constantTexture` knows sources by: their storage (address, count), the packing and format.
    private struct SourceKey: Hashable {
        struct Storage: Hashable { var address: UInt; var count: Int }
        var layout: String
        var format: TextureFormat
        var storage: [Storage]
    }
    private var bySource: [SourceKey: (sources: [[Float]], texture: Texture)] = [:]

    public var count: Int { lock.withLock { programs.count } }

    private func cached(_ key: String) -> Program? { lock.withLock { programs[key] } }

    private func remember(_ key: String, _ program: Program) -> Program {
        lock.withLock {
            if let first = programs[key] { return first }
            programs[key] = program
            return program
        }
    }

    /// The key: shader names plus defines sorted by name, so argument order never matters.
    public static func key(fragment: String, vertex: String, defines: [String: String], version: String = "300 es") -> String {
        fragment + "|" + vertex + "|" + defines.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            + (version == "300 es" ? "" : "|" + version)
    }

    /// `#version 300 es` (or `version`: "310 es" for textureGather, images), precision for every
    /// sampler type a pass may use, the defines, `#line 1`.
    public static func preamble(fragment: Bool, defines: [String: String], version: String = "300 es") -> String {
        var s = "#version \(version)\n"
        s += "precision highp float;\nprecision highp int;\n"
        if fragment {
            s += "precision highp sampler2D;\nprecision highp usampler2D;\nprecision highp isampler2D;\n"
            s += "precision highp sampler2DArray;\nprecision highp sampler3D;\n"
        }
        for (k, v) in defines.sorted(by: { $0.key < $1.key }) { s += "#define \(k) \(v)\n" }
        s += "#line 1\n"
        return s
    }

    /// The program for shader files in Shaders/ (names relative to it), compiled on first use.
    public func program(_ fragment: String, vertex: String = ProgramCache.fullscreenVertex,
                        defines: [String: String] = [:], version: String = "300 es") throws -> Program {
        let key = ProgramCache.key(fragment: fragment, vertex: vertex, defines: defines, version: version)
        if let p = cached(key) { return p }
        guard let fs = ShaderLibrary.source(fragment) else { throw GPUError.shaderNotFound(fragment) }
        guard let vs = ShaderLibrary.source(vertex) else { throw GPUError.shaderNotFound(vertex) }
        let p = try program(key: key, vertexBody: vs, fragmentBody: fs, defines: defines, version: version)
        return p
    }

    /// Same, from in-memory bodies (generated kernels, tests). `key` must identify the sources.
    public func program(key: String, vertexBody: String, fragmentBody: String, defines: [String: String] = [:],
                        version: String = "300 es") throws -> Program {
        if let p = cached(key) { return p }
        let vp = ProgramCache.preamble(fragment: false, defines: defines, version: version)
        let fp = ProgramCache.preamble(fragment: true, defines: defines, version: version)
        let p = try Program(context: context, name: key, vertexSource: vp + vertexBody, fragmentSource: fp + fragmentBody,
                            bodyLineOffset: (ProgramCache.lineCount(vp), ProgramCache.lineCount(fp)))
        return remember(key, p)
    }

    /// Local work-group size of the compute passes (`computeProgram`): `GPUTuning.computeGroup`.
    public var computeGroup: GPUTuning.ComputeGroup { context.tuning.computeGroup }

    /// A fragment-style pass shader (one output texel per invocation into `vec4 o_value`, its
    /// position read through the `PASS_XY` macro of the shader, entry point `void main()`) compiled
    /// as a GLES 3.1 compute shader: `COMPUTE_PASS` is defined, the body's `main` becomes
    /// `passMain`, and a `main` is appended that runs it for each texel of the image bound to
    /// unit 0 (`format`: its layout qualifier, e.g. rgba16f) and stores o_value there.
    /// Run with `PassRunner.dispatch`.
    public func computeProgram(_ shader: String, defines: [String: String] = [:], imageFormat: TextureFormat) throws -> Program {
        try libraryComputePass(shader, defines: defines, keyPrefix: "compute:", variant: imageFormat.rawValue) {
            try computeProgram(key: $0, passBody: $1, defines: defines, imageFormat: imageFormat)
        }
    }

    /// Same, from an in-memory body. `key` must identify the source, defines and format.
    public func computeProgram(key: String, passBody: String, defines: [String: String], imageFormat: TextureFormat) throws -> Program {
        try computePass(key: key, passBody: passBody, defines: defines, output: """
            layout(\(imageFormat.rawValue), binding = 0) writeonly uniform highp image2D u_passTarget;
            """, store: "imageStore(u_passTarget, p, o_value);")
    }

    /// A pass shader (as `computeProgram`) whose texels, values in [0, 1], are stored as unorm8×4 words
    /// of the storage buffer at binding 0, word p.y * u_passRowWords + p.x: what an RGBA8 target would
    /// hold, in a buffer that maps back fast. Run with `PassRunner.dispatch(program:groups:buffer:...)`,
    /// setting `u_passRegion` and `u_passRowWords`.
    public func computeProgramToWords(_ shader: String, defines: [String: String] = [:]) throws -> Program {
        try libraryComputePass(shader, defines: defines, keyPrefix: "compute-words:", variant: "") {
            try computePass(key: $0, passBody: $1, defines: defines, output: """
                layout(std430, binding = 0) writeonly buffer PassWords { uint passWords[]; };
                uniform int u_passRowWords;
                """, store: "passWords[p.y * u_passRowWords + p.x] = packUnorm4x8(o_value);")
        }
    }

    /// The cached program of a library pass shader compiled by `build(key, body)`.
    private func libraryComputePass(_ shader: String, defines: [String: String], keyPrefix: String, variant: String,
                                    build: (String, String) throws -> Program) throws -> Program {
        var d = defines
        d["COMPUTE_PASS"] = "1"
        let key = keyPrefix + ProgramCache.key(fragment: shader, vertex: variant, defines: d, version: "310 es")
        if let p = cached(key) { return p }
        guard let body = ShaderLibrary.source(shader) else { throw GPUError.shaderNotFound(shader) }
        return try build(key, body)
    }

    private func computePass(key: String, passBody: String, defines: [String: String], output: String, store: String) throws -> Program {
        if let p = cached(key) { return p }
        guard let r = passBody.range(of: "void main()"), passBody[r.upperBound...].range(of: "void main()") == nil else {
            throw GPUError.invalidArgument("\(key): a compute pass body needs exactly one `void main()`")
        }
        var d = defines
        d["COMPUTE_PASS"] = "1"
        let pre = ProgramCache.preamble(fragment: true, defines: d, version: "310 es")
            .replacingOccurrences(of: "#line 1\n", with: "precision highp image2D;\nivec2 passTexel;\n#line 1\n")
        let g = computeGroup
        let source = pre + passBody.replacingCharacters(in: r, with: "void passMain()") + """

            layout(local_size_x = \(g.x), local_size_y = \(g.y)) in;
            \(output)
            uniform ivec4 u_passRegion;  // x, y, width, height of the texels written (set by every dispatch)
            void main() {
                ivec2 g = ivec2(gl_GlobalInvocationID.xy);
                if (g.x >= u_passRegion.z || g.y >= u_passRegion.w) return;
                ivec2 p = u_passRegion.xy + g;
                passTexel = p;
                passMain();
                \(store)
            }

            """
        let p = try Program(context: context, name: key, computeSource: source, bodyLineOffset: ProgramCache.lineCount(pre))
        return remember(key, p)
    }

    /// A complete compute shader in Shaders/ (its own `layout(local_size_x …) in` and `main`), as
    /// GLSL ES 3.10 with the usual preamble. Run with `PassRunner.dispatch(program:groups:buffer:...)`.
    public func computeShader(_ name: String, defines: [String: String] = [:]) throws -> Program {
        let key = "cs:" + ProgramCache.key(fragment: name, vertex: "", defines: defines, version: "310 es")
        if let p = cached(key) { return p }
        guard let body = ShaderLibrary.source(name) else { throw GPUError.shaderNotFound(name) }
        let pre = ProgramCache.preamble(fragment: true, defines: defines, version: "310 es")
        let p = try Program(context: context, name: key, computeSource: pre + body, bodyLineOffset: ProgramCache.lineCount(pre))
        return remember(key, p)
    }

    /// A generated complete compute shader: `header`, a library file (its #includes resolved), then `body`, as
    /// GLSL ES 3.10 with the usual preamble; cached by a digest of the body (the header and defines in the key).
    public func generatedComputeShader(header: String, body: String, defines: [String: String] = [:]) throws -> Program {
        let key = "cs-generated:\(ProgramCache.digest(body)):" + ProgramCache.key(fragment: header, vertex: "", defines: defines, version: "310 es")
        if let p = cached(key) { return p }
        guard let library = ShaderLibrary.source(header) else { throw GPUError.shaderNotFound(header) }
        let pre = ProgramCache.preamble(fragment: true, defines: defines, version: "310 es")
        let p = try Program(context: context, name: key, computeSource: pre + library + "\n" + body, bodyLineOffset: ProgramCache.lineCount(pre))
        return remember(key, p)
    }

    /// A cache key for generated source: its 64-bit FNV-1a hash and its length.
    public static func digest(_ source: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for byte in source.utf8 { h = (h ^ UInt64(byte)) &* 0x100000001b3 }
        return "\(String(h, radix: 16)):\(source.utf8.count)"
    }

    /// A shader file's source with its #includes resolved (for generated shaders built on a library file).
    public static func librarySource(_ name: String) -> String? { ShaderLibrary.source(name) }

    /// Source of the shared vertex shader, for `program(key:vertexBody:...)`.
    public static var fullscreenVertexBody: String { ShaderLibrary.source(fullscreenVertex) ?? "" }

    static func lineCount(_ s: String) -> Int { s.reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }
}
