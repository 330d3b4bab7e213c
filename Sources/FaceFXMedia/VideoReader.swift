import CFFmpeg
import Foundation

/// Decodes the best video stream of any file FFmpeg can demux (mp4, mov, mkv, webm, avi, PNG/JPEG stills...)
/// into planar YUV `VideoFrame`s, in presentation order, timestamps kept.
/// Not thread-safe: use one reader from one thread (frames it returns may move to other threads).
public final class VideoReader {
    public let info: VideoStreamInfo
    /// Packets the decoder rejected and that were skipped.
    public private(set) var corruptPackets: Int = 0
    /// Non-fatal problems (corrupt packets, truncation), each reported once as a one-line message.
    public var onWarning: ((String) -> Void)?

    private let input: InputFile
    private let streamIndex: Int32
    private let timeBase: AVRational
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var decoded: UnsafeMutablePointer<AVFrame>?
    private var sws: OpaquePointer?
    private var packetPending = false
    private var draining = false
    private var finished = false
    private var framesDelivered = 0
    private var lastPts: Int64?
    /// After `seek`: frames before this timestamp are decoded and dropped.
    private var skipBefore: Int64?
    /// A frame `seek` decoded to check where it landed, handed out next.
    private var peeked: VideoFrame?
    private var warned = OnceSet()
    /// NVDEC's pictures copied back to the CPU (one frame, reused).
    private var downloaded: UnsafeMutablePointer<AVFrame>?
    /// Demuxer calls in a row that made no progress (EAGAIN) before we give up on the file.
    private static let maxStalls = 2000

    /// `decoding`: on the CPU, or on NVIDIA's NVDEC (frames are then copied back to the CPU: the pipeline
    /// takes planar frames like every other source).
    public init(path: String, decoding: HardwareDecoding = .none) throws {
        input = try InputFile(path: path)
        let found = try VideoReader.findVideoStream(input)
        streamIndex = found.index
        let st = input.stream(streamIndex)
        timeBase = st.pointee.time_base
        info = VideoReader.makeInfo(input: input, index: streamIndex)
        // FFmpeg probes the size from the stream itself when the container lacks it; still none means
        // a damaged stream (else render would only find out when its encoder refuses a frame size of 0).
        guard info.width > 0, info.height > 0 else { throw MediaError.corrupt(path: path, reason: "video stream without a frame size") }

        decoder = avcodec_alloc_context3(found.codec)
        guard let dec = decoder else { throw MediaError.io(path: path, reason: "out of memory") }
        var r = avcodec_parameters_to_context(dec, st.pointee.codecpar)
        guard r >= 0 else { throw MediaError.corrupt(path: path, reason: "bad codec parameters: \(ffError(r))") }
        dec.pointee.pkt_timebase = timeBase
        let nvdecMissing = decoding == .none ? "not asked for" : NVDEC.attach(to: dec, codec: found.codec)
        if let why = nvdecMissing, decoding == .nvdec {
            throw MediaError.unsupportedCodec(path: path, codec: "nvdec", reason: why)
        }
        if nvdecMissing != nil {
            dec.pointee.thread_count = 0                           // auto: one per core
            dec.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        }
        r = avcodec_open2(dec, found.codec, nil)
        guard r >= 0 else {
            throw MediaError.unsupportedCodec(path: path, codec: info.codecName, reason: "decoder failed to open: \(ffError(r))")
        }
        packet = av_packet_alloc()
        decoded = av_frame_alloc()
        guard packet != nil, decoded != nil else { throw MediaError.io(path: path, reason: "out of memory") }
    }

    deinit {
        av_packet_free(&packet)
        av_frame_free(&decoded)
        av_frame_free(&downloaded)
        avcodec_free_context(&decoder)
        if sws != nil { sws_freeContext(sws) }
    }

    /// Stream facts without opening a decoder (fast: reads the container header only).
    public static func probe(path: String) throws -> VideoStreamInfo {
        let input = try InputFile(path: path)
        let found = try findVideoStream(input)
        return makeInfo(input: input, index: found.index)
    }

    /// The next frame in presentation order, or nil after the last one (the decoder is drained at end of file).
    public func nextFrame() throws -> VideoFrame? {
        guard let dec = decoder, let pkt = packet, let frame = decoded else { return nil }
        if let p = peeked { peeked = nil; return p }
        if finished { return nil }
        var stalls = 0
        var receiveErrors = 0
        while true {
            let r = avcodec_receive_frame(dec, frame)
            if r == 0 {
                if let skip = skipBefore {
                    let pts = frame.pointee.pts != cffmpeg_nopts() ? frame.pointee.pts : frame.pointee.best_effort_timestamp
                    if pts != cffmpeg_nopts() && pts < skip { av_frame_unref(frame); continue }
                    skipBefore = nil
                }
                return try deliver(frame)
            }
            if r == cffmpeg_eof() {
                finished = true
                if framesDelivered == 0 {
                    throw MediaError.corrupt(path: info.path, reason: "no decodable video frame")
                }
                warnIfShort()
                return nil
            }
            if r != cffmpeg_eagain() {
                // A decode error surfaced on output: the picture is lost, the stream goes on.
                noteCorrupt(ffError(r))
                receiveErrors += 1
                if receiveErrors > 1000 { finished = true; warn("decoder keeps failing; stopping early"); return nil }
                continue
            }
            if draining {
                // EAGAIN while draining should not happen; treat it as the end rather than spin.
                finished = true
                if framesDelivered == 0 { throw MediaError.corrupt(path: info.path, reason: "no decodable video frame") }
                return nil
            }
            if !packetPending {
                input.guardian.arm(seconds: input.budget)
                let rr = av_read_frame(input.ctx, pkt)
                input.guardian.disarm()
                if rr == cffmpeg_eagain() {
                    stalls += 1
                    if stalls > VideoReader.maxStalls { warn("demuxer made no progress; stream ends early"); startDrain() }
                    else { usleep(1000) }
                    continue
                }
                stalls = 0
                if rr < 0 {
                    if rr != cffmpeg_eof() {
                        // Truncated or unreadable tail: keep what decoded so far, like end of file.
                        warn("read error (\(ffError(rr))); stream ends early")
                    }
                    startDrain()
                    continue
                }
                if pkt.pointee.stream_index != streamIndex { av_packet_unref(pkt); continue }
                packetPending = true
            }
            let s = avcodec_send_packet(dec, pkt)
            if s == cffmpeg_eagain() { continue }          // output first, then resend the same packet
            packetPending = false
            av_packet_unref(pkt)
            if s < 0 { noteCorrupt(ffError(s)) }
        }
    }

    // MARK: - random access (analysis in segments)

    /// The presentation timestamps of the video stream's frames in order (frame n has the n-th), read
    /// from the packets without decoding. nil when frames can't be found again by timestamp: input that
    /// can't seek, packets without timestamps, repeated timestamps (read such files from start to end).
    public static func frameTimestamps(path: String) throws -> [Int64]? {
        let input = try InputFile(path: path)
        guard let pb = input.ctx?.pointee.pb, pb.pointee.seekable != 0 else { return nil }
        let index = try findVideoStream(input).index
        var pkt = av_packet_alloc()
        guard let p = pkt else { throw MediaError.io(path: path, reason: "out of memory") }
        defer { av_packet_free(&pkt) }
        var stamps: [Int64] = []
        var stalls = 0
        while true {
            input.guardian.arm(seconds: input.budget)
            let r = av_read_frame(input.ctx, p)
            input.guardian.disarm()
            if r == cffmpeg_eagain() {
                stalls += 1
                if stalls > maxStalls { return nil }
                usleep(1000)
                continue
            }
            stalls = 0
            if r < 0 { break }
            defer { av_packet_unref(p) }
            guard p.pointee.stream_index == index else { continue }
            guard p.pointee.pts != cffmpeg_nopts() else { return nil }
            stamps.append(p.pointee.pts)
        }
        stamps.sort()
        guard !stamps.isEmpty, zip(stamps, stamps.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        return stamps
    }

    /// Positions the reader so that `nextFrame` returns the frame with timestamp `target` (from
    /// `frameTimestamps`) and those after it: the demuxer seeks to a keyframe before it and the frames in
    /// between are decoded and dropped. Containers index keyframes by decode time, so when the first frame
    /// decoded lies after `target` the seek goes further back. Throws when no seek reaches it.
    public func seek(toTimestamp target: Int64) throws {
        guard let dec = decoder, let frame = decoded else { return }
        let second = max(1, av_rescale_q(1, AVRational(num: 1, den: 1), timeBase))
        for back: Int64 in [0, 1, 4, 16, 64] {
            peeked = nil
            guard av_seek_frame(input.ctx, streamIndex, target - back * second, AVSEEK_FLAG_BACKWARD) >= 0 else { continue }
            avcodec_flush_buffers(dec)
            av_frame_unref(frame)
            if packetPending { av_packet_unref(packet); packetPending = false }
            draining = false; finished = false; lastPts = nil; skipBefore = nil
            guard let first = try nextFrame() else { continue }
            if first.pts <= target {
                skipBefore = target
                if first.pts == target { peeked = first }
                return
            }
        }
        throw MediaError.corrupt(path: info.path, reason: "cannot seek to timestamp \(target)")
    }

    // MARK: - internals

    private func startDrain() {
        draining = true
        if packetPending { av_packet_unref(packet); packetPending = false }
        _ = avcodec_send_packet(decoder, nil)
    }

    /// Some demuxers (mov) end a truncated file with a plain EOF: compare with the duration the header declared.
    private func warnIfShort() {
        guard let declared = info.durationSeconds, let last = lastPts else { return }
        let st = input.stream(streamIndex).pointee
        let start = st.start_time == cffmpeg_nopts() ? 0 : st.start_time
        let reached = Double(last - start) * av_q2d(timeBase)
        if reached < declared - max(0.5, declared * 0.05) {
            warn(String(format: "video ends at %.2f s of %.2f s declared; file truncated? stream ends early", reached, declared))
        }
    }

    private func warn(_ message: String) {
        if warned.first(message) { onWarning?("\(info.path): \(message)") }
    }

    private func noteCorrupt(_ reason: String) {
        corruptPackets += 1
        if corruptPackets == 1 { onWarning?("\(info.path): corrupt video data skipped (\(reason)); further ones are counted silently") }
    }

    /// Picks a timestamp, converts the format if needed, and hands the frame's ownership to a VideoFrame.
    private func deliver(_ decodedFrame: UnsafeMutablePointer<AVFrame>) throws -> VideoFrame {
        let frame = AVPixelFormat(decodedFrame.pointee.format) == AV_PIX_FMT_CUDA ? try download(decodedFrame) : decodedFrame
        var pts = frame.pointee.pts
        if pts == cffmpeg_nopts() { pts = frame.pointee.best_effort_timestamp }
        if pts == cffmpeg_nopts() || (lastPts != nil && pts <= lastPts!) {
            let had = pts != cffmpeg_nopts()
            let step = frameDuration(frame)
            let fixed = (lastPts ?? -step) + step
            if had { warn("non-increasing timestamps repaired") }
            pts = fixed
        }
        lastPts = pts
        framesDelivered += 1

        let srcFormat = AVPixelFormat(frame.pointee.format)
        let color = frameColor(frame, format: srcFormat)
        let negativeStride = frame.pointee.linesize.0 < 0 || frame.pointee.linesize.1 < 0 || frame.pointee.linesize.2 < 0
        if DeliveredFormat.passThrough.contains(srcFormat.rawValue) && !negativeStride {
            guard let owned = av_frame_alloc() else { throw MediaError.io(path: info.path, reason: "out of memory") }
            av_frame_move_ref(owned, frame)
            return VideoFrame(taking: owned, pts: pts, timeBase: timeBase, color: color)
        }
        let converted = try convert(frame, from: srcFormat, color: color)
        av_frame_unref(frame)
        return VideoFrame(taking: converted, pts: pts, timeBase: timeBase, color: color)
    }

    /// An NVDEC picture copied into CPU memory (NV12, or P010 above 8 bits), with its timestamps and colour tags.
    private func download(_ frame: UnsafeMutablePointer<AVFrame>) throws -> UnsafeMutablePointer<AVFrame> {
        defer { av_frame_unref(frame) }
        if downloaded == nil { downloaded = av_frame_alloc() }
        guard let out = downloaded else { throw MediaError.io(path: info.path, reason: "out of memory") }
        av_frame_unref(out)
        var r = av_hwframe_transfer_data(out, frame, 0)
        if r >= 0 { r = av_frame_copy_props(out, frame) }
        guard r >= 0 else { throw MediaError.corrupt(path: info.path, reason: "NVDEC frame could not be read back: \(ffError(r))") }
        return out
    }

    /// swscale conversion to the delivered planar format; one cached SwsContext for the whole stream.
    private func convert(_ frame: UnsafeMutablePointer<AVFrame>, from src: AVPixelFormat, color: ColorDescription) throws
        -> UnsafeMutablePointer<AVFrame> {
        let dst = DeliveredFormat.target(for: src)
        let w = frame.pointee.width, h = frame.pointee.height
        sws = sws_getCachedContext(sws, w, h, src, w, h, dst, SWS_BICUBIC | SWS_ACCURATE_RND, nil, nil, nil)
        guard let sws else {
            throw MediaError.unsupportedCodec(path: info.path, codec: DeliveredFormat.name(src), reason: "no conversion to planar YUV")
        }
        let rgbLike = DeliveredFormat.isRGBLike(src)
        let coeffs = sws_getCoefficients(color.swsColorspace)
        // YUV sources keep their matrix and range (pure repacking); RGB sources are encoded as full-range YUV.
        let srcRange: Int32 = rgbLike ? 1 : (color.fullRange ? 1 : 0)
        let dstRange: Int32 = rgbLike ? 1 : srcRange
        _ = sws_setColorspaceDetails(sws, coeffs, srcRange, coeffs, dstRange, 0, 1 << 16, 1 << 16)

        guard let out = av_frame_alloc() else { throw MediaError.io(path: info.path, reason: "out of memory") }
        out.pointee.format = dst.rawValue
        out.pointee.width = w; out.pointee.height = h
        guard av_frame_get_buffer(out, 0) >= 0 else {
            var doomed: UnsafeMutablePointer<AVFrame>? = out
            av_frame_free(&doomed)
            throw MediaError.io(path: info.path, reason: "out of memory")
        }
        _ = withUnsafePointer(to: &frame.pointee.data) { sp in
            withUnsafePointer(to: &frame.pointee.linesize) { sl in
                withUnsafePointer(to: &out.pointee.data) { dp in
                    withUnsafePointer(to: &out.pointee.linesize) { dl in
                        sws_scale(sws,
                                  UnsafeRawPointer(sp).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                  UnsafeRawPointer(sl).assumingMemoryBound(to: Int32.self), 0, h,
                                  UnsafeRawPointer(dp).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
                                  UnsafeRawPointer(dl).assumingMemoryBound(to: Int32.self))
                    }
                }
            }
        }
        return out
    }

    private func frameDuration(_ frame: UnsafeMutablePointer<AVFrame>) -> Int64 {
        if frame.pointee.pkt_duration > 0 { return frame.pointee.pkt_duration }
        let fr = input.stream(streamIndex).pointee.avg_frame_rate
        if fr.num > 0 && fr.den > 0 {
            return max(1, av_rescale_q(1, AVRational(num: fr.den, den: fr.num), timeBase))
        }
        return 1
    }

    /// Per-frame tags win over the stream's; RGB-like sources are described as what we convert them to.
    private func frameColor(_ frame: UnsafeMutablePointer<AVFrame>, format: AVPixelFormat) -> ColorDescription {
        if DeliveredFormat.isRGBLike(format) { return .convertedFromRGB(transfer: frame.pointee.color_trc) }
        let par = input.stream(streamIndex).pointee.codecpar.pointee
        let f = frame.pointee
        return ColorDescription(
            primaries: f.color_primaries != AVCOL_PRI_UNSPECIFIED ? f.color_primaries : par.color_primaries,
            transfer: f.color_trc != AVCOL_TRC_UNSPECIFIED ? f.color_trc : par.color_trc,
            space: f.colorspace != AVCOL_SPC_UNSPECIFIED ? f.colorspace : par.color_space,
            range: f.color_range != AVCOL_RANGE_UNSPECIFIED ? f.color_range : par.color_range,
            chromaLocation: f.chroma_location != AVCHROMA_LOC_UNSPECIFIED ? f.chroma_location : par.chroma_location,
            height: Int(f.height), impliedFullRange: DeliveredFormat.fullRangeFormats.contains(format.rawValue))
    }

    static func findVideoStream(_ input: InputFile) throws -> (index: Int32, codec: UnsafePointer<AVCodec>) {
        var codec: UnsafePointer<AVCodec>?
        let r = av_find_best_stream(input.ctx, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        if r == cffmpeg_error_decoder_not_found() {
            // There is video, but this FFmpeg cannot decode it: name the codec.
            var name = "unknown"
            for i in 0..<Int32(input.ctx!.pointee.nb_streams) {
                let par = input.stream(i).pointee.codecpar.pointee
                if par.codec_type == AVMEDIA_TYPE_VIDEO { name = String(cString: avcodec_get_name(par.codec_id)); break }
            }
            throw MediaError.unsupportedCodec(path: input.path, codec: name, reason: "no decoder in this FFmpeg build")
        }
        guard r >= 0, let codec else { throw MediaError.noVideoStream(path: input.path) }
        // Cover art in an audio file is a video stream of one picture, not a video.
        if input.stream(r).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 {
            throw MediaError.noVideoStream(path: input.path)
        }
        return (r, codec)
    }

    static func makeInfo(input: InputFile, index: Int32) -> VideoStreamInfo {
        let ctx = input.ctx!.pointee
        let st = input.stream(index).pointee
        let par = st.codecpar.pointee
        let srcFormat = AVPixelFormat(par.format)
        let target = DeliveredFormat.target(for: srcFormat)
        let height = Int(par.height)

        var frameRate = st.avg_frame_rate
        if frameRate.num <= 0 || frameRate.den <= 0 { frameRate = st.r_frame_rate }

        var duration: Double?
        if st.duration != cffmpeg_nopts() && st.duration > 0 {
            duration = Double(st.duration) * av_q2d(st.time_base)
        } else if ctx.duration != cffmpeg_nopts() && ctx.duration > 0 {
            duration = Double(ctx.duration) / Double(cffmpeg_time_base())
        }
        var frames: Int?
        if st.nb_frames > 0 { frames = Int(st.nb_frames) }
        else if let d = duration, frameRate.num > 0, frameRate.den > 0 { frames = Int((d * av_q2d(frameRate)).rounded()) }

        var rotation = 0.0
        var matrix: [Int32]?
        var size: Int = 0
        if let sd = av_stream_get_side_data(input.stream(index), AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 {
            let m = UnsafeRawPointer(sd).assumingMemoryBound(to: Int32.self)
            matrix = (0..<9).map { m[$0] }
            let ccw = av_display_rotation_get(m)
            if ccw.isFinite {
                // FFmpeg reports counter-clockwise degrees; players and the `rotate` tag speak clockwise.
                var cw = (-ccw).truncatingRemainder(dividingBy: 360)
                if cw < 0 { cw += 360 }
                rotation = (cw * 1000).rounded() / 1000
                if rotation == 360 { rotation = 0 }
            }
        }

        var sar = st.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = par.sample_aspect_ratio }
        if sar.num <= 0 || sar.den <= 0 { sar = AVRational(num: 1, den: 1) }

        let color: ColorDescription
        if DeliveredFormat.isRGBLike(srcFormat) {
            color = .convertedFromRGB(transfer: par.color_trc)
        } else {
            color = ColorDescription(primaries: par.color_primaries, transfer: par.color_trc, space: par.color_space,
                                     range: par.color_range, chromaLocation: par.chroma_location, height: height,
                                     impliedFullRange: DeliveredFormat.fullRangeFormats.contains(srcFormat.rawValue))
        }

        var audioCodec: String?
        let a = av_find_best_stream(input.ctx, AVMEDIA_TYPE_AUDIO, -1, index, nil, 0)
        if a >= 0 { audioCodec = String(cString: avcodec_get_name(input.stream(a).pointee.codecpar.pointee.codec_id)) }

        return VideoStreamInfo(
            path: input.path, width: Int(par.width), height: height,
            timeBase: st.time_base.rational, averageFrameRate: frameRate.rational,
            durationSeconds: duration, estimatedFrameCount: frames,
            rotationDegrees: rotation, displayMatrix: matrix, sampleAspectRatio: sar.rational,
            color: color, bitDepth: DeliveredFormat.depth(of: target),
            sourcePixelFormat: DeliveredFormat.name(srcFormat),
            codecName: String(cString: avcodec_get_name(par.codec_id)),
            containerName: input.formatName,
            hasAudio: audioCodec != nil, audioCodecName: audioCodec)
    }
}

/// Where a reader decodes (`--hwdec`).
public enum HardwareDecoding: String, Sendable, CaseIterable {
    /// FFmpeg's software decoders, on the CPU.
    case none
    /// NVDEC where the driver has it and decodes the stream's codec, else software.
    case auto
    /// NVDEC, or a usage error where this machine or this codec cannot.
    case nvdec
}

/// NVIDIA's hardware decoders, through FFmpeg's CUDA hwaccel (Debian's FFmpeg loads libcuda and
/// libnvcuvid at run time). One CUDA device context serves every reader of the process.
public enum NVDEC {
    private enum Device {
        case open(UnsafeMutablePointer<AVBufferRef>)
        case missing(String)
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var device: Device?

    /// Why this machine cannot decode with NVDEC, or nil (opens the CUDA device once per process).
    public static var unavailableReason: String? {
        if case .missing(let why) = sharedDevice() { return why }
        return nil
    }

    private static func sharedDevice() -> Device {
        lock.lock(); defer { lock.unlock() }
        if let device { return device }
        FFmpegLogging.ensureQuiet()
        var ref: UnsafeMutablePointer<AVBufferRef>?
        let (r, logged) = FFmpegLogging.capturingLastError { av_hwdevice_ctx_create(&ref, AV_HWDEVICE_TYPE_CUDA, nil, nil, 0) }
        let opened: Device = r >= 0 ? ref.map { .open($0) } ?? .missing("no CUDA device")
            : .missing("needs an NVIDIA GPU and its driver's libcuda and libnvcuvid; FFmpeg: \(logged ?? ffError(r))")
        device = opened
        return opened
    }

    /// Makes `decoder` (not yet opened) decode on NVDEC; nil when it will, else why not.
    static func attach(to decoder: UnsafeMutablePointer<AVCodecContext>, codec: UnsafePointer<AVCodec>) -> String? {
        var cudaConfig = false
        var i: Int32 = 0
        while let config = avcodec_get_hw_config(codec, i) {
            if config.pointee.device_type == AV_HWDEVICE_TYPE_CUDA && config.pointee.methods & Int32(AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) != 0 {
                cudaConfig = true
            }
            i += 1
        }
        guard cudaConfig else { return "NVDEC does not decode \(String(cString: codec.pointee.name))" }
        switch sharedDevice() {
        case .missing(let why): return why
        case .open(let device):
            decoder.pointee.hw_device_ctx = av_buffer_ref(device)
            cffmpeg_decode_to_cuda(decoder)
            return nil
        }
    }
}
