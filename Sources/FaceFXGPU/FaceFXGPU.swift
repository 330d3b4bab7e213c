import CGLES
import FaceFXShaders
public enum FaceFXGPUInfo { public static var shaders: [String] { ShaderLibrary.names }; static func f() { _ = glGetString(GLenum(GL_VERSION)); _ = cgles_no_display() } }
