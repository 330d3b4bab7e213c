import CFFmpeg

/// One decoded picture in planar YUV (3 planes), ready for GPU upload as three textures.
/// It owns its AVFrame, so the planes stay valid for the lifetime of this object and no longer.
/// Immutable after creation, so it may be handed to the GPU thread (FFmpeg's buffer refcounts are atomic).
public final class VideoFrame: @unchecked Sendable {
    /// One plane: samples are bytes (bitDepth 8) or little-endian UInt16 (bitDepth > 8).
    public struct Plane {
        public let base: UnsafeRawPointer
        /// Bytes from one row to the next (always positive, a multiple of the sample size).
        public let stride: Int
        /// Width and height in samples.
        public let width: Int
        public let height: Int
    }

    public let width: Int
    public let height: Int
    /// Presentation time in the stream time base (never missing: synthesized when the file lacks it).
    public let pts: Int64
    /// `pts × timeBase` (not shifted by the stream start time).
    public let timeSeconds: Double
    /// 8, or 10 (values in the low bits of UInt16 samples).
    public let bitDepth: Int
    /// log2 of chroma subsampling: (1,1) for 4:2:0, (1,0) for 4:2:2, (0,0) for 4:4:4.
    public let chromaShiftX: Int
    public let chromaShiftY: Int
    /// Y, U (Cb), V (Cr).
    public let planes: [Plane]
    public let color: ColorDescription
    /// FFmpeg name of the planes' format (e.g. "yuv420p10le").
    public let pixelFormatName: String

    private var frame: UnsafeMutablePointer<AVFrame>?

    /// Takes ownership of `frame` (which must hold one of the pass-through planar YUV formats).
    init(taking frame: UnsafeMutablePointer<AVFrame>, pts: Int64, timeBase: AVRational, color: ColorDescription) {
        self.frame = frame
        let f = frame.pointee
        width = Int(f.width); height = Int(f.height)
        self.pts = pts
        timeSeconds = Double(pts) * av_q2d(timeBase)
        let fmt = AVPixelFormat(f.format)
        let desc = av_pix_fmt_desc_get(fmt)!.pointee
        bitDepth = Int(desc.comp.0.depth)
        chromaShiftX = Int(desc.log2_chroma_w); chromaShiftY = Int(desc.log2_chroma_h)
        pixelFormatName = String(cString: desc.name)
        self.color = color
        let data = [f.data.0, f.data.1, f.data.2]
        let lines = [f.linesize.0, f.linesize.1, f.linesize.2]
        var ps: [Plane] = []
        for i in 0..<3 {
            let sx = i == 0 ? 0 : Int32(chromaShiftX), sy = i == 0 ? 0 : Int32(chromaShiftY)
            ps.append(Plane(base: UnsafeRawPointer(data[i]!), stride: Int(lines[i]),
                            width: Int(cffmpeg_ceil_rshift(f.width, sx)), height: Int(cffmpeg_ceil_rshift(f.height, sy))))
        }
        planes = ps
    }

    deinit { av_frame_free(&frame) }

    /// The frame as tightly packed RGBA (width × height × 4 bytes), converted on the CPU with the frame's
    /// own matrix and range. For tests and stills; the video path converts on the GPU.
    public func rgbaPixels() -> [UInt8] {
        guard let frame else { return [] }
        let w = Int32(width), h = Int32(height)
        guard let sws = sws_getContext(w, h, AVPixelFormat(frame.pointee.format), w, h, AV_PIX_FMT_RGBA,
                                       SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil) else { return [] }
        defer { sws_freeContext(sws) }
        let coeffs = sws_getCoefficients(color.swsColorspace)
        _ = sws_setColorspaceDetails(sws, coeffs, color.fullRange ? 1 : 0, coeffs, 1, 0, 1 << 16, 1 << 16)
        var out = [UInt8](repeating: 0, count: width * height * 4)
        out.withUnsafeMutableBufferPointer { buf in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [w * 4, 0, 0, 0]
            var src: [UnsafePointer<UInt8>?] = [UnsafePointer(frame.pointee.data.0), UnsafePointer(frame.pointee.data.1),
                                                UnsafePointer(frame.pointee.data.2), nil]
            var srcStride: [Int32] = [frame.pointee.linesize.0, frame.pointee.linesize.1, frame.pointee.linesize.2, 0]
            _ = sws_scale(sws, &src, &srcStride, 0, h, &dst, &dstStride)
        }
        return out
    }
}

/// Which planar layout the reader hands out for a decoder's native format.
enum DeliveredFormat {
    static let passThrough: Set<Int32> = [
        AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUVJ422P,
        AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P10LE,
    ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }

    static let fullRangeFormats: Set<Int32> = [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P]
        .reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }

    /// RGB, grey and palette sources have no YUV of their own: they become 4:4:4 full-range BT.709.
    static func isRGBLike(_ fmt: AVPixelFormat) -> Bool {
        guard let d = av_pix_fmt_desc_get(fmt)?.pointee else { return false }
        let flags = d.flags
        return flags & UInt64(AV_PIX_FMT_FLAG_RGB) != 0 || flags & UInt64(AV_PIX_FMT_FLAG_PAL) != 0 || d.nb_components <= 2
    }

    /// The format frames leave the reader in: the source itself when it is a pass-through format.
    static func target(for fmt: AVPixelFormat) -> AVPixelFormat {
        if passThrough.contains(fmt.rawValue) { return fmt }
        let depth = av_pix_fmt_desc_get(fmt)?.pointee.comp.0.depth ?? 8
        if isRGBLike(fmt) { return depth > 8 ? AV_PIX_FMT_YUV444P10LE : AV_PIX_FMT_YUV444P }
        return depth > 8 ? AV_PIX_FMT_YUV420P10LE : AV_PIX_FMT_YUV420P
    }

    static func depth(of fmt: AVPixelFormat) -> Int {
        Int(av_pix_fmt_desc_get(fmt)?.pointee.comp.0.depth ?? 8)
    }

    static func name(_ fmt: AVPixelFormat) -> String {
        guard let n = av_get_pix_fmt_name(fmt) else { return "none" }
        return String(cString: n)
    }
}
