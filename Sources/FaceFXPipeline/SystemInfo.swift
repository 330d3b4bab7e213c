import FaceFXGPU
import FaceFXMedia
import Foundation

/// `facefx info`: the libraries and the GPU facefx would use on this machine.
public enum SystemInfo {
    public static func report(gpu selection: GPUDeviceSelection) throws -> String {
        var lines: [String] = []
        lines.append("facefx \(FaceFXVersion.string)")
        lines.append("FFmpeg: \(MediaLibraryInfo.versions)")
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
        } catch {
            throw PipelineError.processing("GPU: \(error)")
        }
        return lines.joined(separator: "\n")
    }
}
