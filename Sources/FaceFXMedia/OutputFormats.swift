import CFFmpeg

/// Questions about output files that callers must answer before any frame is decoded (batch planning picks
/// each output's extension with them; the writer itself repeats the same checks when it opens).
public enum OutputFormats {
    /// True when a file named `*.ext` is a container this FFmpeg can write `codec` video into
    /// (e.g. mp4 + h264 yes, webm + h264 no).
    public static func canWrite(extension ext: String, codec: EncodeOptions.Codec) -> Bool {
        FFmpegLogging.ensureQuiet()
        let ext = ext.lowercased()
        guard !ext.isEmpty, let ofmt = av_guess_format(nil, "x.\(ext)", nil), VideoWriter.canHoldVideo(ofmt),
              let encoder = avcodec_find_encoder_by_name(codec.encoderName) else { return false }
        return avformat_query_codec(ofmt, encoder.pointee.id, FF_COMPLIANCE_NORMAL) == 1
    }

    /// Whether the writer accepts preset `name` for `codec` (x264/x265 names; VP9 maps any name to a cpu-used).
    public static func isKnownPreset(_ name: String, codec: EncodeOptions.Codec) -> Bool {
        codec == .vp9 || EncodeOptions.x26xPresets.contains(name)
    }
}
