import CFFmpeg
import Foundation

/// Output video encoding settings.
public struct EncodeOptions: Sendable {
    public enum Codec: String, Sendable, CaseIterable {
        case h264, h265, vp9
        /// NVIDIA's hardware encoders (NVENC), through the driver's libnvidia-encode.
        case h264NVENC = "h264_nvenc", hevcNVENC = "hevc_nvenc"

        /// The FFmpeg encoder behind each choice.
        public var encoderName: String {
            switch self {
            case .h264: return "libx264"
            case .h265: return "libx265"
            case .vp9: return "libvpx-vp9"
            case .h264NVENC, .hevcNVENC: return rawValue
            }
        }

        public var isHardware: Bool { self == .h264NVENC || self == .hevcNVENC }
        var isHEVC: Bool { self == .h265 || self == .hevcNVENC }

        /// Parses a user-typed name ("h264", "x264", "hevc", "vp9", "h264_nvenc"...); unknown names are an `.unsupportedCodec`.
        public static func parse(_ name: String) throws -> Codec {
            switch name.lowercased() {
            case "h264", "avc", "x264", "libx264": return .h264
            case "h265", "hevc", "x265", "libx265": return .h265
            case "vp9", "libvpx-vp9": return .vp9
            case "h264_nvenc", "nvenc": return .h264NVENC
            case "hevc_nvenc", "h265_nvenc": return .hevcNVENC
            default:
                throw MediaError.unsupportedCodec(path: "", codec: name, reason: "choose one of h264, h265, vp9, h264_nvenc, hevc_nvenc")
            }
        }

        /// Whether this machine can encode with it (see `unavailableReason`).
        public var isAvailable: Bool { unavailableReason == nil }

        /// Why this machine cannot encode with it, or nil. Software encoders need only be in this FFmpeg
        /// build; hardware ones also need the driver and a GPU that has them, which only opening one
        /// shows (Debian's FFmpeg always lists NVENC and loads the driver's libraries at open): a small
        /// encoder is opened once per process and the answer kept.
        public var unavailableReason: String? {
            guard let encoder = avcodec_find_encoder_by_name(encoderName) else { return "this FFmpeg has no \(encoderName)" }
            guard isHardware else { return nil }
            return CodecProbe.shared.reason(for: self) { CodecProbe.open(encoder) }
        }
    }

    public var codec: Codec
    /// Constant-quality factor (x264/x265 CRF; VP9 CRF in constant-quality mode). Lower is better; 18 is visually lossless.
    public var crf: Int
    /// x264/x265 preset name; mapped to libvpx `cpu-used` for VP9.
    public var preset: String
    /// Encoder threads; 0 lets the encoder decide.
    public var threads: Int

    public init(codec: Codec = .h264, crf: Int = 18, preset: String = "medium", threads: Int = 0) {
        self.codec = codec; self.crf = crf; self.preset = preset; self.threads = threads
    }

    static let x26xPresets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]

    /// NVENC's preset (p1 fastest ... p7 best) for a x264-style preset: the defaults meet (medium, p4).
    var nvencPreset: String {
        switch preset {
        case "ultrafast", "superfast": return "p1"
        case "veryfast": return "p2"
        case "faster", "fast": return "p3"
        case "medium": return "p4"
        case "slow": return "p5"
        case "slower": return "p6"
        default: return "p7"
        }
    }

    /// libvpx's speed knob for a x264-style preset (good-quality deadline; 0 slowest ... 5 fastest useful).
    var vp9CpuUsed: Int {
        switch preset {
        case "ultrafast", "superfast": return 5
        case "veryfast", "faster": return 4
        case "fast": return 3
        case "medium": return 2
        case "slow", "slower": return 1
        default: return 0
        }
    }
}

/// The answers of `Codec.unavailableReason` for hardware encoders, found once per process.
final class CodecProbe: @unchecked Sendable {
    static let shared = CodecProbe()
    private let lock = NSLock()
    private var reasons: [EncodeOptions.Codec: String?] = [:]

    func reason(for codec: EncodeOptions.Codec, probe: () -> String?) -> String? {
        lock.lock(); defer { lock.unlock() }
        if let known = reasons[codec] { return known }
        let r = probe()
        reasons[codec] = r
        return r
    }

    /// Opens `encoder` for a small 8-bit 4:2:0 picture; nil when it opens, else FFmpeg's reason.
    static func open(_ encoder: UnsafePointer<AVCodec>) -> String? {
        FFmpegLogging.ensureQuiet()
        var context = avcodec_alloc_context3(encoder)
        defer { avcodec_free_context(&context) }
        guard let ctx = context else { return "out of memory" }
        ctx.pointee.width = 256
        ctx.pointee.height = 144
        ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        ctx.pointee.time_base = AVRational(num: 1, den: 30)
        let (r, logged) = FFmpegLogging.capturingLastError { avcodec_open2(ctx, encoder, nil) }
        guard r < 0 else { return nil }
        // Data-centre GPUs such as the H100 and H200 have NVDEC but no NVENC: the driver then refuses the session.
        return "needs an NVIDIA GPU with NVENC (the H100 and H200 have none) and its driver's libcuda and libnvidia-encode; "
            + "FFmpeg: \(logged ?? ffError(r))"
    }
}
