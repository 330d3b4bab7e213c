import CFFmpeg

/// Versions of the FFmpeg libraries linked at run time (for `facefx info` and bug reports).
public enum MediaLibraryInfo {
    public static var versions: String {
        func v(_ n: UInt32) -> String { "\(n >> 16).\((n >> 8) & 0xff).\(n & 0xff)" }
        return "libavformat \(v(avformat_version())), libavcodec \(v(avcodec_version())), " +
            "libswscale \(v(swscale_version())), libavutil \(v(avutil_version())) (\(String(cString: av_version_info())))"
    }
}
