import FaceFXGPU
import FaceFXMedia
import Foundation

public struct RenderOptions {
    public var input: String
    public var output: String
    public var codec: VideoCodecChoice
    public var crf: Int
    public var preset: String
    public var overwrite: Bool
    public var gpu: GPUDeviceSelection
    public var progress: ProgressReporter.Mode

    public init(input: String, output: String, codec: VideoCodecChoice = .h264, crf: Int = 18, preset: String = "medium",
                overwrite: Bool = false, gpu: GPUDeviceSelection = .auto, progress: ProgressReporter.Mode = .quiet) {
        self.input = input; self.output = output; self.codec = codec; self.crf = crf; self.preset = preset
        self.overwrite = overwrite; self.gpu = gpu; self.progress = progress
    }
}

public struct RenderSummary {
    public var output: String
    public var frames: Int
    public var corruptPackets: Int
    public var seconds: Double
    public var renderer: String
    public var warnings: [String]

    public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }

    /// The one-line summary printed at the end of a run.
    public var line: String {
        var s = "facefx: \(output): \(frames) frames in \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", fps)) fps)"
        if corruptPackets > 0 { s += ", \(corruptPackets) corrupt packet\(corruptPackets == 1 ? "" : "s") skipped" }
        return s
    }
}

/// Decode → GPU (upload, convert to RGBA, [filters], pack to I420, one readback) → encode, with the three
/// stages on their own threads joined by small bounded queues, so decoding, GL work and x264 overlap and
/// memory stays flat whatever the video length.
public final class RenderJob {
    public let options: RenderOptions
    /// Non-fatal messages (corrupt packets, audio problems), one line each; called from worker threads.
    public var onWarning: ((String) -> Void)?

    /// Frames in flight between stages; enough to keep each stage busy, small enough for 4K frames.
    static let queueDepth = 3

    public init(options: RenderOptions) { self.options = options }

    /// Usage checks that need no decoding: input exists, output is not the input, output absent unless
    /// --overwrite. Container and codec checks happen when the writer opens, before any frame.
    public static func checkPaths(input: String, output: String, overwrite: Bool) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: input, isDirectory: &isDir) else {
            throw PipelineError.usage("\(input): no such file")
        }
        if isDir.boolValue { throw PipelineError.usage("\(input): is a folder, not a video file") }
        if sameFile(input, output) {
            throw PipelineError.usage("\(output): output is the input file; choose another name")
        }
        if fm.fileExists(atPath: output, isDirectory: &isDir) {
            if isDir.boolValue { throw PipelineError.usage("\(output): is a folder") }
            if !overwrite { throw PipelineError.usage("\(output): already exists (use --overwrite to replace it)") }
        }
    }

    /// True when both paths name the same file (also through links and different spellings).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0 && stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        let ua = URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath()
        let ub = URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
        return ua.path == ub.path
    }

    public func run() throws -> RenderSummary {
        do {
            return try runUnmapped()
        } catch {
            throw PipelineError.from(error)
        }
    }

    private func runUnmapped() throws -> RenderSummary {
        let o = options
        try RenderJob.checkPaths(input: o.input, output: o.output, overwrite: o.overwrite)
        let started = Date()
        let warnings = WarningLog(sink: onWarning)

        let reader = try VideoReader(path: o.input)
        reader.onWarning = { warnings.add($0) }
        let info = reader.info
        let writer = try VideoWriter(path: o.output, input: info, inputPath: o.input,
                                     options: EncodeOptions(codec: o.codec.media, crf: o.crf, preset: o.preset),
                                     onWarning: { warnings.add($0) })

        let gpu = try GPUContext(device: o.gpu)
        let colour = try FrameColorConverter(context: gpu)
        let layout = I420Layout(width: info.width, height: info.height)
        try colour.prepareOutput(layout: layout)
        // Nothing draws into the frame without filters: 8-bit 4:2:0 frames then take the copy path
        // (no RGBA round trip). FACEFX_FORCE_RGBA=1 forces the RGBA path (tests, benchmarks).
        let forceRGBA = ProcessInfo.processInfo.environment["FACEFX_FORCE_RGBA"] == "1"
        let passthrough = forceRGBA ? nil : FramePassthrough(context: gpu, programs: colour.programs, passes: colour.passes)
        try passthrough?.prepare(layout: layout)

        let progress = ProgressReporter(mode: o.progress, label: (o.output as NSString).lastPathComponent,
                                        totalFrames: info.estimatedFrameCount)
        let decoded = BoundedQueue<VideoFrame>(capacity: RenderJob.queueDepth)
        let rendered = BoundedQueue<(I420Buffer, Int64)>(capacity: RenderJob.queueDepth)
        let failure = FirstError()
        let abort = { (error: Error) in
            failure.set(error)
            decoded.cancel()
            rendered.cancel()
        }

        // Stage threads capture the reader, GPU objects and writer unowned: this function keeps them alive and
        // joins the threads before returning, so every FFmpeg/EGL object is released here, on this thread,
        // never late on a stage thread racing with process exit.
        let stages = DispatchGroup()
        stages.enter(); stages.enter()
        defer { stages.wait() }
        let decodeThread = Thread { [unowned reader] in
            defer { stages.leave() }
            do {
                while let frame = try reader.nextFrame() {
                    if !decoded.push(frame) { break }
                }
                decoded.close()
            } catch { abort(error) }
        }
        decodeThread.name = "facefx.decode"
        let gpuThread = Thread { [unowned gpu, unowned colour, unowned writer, weak passthrough] in
            defer { stages.leave() }
            do {
                while let frame = decoded.pop() {
                    let buffer = writer.makeFrameBuffer()
                    guard buffer.byteCount >= layout.byteCount else {
                        throw PipelineError.processing("internal: frame buffer smaller than the GPU layout")
                    }
                    let (y, u, v) = frame.gpuPlanes()
                    let format = frame.gpuFormat
                    try gpu.sync { () throws in
                        if let passthrough, FramePassthrough.supports(format), frame.width == layout.width,
                           frame.height == layout.height {
                            try passthrough.copy(y: y, u: u, v: v, format: format, layout: layout, into: buffer.data)
                        } else {
                            let texture = try colour.upload(y: y, u: u, v: v, format: format)
                            try colour.readI420(from: texture, layout: layout, into: buffer.data)
                        }
                    }
                    if !rendered.push((buffer, frame.pts)) { break }
                }
                rendered.close()
            } catch { abort(error) }
        }
        gpuThread.name = "facefx.gpu"
        decodeThread.start()
        gpuThread.start()

        var frames = 0
        do {
            while let (buffer, pts) = rendered.pop() {
                try writer.write(buffer, pts: pts)
                frames += 1
                progress.update(frames: frames)
            }
            if let error = failure.error { throw error }
            try writer.finish()
        } catch {
            abort(error)
            stages.wait()
            writer.cancel()
            progress.finish()
            throw failure.error ?? error
        }
        stages.wait()
        progress.finish()
        let summary = RenderSummary(output: o.output, frames: frames, corruptPackets: reader.corruptPackets,
                                    seconds: Date().timeIntervalSince(started), renderer: gpu.renderer,
                                    warnings: warnings.all)
        withExtendedLifetime((reader, writer, gpu, colour, passthrough)) {}
        return summary
    }
}

/// The first error any stage hit; later ones are consequences of the shutdown.
final class FirstError {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ e: Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
}

/// Collects warnings from the stage threads and forwards each to the caller's sink.
final class WarningLog {
    private let lock = NSLock()
    private var items: [String] = []
    private let sink: ((String) -> Void)?
    init(sink: ((String) -> Void)?) { self.sink = sink }
    func add(_ w: String) {
        lock.lock(); items.append(w); lock.unlock()
        sink?(w)
    }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
