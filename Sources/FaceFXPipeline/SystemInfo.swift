import FaceFXGPU
import FaceFXMedia
import Foundation

/// `facefx info`: the libraries and the GPU facefx would use on this machine.
public enum SystemInfo {
    public static func report(gpu selection: GPUDeviceSelection) throws -> String {
        var lines: [String] = []
        lines.append("facefx \(FaceFXVersion.string)")
        lines.append("FFmpeg: \(MediaLibraryInfo.versions)")
        lines.append("FFmpeg configuration:")
        lines += wrapped(MediaLibraryInfo.configuration, width: 100).map { "  " + $0 }
        let codecs = EncodeOptions.Codec.allCases
        let encoders = codecs.filter { !$0.isHardware }.map { "\($0.rawValue) (\($0.encoderName)): \($0.isAvailable ? "yes" : "no")" }
        lines.append("encoders: " + encoders.joined(separator: ", "))
        lines.append("hardware decoder nvdec: " + (NVDEC.unavailableReason.map { "no (\($0))" } ?? "yes"))
        for c in codecs where c.isHardware {
            lines.append("hardware encoder \(c.rawValue): " + (c.unavailableReason.map { "no (\($0))" } ?? "yes"))
        }
        lines.append("EGL devices:")
        let devices = GPUContext.listDevices()
        if devices.isEmpty { lines.append("  (none enumerated; Mesa surfaceless platform is used)") }
        for d in devices { lines.append("  \(d)") }
        do {
            let ctx = try GPUContext(device: selection)
            lines.append("selected (--gpu \(selection)): \(ctx.displayDescription)")
            lines.append("GL vendor: \(ctx.vendor)")
            lines.append("GL renderer: \(ctx.renderer)")
            lines.append("GL version: \(ctx.version)")
            lines.append("GLSL version: \(ctx.glslVersion)")
            lines.append("max texture size: \(ctx.maxTextureSize)")
            lines.append("software renderer: \(ctx.isSoftware ? "yes" : "no")")
            // Listed while the context exists: the EGL vendor library and the driver it loaded are among them.
            let libraries = LoadedLibraries.paths()
            lines.append("loaded libraries (\(libraries.count)):")
            lines += libraries.map { "  " + $0 }
        } catch {
            throw PipelineError.processing("GPU: \(error)")
        }
        return lines.joined(separator: "\n")
    }

    /// Words of `text` in lines of at most `width` characters (a longer word has a line of its own).
    static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
