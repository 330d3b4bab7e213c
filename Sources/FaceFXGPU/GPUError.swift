// Typed errors of the GPU layer. `description` is one line (the CLI prints it as is);
// shader compile errors keep the full line-numbered source in `detail` for logs.
import CGLES

public enum GPUError: Error, CustomStringConvertible {
    case noDisplay(String)
    case eglInitializeFailed(String)
    case noContext(String)
    case unsupportedVersion(String)
    case missingExtension(String)
    case deviceIndexOutOfRange(index: Int, count: Int)
    case shaderNotFound(String)
    case shaderCompile(name: String, stage: String, log: String, numberedSource: String)
    case programLink(name: String, log: String)
    case framebufferIncomplete(status: UInt32)
    case invalidArgument(String)
    case glError(operation: String, code: UInt32)
    case released(String)

    public var description: String {
        switch self {
        case .noDisplay(let why): return "no EGL display: \(why)"
        case .eglInitializeFailed(let why): return "EGL initialisation failed: \(why)"
        case .noContext(let why): return "no GLES 3.1 context: \(why)"
        case .unsupportedVersion(let v): return "GLES 3.1 or newer needed, got \(v)"
        case .missingExtension(let e): return "missing extension \(e)"
        case .deviceIndexOutOfRange(let i, let n): return "GPU device \(i) does not exist (\(n) EGL devices)"
        case .shaderNotFound(let n): return "shader \(n) not found in the embedded library or FACEFX_SHADER_DIR"
        case .shaderCompile(let name, let stage, let log, _):
            return "shader compile error in \(name) (\(stage)): " + GPUError.oneLine(log)
        case .programLink(let name, let log): return "program link error in \(name): " + GPUError.oneLine(log)
        case .framebufferIncomplete(let s): return "framebuffer incomplete (status 0x\(String(s, radix: 16)))"
        case .invalidArgument(let why): return "invalid argument: \(why)"
        case .glError(let op, let code): return "GL error 0x\(String(code, radix: 16)) after \(op)"
        case .released(let what): return "\(what) was already released"
        }
    }

    /// Multi-line detail for logs: the info log plus the numbered source for compile errors.
    public var detail: String {
        if case .shaderCompile(_, _, let log, let src) = self { return description + "\n" + log + "\n" + src }
        return description
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " | ")
    }
}

/// Hex name of an EGL error code, for messages.
func eglErrorString(_ code: EGLint = eglGetError()) -> String { "EGL error 0x" + String(code, radix: 16) }
