import CFFmpeg
import Foundation

/// Carries the input's audio into the output file, decoupled from the video reader: it opens the input a second
/// time (audio stream only) and is pumped by the writer up to each video packet's timestamp, so memory stays flat.
/// Packets are copied when the output container accepts the codec, else transcoded (AAC; Opus/Vorbis for WebM).
final class AudioCarrier {
    enum Mode: Equatable { case copy, transcode(to: String) }

    let mode: Mode
    let sourceCodec: String
    private let input: InputFile
    private let inIndex: Int32
    private let inTimeBase: AVRational
    private let out: UnsafeMutablePointer<AVFormatContext>
    private let outStream: UnsafeMutablePointer<AVStream>
    private let outputPath: String
    private let warn: (String) -> Void
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var pending = false
    private var exhausted = false
    private var decodeErrors = 0

    // Transcoding state (nil in copy mode).
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var resampler: OpaquePointer?
    private var fifo: OpaquePointer?
    private var decoded: UnsafeMutablePointer<AVFrame>?
    private var encFrame: UnsafeMutablePointer<AVFrame>?
    private var convBuffer: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?
    private var convCapacity: Int32 = 0
    private var encPacket: UnsafeMutablePointer<AVPacket>?
    private var frameSize: Int32 = 1024
    private var nextPts: Int64?
    private var swrInput: (fmt: Int32, rate: Int32, layout: AVChannelLayout)?

    /// Returns nil when the input has no audio (or none we can carry; then `warn` says why).
    static func make(inputPath: String, output: UnsafeMutablePointer<AVFormatContext>, outputPath: String,
                     warn: @escaping (String) -> Void) throws -> AudioCarrier? {
        let input = try InputFile(path: inputPath)
        let idx = av_find_best_stream(input.ctx, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard idx >= 0 else { return nil }
        let par = input.stream(idx).pointee.codecpar!
        let ofmt = output.pointee.oformat!
        let codecName = String(cString: avcodec_get_name(par.pointee.codec_id))
        if avformat_query_codec(ofmt, par.pointee.codec_id, FF_COMPLIANCE_NORMAL) == 1 && hasTag(ofmt, par.pointee.codec_id)
            && !copyRefused(format: String(cString: ofmt.pointee.name), codec: codecName) {
            return try AudioCarrier(input: input, index: idx, out: output, outputPath: outputPath, encoderName: nil, warn: warn)
        }
        // Re-encode into the first codec the container takes.
        let isWebM = String(cString: ofmt.pointee.name) == "webm"
        let candidates = isWebM ? ["libopus", "libvorbis"] : ["aac", "libopus", "libvorbis"]
        guard let encName = candidates.first(where: { name in
            guard let c = avcodec_find_encoder_by_name(name) else { return false }
            return avformat_query_codec(ofmt, c.pointee.id, FF_COMPLIANCE_NORMAL) == 1
        }) else {
            warn("\(outputPath): audio dropped: the container holds neither \(codecName) nor any audio encoder we have")
            return nil
        }
        guard avcodec_find_decoder(par.pointee.codec_id) != nil else {
            warn("\(outputPath): audio dropped: no decoder for \(codecName) to re-encode it")
            return nil
        }
        return try AudioCarrier(input: input, index: idx, out: output, outputPath: outputPath, encoderName: encName, warn: warn)
    }

    /// Pairs FFmpeg 5.1 lists as supported but refuses at write_header (flac in MP4 is "experimental", opus is
    /// MP4-only) or that players rarely handle (vorbis in MP4): re-encode those instead of copying.
    static func copyRefused(format: String, codec: String) -> Bool {
        switch format {
        case "mp4", "ipod", "3gp", "3g2", "ismv", "f4v", "psp": return ["flac", "truehd", "vorbis"].contains(codec)
        case "mov": return ["flac", "truehd", "opus", "vorbis"].contains(codec)
        default: return false
        }
    }

    /// Containers with tag tables (mp4, mov, avi...) must know a tag for the codec, or the header write fails.
    private static func hasTag(_ ofmt: UnsafePointer<AVOutputFormat>, _ id: AVCodecID) -> Bool {
        guard let tags = ofmt.pointee.codec_tag else { return true }
        var tag: UInt32 = 0
        return av_codec_get_tag2(tags, id, &tag) != 0
    }

    private init(input: InputFile, index: Int32, out: UnsafeMutablePointer<AVFormatContext>, outputPath: String,
                 encoderName: String?, warn: @escaping (String) -> Void) throws {
        self.input = input
        inIndex = index
        let inStream = input.stream(index)
        inTimeBase = inStream.pointee.time_base
        self.out = out
        self.outputPath = outputPath
        self.warn = warn
        sourceCodec = String(cString: avcodec_get_name(inStream.pointee.codecpar.pointee.codec_id))
        mode = encoderName.map { .transcode(to: $0) } ?? .copy
        guard let st = avformat_new_stream(out, nil) else { throw MediaError.io(path: outputPath, reason: "out of memory") }
        outStream = st
        packet = av_packet_alloc()

        if encoderName == nil {
            let r = avcodec_parameters_copy(st.pointee.codecpar, inStream.pointee.codecpar)
            if r < 0 { throw MediaError.io(path: outputPath, reason: "audio parameters: \(ffError(r))") }
            st.pointee.codecpar.pointee.codec_tag = 0          // let the muxer pick its own tag for this codec
            st.pointee.time_base = inTimeBase
            _ = av_dict_copy(&st.pointee.metadata, inStream.pointee.metadata, 0)   // language, title
            return
        }
        try openTranscoder(encoderName: encoderName!, inStream: inStream)
    }

    deinit {
        av_packet_free(&packet)
        av_packet_free(&encPacket)
        av_frame_free(&decoded)
        av_frame_free(&encFrame)
        avcodec_free_context(&decoder)
        avcodec_free_context(&encoder)
        if resampler != nil { swr_free(&resampler) }
        if let fifo { av_audio_fifo_free(fifo) }
        if let convBuffer {
            av_freep(UnsafeMutableRawPointer(convBuffer))
            convBuffer.deallocate()
        }
        if swrInput != nil { av_channel_layout_uninit(&swrInput!.layout) }
    }

    private func openTranscoder(encoderName: String, inStream: UnsafeMutablePointer<AVStream>) throws {
        let par = inStream.pointee.codecpar!
        guard let dcodec = avcodec_find_decoder(par.pointee.codec_id), let dec = avcodec_alloc_context3(dcodec) else {
            throw MediaError.unsupportedCodec(path: input.path, codec: sourceCodec, reason: "no audio decoder")
        }
        decoder = dec
        avcodec_parameters_to_context(dec, par)
        dec.pointee.pkt_timebase = inTimeBase
        var r = avcodec_open2(dec, dcodec, nil)
        guard r >= 0 else {
            throw MediaError.unsupportedCodec(path: input.path, codec: sourceCodec, reason: "audio decoder: \(ffError(r))")
        }
        guard let ecodec = avcodec_find_encoder_by_name(encoderName), let enc = avcodec_alloc_context3(ecodec) else {
            throw MediaError.unsupportedCodec(path: outputPath, codec: encoderName, reason: "no audio encoder")
        }
        encoder = enc

        // Sample format: planar float when offered (aac), else the encoder's first choice.
        var sampleFmt = AV_SAMPLE_FMT_FLTP
        if let fmts = ecodec.pointee.sample_fmts {
            var i = 0, offered: [AVSampleFormat] = []
            while fmts[i] != AV_SAMPLE_FMT_NONE { offered.append(fmts[i]); i += 1 }
            if !offered.contains(AV_SAMPLE_FMT_FLTP), let first = offered.first { sampleFmt = first }
        }
        enc.pointee.sample_fmt = sampleFmt

        var rate = dec.pointee.sample_rate > 0 ? dec.pointee.sample_rate : 48000
        if let rates = ecodec.pointee.supported_samplerates {
            var i = 0, offered: [Int32] = []
            while rates[i] != 0 { offered.append(rates[i]); i += 1 }
            if !offered.contains(rate) { rate = offered.contains(48000) ? 48000 : (offered.first ?? 48000) }
        }
        enc.pointee.sample_rate = rate

        // Channels: keep the input's count when the encoder offers its default layout, else stereo.
        let channels = max(1, dec.pointee.ch_layout.nb_channels)
        var layout = AVChannelLayout()
        av_channel_layout_default(&layout, channels)
        if channels > 2 {
            var ok = ecodec.pointee.ch_layouts == nil && encoderName == "aac"
            if let lays = ecodec.pointee.ch_layouts {
                var i = 0
                while lays[i].nb_channels != 0 {
                    var l = lays[i]
                    if av_channel_layout_compare(&l, &layout) == 0 { ok = true; break }
                    i += 1
                }
            }
            if !ok {
                av_channel_layout_uninit(&layout)
                av_channel_layout_default(&layout, 2)
                warn("\(outputPath): \(channels)-channel audio downmixed to stereo for \(encoderName)")
            }
        }
        av_channel_layout_copy(&enc.pointee.ch_layout, &layout)
        av_channel_layout_uninit(&layout)
        enc.pointee.bit_rate = enc.pointee.ch_layout.nb_channels > 2 ? 192_000 : 128_000
        enc.pointee.time_base = AVRational(num: 1, den: rate)
        if out.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            enc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        r = avcodec_open2(enc, ecodec, nil)
        guard r >= 0 else { throw MediaError.encoder(path: outputPath, reason: "\(encoderName) audio encoder: \(ffError(r))") }
        r = avcodec_parameters_from_context(outStream.pointee.codecpar, enc)
        guard r >= 0 else { throw MediaError.encoder(path: outputPath, reason: "audio parameters: \(ffError(r))") }
        outStream.pointee.time_base = enc.pointee.time_base

        let variable = ecodec.pointee.capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE != 0
        frameSize = (enc.pointee.frame_size > 0 && !variable) ? enc.pointee.frame_size : 1024
        fifo = av_audio_fifo_alloc(sampleFmt, enc.pointee.ch_layout.nb_channels, frameSize * 4)
        decoded = av_frame_alloc()
        encFrame = av_frame_alloc()
        encPacket = av_packet_alloc()
        guard fifo != nil, decoded != nil, encFrame != nil, encPacket != nil else {
            throw MediaError.io(path: outputPath, reason: "out of memory")
        }
    }

    /// Writes audio up to the video timestamp `limit` (in `timeBase`); nil means everything that is left.
    func pump(upTo limit: Int64?, timeBase: AVRational) throws {
        guard let pkt = packet else { return }
        while !exhausted {
            if !pending {
                input.guardian.arm(seconds: input.budget)
                let r = av_read_frame(input.ctx, pkt)
                input.guardian.disarm()
                if r == cffmpeg_eagain() { usleep(1000); continue }
                if r < 0 {
                    if r != cffmpeg_eof() { warn("\(input.path): audio read error (\(ffError(r))); audio ends early") }
                    exhausted = true
                    break
                }
                if pkt.pointee.stream_index != inIndex { av_packet_unref(pkt); continue }
                pending = true
            }
            if let limit {
                let ts = pkt.pointee.dts != cffmpeg_nopts() ? pkt.pointee.dts : pkt.pointee.pts
                if ts != cffmpeg_nopts() && av_compare_ts(ts, inTimeBase, limit, timeBase) > 0 { return }
            }
            pending = false
            try process(pkt)
        }
    }

    /// End of video: the rest of the audio, then the transcoder's tail.
    func finish() throws {
        try pump(upTo: nil, timeBase: AVRational(num: 1, den: 1))
        guard encoder != nil, let dec = decoder else { return }
        _ = avcodec_send_packet(dec, nil)
        try receiveDecoded()
        try drainResampler()
        try encodeFromFifo(final: true)
        try encode(nil)
    }

    private func process(_ pkt: UnsafeMutablePointer<AVPacket>) throws {
        if mode == .copy {
            av_packet_rescale_ts(pkt, inTimeBase, outStream.pointee.time_base)
            pkt.pointee.stream_index = outStream.pointee.index
            pkt.pointee.pos = -1
            let r = av_interleaved_write_frame(out, pkt)     // takes the packet's reference
            if r < 0 { throw MediaError.io(path: outputPath, reason: "writing audio: \(ffError(r))") }
            return
        }
        guard let dec = decoder else { return }
        let r = avcodec_send_packet(dec, pkt)
        av_packet_unref(pkt)
        if r < 0 && r != cffmpeg_eagain() { noteDecodeError(r); return }
        try receiveDecoded()
    }

    private func noteDecodeError(_ r: Int32) {
        decodeErrors += 1
        if decodeErrors == 1 { warn("\(input.path): undecodable audio skipped (\(ffError(r)))") }
    }

    private func receiveDecoded() throws {
        guard let dec = decoder, let frame = decoded else { return }
        while true {
            let r = avcodec_receive_frame(dec, frame)
            if r == cffmpeg_eagain() || r == cffmpeg_eof() { return }
            if r < 0 { noteDecodeError(r); return }
            defer { av_frame_unref(frame) }
            if nextPts == nil {
                // The first sample keeps its place on the timeline, so A/V sync survives re-encoding.
                let ts = frame.pointee.best_effort_timestamp
                nextPts = ts == cffmpeg_nopts() ? 0
                    : av_rescale_q(ts, inTimeBase, encoder!.pointee.time_base)
            }
            try resample(frame)
            try encodeFromFifo(final: false)
        }
    }

    /// (Re)builds the resampler when the decoded format changes, then pushes converted samples into the FIFO.
    private func resample(_ frame: UnsafeMutablePointer<AVFrame>) throws {
        guard let enc = encoder else { return }
        let f = frame.pointee
        var layout = AVChannelLayout()
        if f.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f.ch_layout.nb_channels == 0 {
            av_channel_layout_default(&layout, max(1, f.ch_layout.nb_channels))
        } else {
            var src = f.ch_layout
            av_channel_layout_copy(&layout, &src)
        }
        let changed: Bool
        if var old = swrInput?.layout {
            changed = swrInput!.fmt != f.format || swrInput!.rate != f.sample_rate || av_channel_layout_compare(&old, &layout) != 0
        } else { changed = true }
        if changed {
            if resampler != nil { swr_free(&resampler) }
            if swrInput != nil { av_channel_layout_uninit(&swrInput!.layout) }
            var r = swr_alloc_set_opts2(&resampler, &enc.pointee.ch_layout, enc.pointee.sample_fmt, enc.pointee.sample_rate,
                                        &layout, AVSampleFormat(f.format), f.sample_rate, 0, nil)
            if r >= 0 { r = swr_init(resampler) }
            if r < 0 { throw MediaError.encoder(path: outputPath, reason: "audio resampler: \(ffError(r))") }
            swrInput = (f.format, f.sample_rate, layout)
        } else {
            av_channel_layout_uninit(&layout)
        }
        let outCount = swr_get_out_samples(resampler, f.nb_samples)
        try ensureConvCapacity(outCount)
        let input = UnsafeMutableRawPointer(frame.pointee.extended_data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        let n = swr_convert(resampler, convBuffer, outCount, input, f.nb_samples)
        if n < 0 { throw MediaError.encoder(path: outputPath, reason: "audio resampling: \(ffError(n))") }
        if n > 0 { try fifoWrite(n) }
    }

    private func drainResampler() throws {
        guard resampler != nil else { return }
        while true {
            let outCount = max(swr_get_out_samples(resampler, 0), 0)
            if outCount == 0 { return }
            try ensureConvCapacity(outCount)
            let n = swr_convert(resampler, convBuffer, outCount, nil, 0)
            if n <= 0 { return }
            try fifoWrite(n)
        }
    }

    private func ensureConvCapacity(_ samples: Int32) throws {
        guard let enc = encoder, samples > convCapacity else { return }
        let planes = Int(av_sample_fmt_is_planar(enc.pointee.sample_fmt) != 0 ? enc.pointee.ch_layout.nb_channels : 1)
        if let convBuffer { av_freep(UnsafeMutableRawPointer(convBuffer)); convBuffer.deallocate() }
        convBuffer = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: max(planes, 8))
        convBuffer!.initialize(repeating: nil, count: max(planes, 8))
        let cap = max(samples, 4096)
        let r = av_samples_alloc(convBuffer, nil, enc.pointee.ch_layout.nb_channels, cap, enc.pointee.sample_fmt, 0)
        if r < 0 { throw MediaError.io(path: outputPath, reason: "out of memory") }
        convCapacity = cap
    }

    private func fifoWrite(_ n: Int32) throws {
        let w = convBuffer!.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) { av_audio_fifo_write(fifo, $0, n) }
        if w < n { throw MediaError.io(path: outputPath, reason: "out of memory (audio fifo)") }
    }

    /// Feeds the encoder whole frames from the FIFO; at the end also the short remainder (padded if the codec needs it).
    private func encodeFromFifo(final: Bool) throws {
        guard let enc = encoder, let ef = encFrame, let fifo else { return }
        while av_audio_fifo_size(fifo) >= frameSize || (final && av_audio_fifo_size(fifo) > 0) {
            let available = min(av_audio_fifo_size(fifo), frameSize)
            let smallLastOK = enc.pointee.codec.pointee.capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE) != 0
            let n = available < frameSize && !smallLastOK ? frameSize : available
            av_frame_unref(ef)
            ef.pointee.nb_samples = n
            ef.pointee.format = enc.pointee.sample_fmt.rawValue
            ef.pointee.sample_rate = enc.pointee.sample_rate
            av_channel_layout_copy(&ef.pointee.ch_layout, &enc.pointee.ch_layout)
            var r = av_frame_get_buffer(ef, 0)
            if r < 0 { throw MediaError.io(path: outputPath, reason: "out of memory") }
            if n > available {
                av_samples_set_silence(ef.pointee.extended_data, 0, n, enc.pointee.ch_layout.nb_channels, enc.pointee.sample_fmt)
            }
            r = UnsafeMutableRawPointer(ef.pointee.extended_data).withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) {
                av_audio_fifo_read(fifo, $0, available)
            }
            if r < available { throw MediaError.io(path: outputPath, reason: "audio fifo underrun") }
            ef.pointee.pts = nextPts ?? 0
            nextPts = (nextPts ?? 0) + Int64(n)
            try encode(ef)
        }
    }

    private func encode(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        guard let enc = encoder, let pkt = encPacket else { return }
        var r = avcodec_send_frame(enc, frame)
        if r < 0 && r != cffmpeg_eof() { throw MediaError.encoder(path: outputPath, reason: "audio encoding: \(ffError(r))") }
        while true {
            r = avcodec_receive_packet(enc, pkt)
            if r == cffmpeg_eagain() || r == cffmpeg_eof() { return }
            if r < 0 { throw MediaError.encoder(path: outputPath, reason: "audio encoding: \(ffError(r))") }
            av_packet_rescale_ts(pkt, enc.pointee.time_base, outStream.pointee.time_base)
            pkt.pointee.stream_index = outStream.pointee.index
            r = av_interleaved_write_frame(out, pkt)
            if r < 0 { throw MediaError.io(path: outputPath, reason: "writing audio: \(ffError(r))") }
        }
    }
}
