// PNG stills with alpha, through libavcodec's png decoder/encoder (the video reader turns
// pictures into YUV and drops alpha; overlay art and contact sheets need RGBA).
import CFFmpeg
import Foundation

public enum PNGCodec {
    /// Decodes a PNG file into straight-alpha RGBA8 (row 0 = top). Any PNG colour type/bit depth.
    public static func decodeRGBA(path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        FFmpegLogging.ensureQuiet()
        guard let data = FileManager.default.contents(atPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { throw MediaError.fileNotFound(path: path) }
            throw MediaError.io(path: path, reason: "cannot read")
        }
        guard data.count > 8, data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw MediaError.notMedia(path: path, reason: "not a PNG file")
        }
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_PNG) else {
            throw MediaError.unsupportedCodec(path: path, codec: "png", reason: "decoder missing from this FFmpeg")
        }
        var ctx = avcodec_alloc_context3(codec)
        defer { avcodec_free_context(&ctx) }
        ctx!.pointee.thread_count = 1
        guard avcodec_open2(ctx, codec, nil) >= 0 else { throw MediaError.corrupt(path: path, reason: "png decoder did not open") }
        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        defer { av_packet_free(&packet); av_frame_free(&frame) }
        guard av_new_packet(packet, Int32(data.count)) >= 0 else { throw MediaError.io(path: path, reason: "out of memory") }
        data.withUnsafeBytes { packet!.pointee.data.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: data.count) }
        var r = avcodec_send_packet(ctx, packet)
        if r >= 0 { r = avcodec_send_packet(ctx, nil) }
        if r >= 0 || r == cffmpeg_eof() { r = avcodec_receive_frame(ctx, frame) }
        guard r >= 0 else { throw MediaError.corrupt(path: path, reason: ffError(r)) }
        let f = frame!.pointee
        let w = Int(f.width), h = Int(f.height)
        guard w > 0, h > 0 else { throw MediaError.corrupt(path: path, reason: "empty image") }
        var out = [UInt8](repeating: 0, count: w * h * 4)
        guard let sws = sws_getContext(f.width, f.height, AVPixelFormat(f.format), f.width, f.height, AV_PIX_FMT_RGBA,
                                       SWS_POINT, nil, nil, nil) else {
            throw MediaError.corrupt(path: path, reason: "unsupported PNG pixel format")
        }
        defer { sws_freeContext(sws) }
        out.withUnsafeMutableBufferPointer { buf in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(w * 4), 0, 0, 0]
            var src: [UnsafePointer<UInt8>?] = [UnsafePointer(f.data.0), UnsafePointer(f.data.1), UnsafePointer(f.data.2), UnsafePointer(f.data.3)]
            var srcStride: [Int32] = [f.linesize.0, f.linesize.1, f.linesize.2, f.linesize.3]
            _ = sws_scale(sws, &src, &srcStride, 0, f.height, &dst, &dstStride)
        }
        return (w, h, out)
    }

    /// Encodes tightly packed RGBA8 (row 0 = top) as a PNG file (written to a temporary name, then renamed).
    public static func writeRGBA(path: String, width: Int, height: Int, pixels: [UInt8]) throws {
        FFmpegLogging.ensureQuiet()
        precondition(pixels.count == width * height * 4, "RGBA buffer size")
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw MediaError.unsupportedCodec(path: path, codec: "png", reason: "encoder missing from this FFmpeg")
        }
        var ctx = avcodec_alloc_context3(codec)
        defer { avcodec_free_context(&ctx) }
        ctx!.pointee.width = Int32(width)
        ctx!.pointee.height = Int32(height)
        ctx!.pointee.pix_fmt = AV_PIX_FMT_RGBA
        ctx!.pointee.time_base = AVRational(num: 1, den: 25)
        guard avcodec_open2(ctx, codec, nil) >= 0 else { throw MediaError.encoder(path: path, reason: "png encoder did not open") }
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer { av_frame_free(&frame); av_packet_free(&packet) }
        frame!.pointee.width = Int32(width)
        frame!.pointee.height = Int32(height)
        frame!.pointee.format = AV_PIX_FMT_RGBA.rawValue
        guard av_frame_get_buffer(frame, 0) >= 0 else { throw MediaError.encoder(path: path, reason: "out of memory") }
        let stride = Int(frame!.pointee.linesize.0)
        pixels.withUnsafeBytes { src in
            for y in 0..<height {
                (frame!.pointee.data.0! + y * stride).update(from: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + y * width * 4,
                                                            count: width * 4)
            }
        }
        var r = avcodec_send_frame(ctx, frame)
        guard r >= 0 else { throw MediaError.encoder(path: path, reason: ffError(r)) }
        _ = avcodec_send_frame(ctx, nil)
        var bytes = Data()
        while true {
            r = avcodec_receive_packet(ctx, packet)
            if r < 0 { break }
            bytes.append(packet!.pointee.data, count: Int(packet!.pointee.size))
            av_packet_unref(packet)
        }
        guard !bytes.isEmpty else { throw MediaError.encoder(path: path, reason: "png encoder produced nothing") }
        let tmp = path + ".tmp-\(getpid())"
        do {
            try bytes.write(to: URL(fileURLWithPath: tmp))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: tmp, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw MediaError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
