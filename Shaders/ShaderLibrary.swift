// Access to the GLSL sources embedded at build time (see Plugins/EmbedShaders).
// Set FACEFX_SHADER_DIR to a checkout's Shaders/ folder to edit shaders without rebuilding.
import Foundation

public enum ShaderLibrary {
    /// Names are paths relative to Shaders/, e.g. "color/yuv_to_rgba.glsl".
    public static var names: [String] { EmbeddedShaders.sources.keys.sorted() }

    public static func source(_ name: String) -> String? {
        if let dir = ProcessInfo.processInfo.environment["FACEFX_SHADER_DIR"], !dir.isEmpty,
           let text = try? String(contentsOfFile: dir + "/" + name, encoding: .utf8) {
            return expandIncludes(text, dir: dir)
        }
        return EmbeddedShaders.sources[name]
    }

    private static func expandIncludes(_ text: String, dir: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("#include"), let a = t.firstIndex(of: "\""), let b = t.lastIndex(of: "\""), a < b,
                  let inc = try? String(contentsOfFile: dir + "/" + t[t.index(after: a)..<b], encoding: .utf8)
            else { return String(line) }
            return expandIncludes(inc, dir: dir)
        }.joined(separator: "\n")
    }
}
