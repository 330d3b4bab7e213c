import CFFmpeg

/// Output video encoding settings.
public struct EncodeOptions: Sendable {
    public enum Codec: String, Sendable, CaseIterable {
        case h264, h265, vp9

        /// The FFmpeg encoder behind each choice.
        public var encoderName: String {
            switch self {
            case .h264: return "libx264"
            case .h265: return "libx265"
            case .vp9: return "libvpx-vp9"
            }
        }

        /// Parses a user-typed name ("h264", "x264", "hevc", "vp9"...); unknown names are an `.unsupportedCodec`.
        public static func parse(_ name: String) throws -> Codec {
            switch name.lowercased() {
            case "h264", "avc", "x264", "libx264": return .h264
            case "h265", "hevc", "x265", "libx265": return .h265
            case "vp9", "libvpx-vp9": return .vp9
            default:
                throw MediaError.unsupportedCodec(path: "", codec: name, reason: "choose one of h264, h265, vp9")
            }
        }

        /// Whether this FFmpeg build has the encoder.
        public var isAvailable: Bool { avcodec_find_encoder_by_name(encoderName) != nil }
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
