import CFFmpeg
import Foundation

/// Encodes 8-bit 4:2:0 frames into a new file that keeps the input's geometry, timestamps, rotation, aspect,
/// colour tags and audio. It writes to a hidden temporary file beside the target and renames it into place in
/// `finish()`, so the target path never holds a partial file. Not thread-safe: one writer, one thread.
public final class VideoWriter {
    public let path: String
    /// The hidden file being written until `finish()` renames it onto `path`.
    public let temporaryPath: String
    public let options: EncodeOptions
    /// What happens to the input's audio: "none", "copy aac", "transcode pcm_s16le → aac".
    public private(set) var audioDescription = "none"
    public private(set) var framesWritten = 0
    /// Encoded picture size: the input's, except that H.264/H.265 4:2:0 cannot code odd sizes, so an odd
    /// width/height loses its last column/row there (VP9 keeps odd sizes). Buffers are always input-sized.
    public let encodedWidth: Int
    public let encodedHeight: Int
    /// Non-fatal problems as one-line messages (also those found during init, if passed to init).
    public var onWarning: ((String) -> Void)?

    private let width: Int
    private let height: Int
    private let color: ColorDescription
    private let sar: AVRational
    private var out: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var videoStream: UnsafeMutablePointer<AVStream>?
    private var audio: AudioCarrier?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private let pool: I420BufferPool
    private var lastPts: Int64?
    /// AVI has no timestamps, only a frame rate: there pts are mapped onto a 1/fps clock (nil elsewhere: pass-through).
    private var ptsMapping: (from: AVRational, to: AVRational)?
    private var lastEncodedPts: Int64?
    private var warned = OnceSet()
    private var closed = false

    /// - Parameters:
    ///   - input: the video stream the frames come from (size, time base, rotation, colour...).
    ///   - inputPath: reopened for its audio track; pass the same file the reader decodes.
    public init(path: String, input: VideoStreamInfo, inputPath: String, options: EncodeOptions = EncodeOptions(),
                onWarning: ((String) -> Void)? = nil) throws {
        FFmpegLogging.ensureQuiet()
        self.path = path
        self.options = options
        self.onWarning = onWarning
        width = input.width; height = input.height
        let evenOnly = options.codec != .vp9
        encodedWidth = evenOnly ? input.width & ~1 : input.width
        encodedHeight = evenOnly ? input.height & ~1 : input.height
        color = input.color
        sar = input.sampleAspectRatio.av
        pool = I420BufferPool(width: input.width, height: input.height)

        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        TemporaryFiles.removeStale(for: path)
        temporaryPath = TemporaryFiles.temporaryPath(for: path)

        let ext = url.pathExtension.lowercased()
        guard !ext.isEmpty, let ofmt = av_guess_format(nil, name, nil), VideoWriter.canHoldVideo(ofmt) else {
            throw MediaError.unsupportedContainer(path: path, ext: ext)
        }
        try VideoWriter.checkFolder(dir, target: path)
        guard encodedWidth > 0, encodedHeight > 0 else {
            throw MediaError.encoder(path: path, reason: "input has no frame size")
        }

        // unavailableReason covers both: an encoder this FFmpeg lacks, a hardware one this machine lacks.
        let missing = options.codec.unavailableReason
        guard missing == nil, let codec = avcodec_find_encoder_by_name(options.codec.encoderName) else {
            throw MediaError.unsupportedCodec(path: path, codec: options.codec.rawValue, reason: missing ?? "")
        }
        if avformat_query_codec(ofmt, codec.pointee.id, FF_COMPLIANCE_NORMAL) == 0 {
            throw MediaError.unsupportedCodec(path: path, codec: options.codec.rawValue,
                                              reason: "a .\(ext) file cannot hold \(options.codec.rawValue) video")
        }
        if options.codec != .vp9 && !EncodeOptions.x26xPresets.contains(options.preset) {
            throw MediaError.encoder(path: path, reason: "unknown preset \(options.preset)")
        }
        let maxCRF = options.codec == .vp9 ? 63 : 51
        guard (0...maxCRF).contains(options.crf) else {
            throw MediaError.encoder(path: path, reason: "crf \(options.crf) is outside 0...\(maxCRF) for \(options.codec.rawValue)")
        }
        do {
            try open(ofmt: ofmt, codec: codec, input: input, inputPath: inputPath)
        } catch {
            cancel()      // explicit, not left to deinit: the temporary file must go now
            throw error
        }
    }

    private func open(ofmt: UnsafePointer<AVOutputFormat>, codec: UnsafePointer<AVCodec>, input: VideoStreamInfo,
                      inputPath: String) throws {

        var ctx: UnsafeMutablePointer<AVFormatContext>?
        var r = avformat_alloc_output_context2(&ctx, ofmt, nil, temporaryPath)
        guard r >= 0, let ctx else { throw MediaError.cannotWrite(path: path, reason: ffError(r)) }
        out = ctx
        // Create the file first: an unwritable place fails here, before any encoding work.
        // Registered before it exists, so a signal at any moment removes it (TemporaryFiles).
        TemporaryFiles.register(temporaryPath)
        r = avio_open(&ctx.pointee.pb, temporaryPath, AVIO_FLAG_WRITE)
        guard r >= 0 else { throw MediaError.cannotWrite(path: path, reason: ffError(r)) }

        try openVideo(codec: codec, input: input, ofmt: ofmt)

        if input.hasAudio {
            let warn: (String) -> Void = { [weak self] in self?.onWarning?($0) }
            audio = try AudioCarrier.make(inputPath: inputPath, output: ctx, outputPath: path, warn: warn)
            if let a = audio {
                switch a.mode {
                case .copy: audioDescription = "copy \(a.sourceCodec)"
                case .transcode(let to): audioDescription = "transcode \(a.sourceCodec) → \(to)"
                }
            }
        }

        var opts: OpaquePointer?
        defer { av_dict_free(&opts) }
        let fmtName = String(cString: ofmt.pointee.name)
        if fmtName == "mp4" || fmtName == "mov" {
            av_dict_set(&opts, "movflags", "+faststart", 0)
            // The muxer would otherwise scale a small timescale (e.g. 1000) up to ≥ 10000: keep the input's numbers.
            if let st = videoStream, st.pointee.time_base.num == 1 {
                av_dict_set(&opts, "video_track_timescale", String(st.pointee.time_base.den), 0)
            }
        }
        r = avformat_write_header(ctx, &opts)
        guard r >= 0 else { throw MediaError.encoder(path: path, reason: "cannot start the \(fmtName) file: \(ffError(r))") }
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard frame != nil, packet != nil else { throw MediaError.io(path: path, reason: "out of memory") }
    }

    deinit { if !closed { cancel() } }

    /// A buffer for the next frame (recycled from frames the encoder has finished with).
    public func makeFrameBuffer() -> I420Buffer { pool.take() }

    /// Encodes one frame at `pts` (input stream time base, strictly increasing). The buffer is handed to the
    /// encoder without copying and returns to the pool when the encoder releases it: do not touch it afterwards.
    public func write(_ buffer: I420Buffer, pts: Int64) throws {
        guard !closed, let enc = encoder, let f = frame else { throw MediaError.encoder(path: path, reason: "writer is closed") }
        guard buffer.width == width, buffer.height == height else {
            throw MediaError.encoder(path: path, reason: "frame is \(buffer.width)×\(buffer.height), expected \(width)×\(height)")
        }
        if let last = lastPts, pts <= last {
            throw MediaError.encoder(path: path, reason: "timestamp \(pts) is not after the previous one (\(last))")
        }
        lastPts = pts

        // Zero-copy: an AVBufferRef over the I420Buffer; its free callback puts the buffer back into the pool.
        let opaque = Unmanaged.passRetained(buffer).toOpaque()
        guard let ref = av_buffer_create(buffer.data.assumingMemoryBound(to: UInt8.self), buffer.byteCount, { opaque, _ in
            guard let opaque else { return }
            let b = Unmanaged<I420Buffer>.fromOpaque(opaque).takeRetainedValue()
            b.pool?.give(b)
        }, opaque, 0) else {
            Unmanaged<I420Buffer>.fromOpaque(opaque).release()
            throw MediaError.io(path: path, reason: "out of memory")
        }
        f.pointee.buf.0 = ref
        f.pointee.data.0 = buffer.y
        f.pointee.data.1 = buffer.u
        f.pointee.data.2 = buffer.v
        f.pointee.linesize.0 = Int32(buffer.yStride)
        f.pointee.linesize.1 = Int32(buffer.uvStride)
        f.pointee.linesize.2 = Int32(buffer.uvStride)
        f.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        f.pointee.width = Int32(encodedWidth)         // same strides: cropping an odd edge costs nothing
        f.pointee.height = Int32(encodedHeight)
        var encodedPts = pts
        if let m = ptsMapping {
            encodedPts = av_rescale_q(pts, m.from, m.to)
            if let last = lastEncodedPts, encodedPts <= last {
                encodedPts = last + 1
                if warned.first("cfr") { onWarning?("\(path): AVI is constant-frame-rate; irregular timestamps were evened out") }
            }
        }
        lastEncodedPts = encodedPts
        f.pointee.pts = encodedPts
        f.pointee.sample_aspect_ratio = sar
        f.pointee.color_range = enc.pointee.color_range
        f.pointee.color_primaries = enc.pointee.color_primaries
        f.pointee.color_trc = enc.pointee.color_trc
        f.pointee.colorspace = enc.pointee.colorspace
        f.pointee.chroma_location = enc.pointee.chroma_sample_location
        let r = avcodec_send_frame(enc, f)
        av_frame_unref(f)
        if r < 0 { throw MediaError.encoder(path: path, reason: ffError(r)) }
        framesWritten += 1
        try drainVideoPackets()
    }

    /// Flushes the encoder and the rest of the audio, completes the file and renames it onto `path`.
    public func finish() throws {
        guard !closed, let enc = encoder, let ctx = out else { throw MediaError.encoder(path: path, reason: "writer is closed") }
        do {
            if framesWritten == 0 { throw MediaError.encoder(path: path, reason: "no frames were written") }
            let r0 = avcodec_send_frame(enc, nil)
            if r0 < 0 { throw MediaError.encoder(path: path, reason: ffError(r0)) }
            try drainVideoPackets()
            try audio?.finish()
            var r = av_write_trailer(ctx)
            if r < 0 { throw MediaError.io(path: path, reason: "finishing the file: \(ffError(r))") }
            r = avio_closep(&ctx.pointee.pb)
            if r < 0 { throw MediaError.io(path: path, reason: "closing the file: \(ffError(r))") }
            release()
            if rename(temporaryPath, path) != 0 {
                throw MediaError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            TemporaryFiles.unregister(temporaryPath)
            closed = true
        } catch {
            cancel()
            throw error
        }
    }

    /// Abandons the output: frees everything and deletes the temporary file. The target path is left untouched.
    public func cancel() {
        release()
        unlink(temporaryPath)
        TemporaryFiles.unregister(temporaryPath)
        closed = true
    }

    // MARK: - internals

    private func release() {
        audio = nil
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&encoder)
        if let ctx = out {
            if ctx.pointee.pb != nil { avio_closep(&ctx.pointee.pb) }
            avformat_free_context(ctx)
            out = nil
        }
        videoStream = nil
    }

    private func drainVideoPackets() throws {
        guard let enc = encoder, let pkt = packet, let st = videoStream, let ctx = out else { return }
        while true {
            var r = avcodec_receive_packet(enc, pkt)
            if r == cffmpeg_eagain() || r == cffmpeg_eof() { return }
            if r < 0 { throw MediaError.encoder(path: path, reason: ffError(r)) }
            av_packet_rescale_ts(pkt, enc.pointee.time_base, st.pointee.time_base)
            pkt.pointee.stream_index = st.pointee.index
            let dts = pkt.pointee.dts != cffmpeg_nopts() ? pkt.pointee.dts : pkt.pointee.pts
            r = av_interleaved_write_frame(ctx, pkt)
            if r < 0 { throw MediaError.io(path: path, reason: "writing video: \(ffError(r))") }
            // Keep audio level with video so neither the muxer nor we buffer more than a packet or two.
            if dts != cffmpeg_nopts() { try audio?.pump(upTo: dts, timeBase: st.pointee.time_base) }
        }
    }

    private func openVideo(codec: UnsafePointer<AVCodec>, input: VideoStreamInfo, ofmt: UnsafePointer<AVOutputFormat>) throws {
        guard let ctx = out, let st = avformat_new_stream(ctx, nil), let enc = avcodec_alloc_context3(codec) else {
            throw MediaError.io(path: path, reason: "out of memory")
        }
        videoStream = st
        encoder = enc
        var tb = input.timeBase.num > 0 && input.timeBase.den > 0 ? input.timeBase.av : AVRational(num: 1, den: 25)
        let fmtName = String(cString: ofmt.pointee.name)
        if fmtName == "avi", input.averageFrameRate.num > 0, input.averageFrameRate.den > 0 {
            let clock = AVRational(num: input.averageFrameRate.den, den: input.averageFrameRate.num)
            ptsMapping = (tb, clock)
            tb = clock
        }
        enc.pointee.width = Int32(encodedWidth)
        enc.pointee.height = Int32(encodedHeight)
        if encodedWidth != width || encodedHeight != height {
            onWarning?("\(path): \(options.codec.rawValue) cannot code an odd size; writing \(encodedWidth)×\(encodedHeight) instead of \(width)×\(height)")
        }
        enc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        enc.pointee.time_base = tb
        let fr = input.averageFrameRate
        if fr.num > 0 && fr.den > 0 { enc.pointee.framerate = fr.av }
        enc.pointee.sample_aspect_ratio = sar
        enc.pointee.color_primaries = AVColorPrimaries(rawValue: numericCast(color.primaries))
        enc.pointee.color_trc = AVColorTransferCharacteristic(rawValue: numericCast(color.transfer))
        enc.pointee.colorspace = AVColorSpace(rawValue: numericCast(color.colorSpace))
        enc.pointee.color_range = color.fullRange ? AVCOL_RANGE_JPEG : AVColorRange(rawValue: numericCast(color.range))
        enc.pointee.chroma_sample_location = AVChromaLocation(rawValue: numericCast(color.chromaLocation))
        enc.pointee.thread_count = Int32(options.threads)
        if ofmt.pointee.flags & AVFMT_GLOBALHEADER != 0 { enc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }

        var opts: OpaquePointer?
        defer { av_dict_free(&opts) }
        switch options.codec {
        case .h264:
            av_dict_set(&opts, "crf", String(options.crf), 0)
            av_dict_set(&opts, "preset", options.preset, 0)
        case .h265:
            av_dict_set(&opts, "crf", String(options.crf), 0)
            av_dict_set(&opts, "preset", options.preset, 0)
            av_dict_set(&opts, "x265-params", "log-level=error", 0)   // x265 prints to stderr by itself otherwise
        case .h264NVENC, .hevcNVENC:
            // Constant quality as with x264's CRF: variable bit rate with no target, quantiser `cq`
            // (the same 0-51 scale; cq 0 would mean "encoder's choice", so at least 1).
            enc.pointee.bit_rate = 0
            av_dict_set(&opts, "rc", "vbr", 0)
            av_dict_set(&opts, "cq", String(max(1, options.crf)), 0)
            av_dict_set(&opts, "preset", options.nvencPreset, 0)
        case .vp9:
            enc.pointee.bit_rate = 0                                      // constant quality: crf alone
            av_dict_set(&opts, "crf", String(options.crf), 0)
            av_dict_set(&opts, "b", "0", 0)
            av_dict_set(&opts, "deadline", "good", 0)
            av_dict_set(&opts, "cpu-used", String(options.vp9CpuUsed), 0)
            av_dict_set(&opts, "row-mt", "1", 0)
        }
        var r = avcodec_open2(enc, codec, &opts)
        guard r >= 0 else { throw MediaError.encoder(path: path, reason: "\(options.codec.encoderName): \(ffError(r))") }
        if av_dict_count(opts) > 0, let e = av_dict_get(opts, "", nil, AV_DICT_IGNORE_SUFFIX) {
            onWarning?("\(path): encoder ignored option \(String(cString: e.pointee.key))")
        }
        r = avcodec_parameters_from_context(st.pointee.codecpar, enc)
        guard r >= 0 else { throw MediaError.encoder(path: path, reason: ffError(r)) }
        if options.codec.isHEVC && (fmtName == "mp4" || fmtName == "mov") {
            // 'hvc1' rather than 'hev1': the tag Apple players require.
            st.pointee.codecpar.pointee.codec_tag = fourCC("hvc1")
        }
        st.pointee.time_base = tb
        st.pointee.avg_frame_rate = enc.pointee.framerate
        st.pointee.r_frame_rate = enc.pointee.framerate
        st.pointee.sample_aspect_ratio = sar
        if let m = input.displayMatrix, m.count == 9, input.rotationDegrees != 0 || m != VideoWriter.identityMatrix {
            if let sd = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 36) {
                m.withUnsafeBytes { sd.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: 36) }
            }
        }
    }

    private static let identityMatrix: [Int32] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000]

    private func fourCC(_ s: String) -> UInt32 {
        s.utf8.reversed().reduce(0) { ($0 << 8) | UInt32($1) }
    }

    /// A real video container: not a single image (image2), not a device or a null sink.
    static func canHoldVideo(_ f: UnsafePointer<AVOutputFormat>) -> Bool {
        let name = String(cString: f.pointee.name)
        if f.pointee.video_codec == AV_CODEC_ID_NONE { return false }
        if f.pointee.flags & (AVFMT_NOFILE | AVFMT_NOTIMESTAMPS) != 0 { return false }   // devices, raw elementary streams
        return !["image2", "image2pipe", "apng", "gif", "webp", "null", "rawvideo", "yuv4mpegpipe", "framecrc", "framemd5",
                 "md5", "crc", "hash", "framehash", "streamhash", "ico", "smjpeg", "mjpeg"].contains(name)
    }

    private static func checkFolder(_ dir: String, target: String) throws {
        var st = stat()
        guard stat(dir, &st) == 0 else {
            throw MediaError.cannotWrite(path: target, reason: "folder \(dir) does not exist")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw MediaError.cannotWrite(path: target, reason: "\(dir) is not a folder")
        }
        guard access(dir, W_OK) == 0 else {
            throw MediaError.cannotWrite(path: target, reason: "folder \(dir) is not writable")
        }
        if stat(target, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw MediaError.cannotWrite(path: target, reason: "is a folder")
        }
    }
}
