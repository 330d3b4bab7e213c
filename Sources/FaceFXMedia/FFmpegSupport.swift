import CFFmpeg
import Foundation
import Synchronization

/// FFmpeg's own logging is silenced: the product prints our one-line messages only.
public enum FFmpegLogging {
    private static let once: Void = { av_log_set_level(AV_LOG_QUIET) }()
    static func ensureQuiet() { _ = once }
    /// For debugging a file by hand: restores FFmpeg's stderr log (e.g. `AV_LOG_WARNING` = 24).
    public static func setLevel(_ level: Int32) { _ = once; av_log_set_level(level) }

    /// Runs `body` and returns with its result the last error FFmpeg logged meanwhile (hardware probes:
    /// a failed NVENC open only returns "error in an external library"; its log says what failed). One
    /// capture at a time; the quiet default callback is put back after.
    static func capturingLastError<T>(_ body: () -> T) -> (T, String?) {
        _ = once
        captureLock.lock(); defer { captureLock.unlock() }
        captured.withLock { $0 = nil }
        av_log_set_callback { (_: UnsafeMutableRawPointer?, level: Int32, format: UnsafePointer<CChar>?, arguments: CVaListPointer?) in
            guard level <= AV_LOG_ERROR, let format, let arguments else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = vsnprintf(&buffer, buffer.count, format, arguments)
            let line = String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { FFmpegLogging.captured.withLock { $0 = line } }
        }
        let result = body()
        cffmpeg_restore_default_log()
        return (result, captured.withLock { $0 })
    }
    private static let captureLock = NSLock()
    private static let captured = Mutex<String?>(nil)
}

/// FFmpeg error code → text ("Invalid data found when processing input").
func ffError(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    _ = cffmpeg_strerror(code, &buf, buf.count)
    return String(cString: buf)
}

extension AVRational {
    var rational: Rational { Rational(num, den) }
}
extension Rational {
    var av: AVRational { AVRational(num: num, den: den) }
}

/// Deadline checked by FFmpeg's I/O layer (AVIOInterruptCB) so a pathological file can never block forever:
/// every blocking call re-arms it, and reads abort with AVERROR_EXIT once it passes.
final class InterruptGuard {
    /// Seconds one demuxer call may take; generous because find_stream_info on big files reads a lot.
    static let defaultBudget: Double = 60
    private var deadline: UInt64 = .max

    func arm(seconds: Double = InterruptGuard.defaultBudget) {
        deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    }
    func disarm() { deadline = .max }
    var expired: Bool { DispatchTime.now().uptimeNanoseconds > deadline }

    /// The callback struct to store in AVFormatContext.interrupt_callback; valid while `self` lives.
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(callback: { opaque in
            guard let opaque else { return 0 }
            return Unmanaged<InterruptGuard>.fromOpaque(opaque).takeUnretainedValue().expired ? 1 : 0
        }, opaque: Unmanaged.passUnretained(self).toOpaque())
    }
}

/// An opened input file: the demuxer context plus its interrupt guard, freed together.
final class InputFile {
    let path: String
    var ctx: UnsafeMutablePointer<AVFormatContext>?
    let guardian = InterruptGuard()

    /// Seconds each blocking demuxer call may take before it is abandoned.
    let budget: Double

    /// Opens and probes `path`, mapping failures to the errors a user can act on.
    init(path: String, budget: Double = InterruptGuard.defaultBudget) throws {
        self.budget = budget
        FFmpegLogging.ensureQuiet()
        self.path = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw MediaError.fileNotFound(path: path) }
            throw MediaError.io(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw MediaError.notMedia(path: path, reason: "is a directory") }
        // A pipe (`cat in.mp4 | facefx /dev/stdin …`) or device cannot be read twice or seeked in, as the input is
        // (probe, frames, audio, segments); its size of 0 would otherwise read as an empty file.
        if (st.st_mode & S_IFMT) != S_IFREG {
            throw MediaError.notMedia(path: path, reason: "a pipe or device, not a file: facefx seeks in its input; save it to a file first")
        }
        if st.st_size == 0 { throw MediaError.notMedia(path: path, reason: "file is empty") }
        guard access(path, R_OK) == 0 else {
            throw MediaError.io(path: path, reason: String(cString: strerror(errno)))
        }

        var c = avformat_alloc_context()
        guard c != nil else { throw MediaError.io(path: path, reason: "out of memory") }
        c!.pointee.interrupt_callback = guardian.callback
        guardian.arm(seconds: budget)
        var r = avformat_open_input(&c, path, nil, nil)   // frees c on failure
        guardian.disarm()
        if r < 0 {
            if r == cffmpeg_error_exit() { throw MediaError.corrupt(path: path, reason: "gave up: opening took too long") }
            // A recognised container that fails to open is damaged; anything else is simply not media.
            if let fmt = InputFile.recognisedFormat(path: path) {
                throw MediaError.corrupt(path: path, reason: "\(fmt): \(ffError(r))")
            }
            throw MediaError.notMedia(path: path, reason: ffError(r))
        }
        ctx = c
        guardian.arm(seconds: budget)
        r = avformat_find_stream_info(c, nil)
        guardian.disarm()
        if r < 0 {
            close()
            throw MediaError.corrupt(path: path, reason: "cannot read stream parameters: \(ffError(r))")
        }
    }

    deinit { close() }

    func close() {
        if ctx != nil { avformat_close_input(&ctx) }
    }

    var formatName: String {
        guard let f = ctx?.pointee.iformat?.pointee.name else { return "?" }
        return String(cString: f)
    }

    func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream> {
        ctx!.pointee.streams[Int(index)]!
    }

    /// Content sniffing (no extension) of the first bytes: which demuxer claims this file, if any, with confidence.
    static func recognisedFormat(path: String) -> String? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        let head = fh.readData(ofLength: 64 * 1024)
        guard !head.isEmpty else { return nil }
        var bytes = [UInt8](head)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE)))
        return bytes.withUnsafeMutableBufferPointer { buf -> String? in
            var pd = AVProbeData()
            pd.buf = buf.baseAddress
            pd.buf_size = Int32(head.count)
            pd.filename = nil
            var score: Int32 = 0
            guard let f = av_probe_input_format3(&pd, 1, &score), score > AVPROBE_SCORE_MAX / 4 else { return nil }
            return String(cString: f.pointee.name)
        }
    }
}

/// Remembers which warnings were already given, so each is said once (not thread-safe, like its owners).
struct OnceSet {
    private var said = Set<String>()
    mutating func first(_ key: String) -> Bool { said.insert(key).inserted }
}
