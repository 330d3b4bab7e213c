import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import FaceFXOverlay
import Foundation

public struct RenderOptions {
    public var input: String
    public var output: String
    public var codec: VideoCodecChoice
    public var crf: Int
    public var preset: String
    public var overwrite: Bool
    public var gpu: GPUDeviceSelection
    /// Renderer knobs (`GPUTuning(environment:)` at the command line).
    public var tuning = GPUTuning()
    /// A context to run on instead of opening one from `gpu` and `tuning`: a batch opens one per GPU and
    /// its jobs share it, their GL work taking turns on its one GL thread (NVIDIA time-slices separate
    /// contexts: 4 jobs with 4 contexts were slower than 1), and its programs and face networks.
    public var sharedGPU: SharedGPU?
    /// CPU or NVDEC decoding (`--hwdec`).
    public var decoding = HardwareDecoding.none
    public var progress: ProgressReporter.Mode
    /// Filters drawn in order (names found in `filterFolders`).
    public var filters: [String] = []
    /// Filter folders searched in order and the Models/ folder (found by the executable: ResourceLocator;
    /// the models nil when the job needs none).
    public var filterFolders: [URL] = []
    public var modelsDirectory: URL?
    /// Per-face records written alongside the video (same format as `facefx analyze`).
    public var csvPath: String?
    public var jsonlPath: String?
    public var records = FaceRecordOptions()
    public var tracking = FaceTrackingOptions()
    /// A face classifier (`FaceClassifier`): class_<label> columns and filter conditions on its labels.
    public var classifier: URL?

    /// True when the render needs face tracking (filters or exports).
    public var needsFaces: Bool { !filters.isEmpty || csvPath != nil || jsonlPath != nil }

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
    /// Faces summed over frames, and distinct track ids (0 when no tracking ran).
    public var faceFrames = 0
    public var faceTracks = 0
    public var tracked = false

    public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }

    /// The one-line summary printed at the end of a run.
    public var line: String {
        var s = "facefx: \(output): \(frames) frames"
        if tracked { s += ", \(faceTracks) face track\(faceTracks == 1 ? "" : "s"), \(faceFrames) face-frames" }
        s += " in \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", fps)) fps)"
        if corruptPackets > 0 { s += ", \(corruptPackets) corrupt packet\(corruptPackets == 1 ? "" : "s") skipped" }
        return s
    }
}

/// Decode → GPU (upload, convert to RGBA, [filters], pack to I420, one readback) → encode, on the
/// `FramePipeline`: decoding, GL work and x264 overlap and memory stays flat whatever the video length.
public final class RenderJob {
    public let options: RenderOptions
    /// Non-fatal messages (corrupt packets, audio problems), one line each; called from worker threads.
    public var onWarning: ((String) -> Void)?

    public init(options: RenderOptions) { self.options = options }

    /// Usage checks that need no decoding: input exists, output is not the input, output absent unless
    /// --overwrite, its folder exists. Container and codec checks happen when the writer opens, before any frame.
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
        // A video or picture is written to a hidden file and renamed when complete (an MP4's index comes last).
        if AtomicOutputFile.isStream(output) {
            throw PipelineError.usage("\(output): a pipe or device, not a file: the output is written whole and renamed; give a file path")
        }
        if fm.fileExists(atPath: output, isDirectory: &isDir) {
            if isDir.boolValue { throw PipelineError.usage("\(output): is a folder") }
            if !overwrite { throw PipelineError.usage("\(output): already exists (use --overwrite to replace it)") }
        }
        // As for analyze's outputs (FaceRecordWriter.checkTargets): the same mistake, the same exit code.
        let folder = (output as NSString).deletingLastPathComponent
        if !folder.isEmpty, !fm.fileExists(atPath: folder, isDirectory: &isDir) || !isDir.boolValue {
            throw PipelineError.usage("\(output): folder \(folder) does not exist")
        }
        try checkWritable(folder: folder, for: output)
    }

    /// Outputs are written beside their targets and renamed: the folder must take new files, checked
    /// before any decoding (a read-only folder would otherwise fail only when the output is written).
    static func checkWritable(folder: String, for output: String) throws {
        let dir = folder.isEmpty ? "." : folder
        if access(dir, W_OK) != 0 {
            throw PipelineError.usage("\(output): folder \(dir) is not writable (\(String(cString: strerror(errno))))")
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

    /// Offline smoothing window for rendering: the picture waits for its final faces, so frames are held
    /// for up to window + margin frames of the smoother (60), plus the analyzer's look-back (12) and the
    /// linker's look-ahead (30): about 100 frames, and where the analysis runs ahead of the encoder up to
    /// two windows and two landmark batches more (`render`'s queue to the drawing thread): 180 frames at
    /// most; with a filter they wait as RGBA targets on the GPU (8 MB a 1080p frame, instead of 3 MB
    /// decoded and a second upload and conversion). `analyze` uses far longer smoothing windows since it
    /// holds only face records.
    static let renderSmoothingWindow = (frames: 30, margin: 30)

    private func runUnmapped() throws -> RenderSummary {
        let o = options
        try RenderJob.checkPaths(input: o.input, output: o.output, overwrite: o.overwrite)
        try FaceRecordWriter.checkTargets([o.csvPath, o.jsonlPath].compactMap { $0 }, overwrite: o.overwrite,
                                          inputs: [o.input, o.output])
        if o.classifier != nil && !o.needsFaces {
            throw PipelineError.usage("--classifier needs faces to classify: add a filter, --csv or --jsonl")
        }
        let started = Date()
        let warnings = WarningLog(sink: onWarning)

        // The Models/ folder when filters or face records need faces.
        let models = o.needsFaces ? try FaceStage.models(o.modelsDirectory) : nil
        if let models { FaceNetworks.prefetchGraphs(modelsDirectory: models) }
        let (reader, shared) = try concurrently("fx.open", { try VideoReader(path: o.input, decoding: o.decoding) },
                                                { try o.sharedGPU ?? SharedGPU(device: o.gpu, tuning: o.tuning) })
        reader.onWarning = { warnings.add($0) }
        let info = reader.info
        let gpu = shared.context
        let colour = try FrameColorConverter(context: gpu, programs: shared.programs)
        // The canonical face mesh, for the overlay and the analyzer (filters need faces), beside its folder.
        let mesh = try models.map { (folder: $0, model: try FaceStage.loadFaceModel(modelsDirectory: $0)) }
        let trackingSettings = o.tracking.settings(frameRate: info.averageFrameRate.doubleValue,
                                                   offlineWindow: RenderJob.renderSmoothingWindow)
        // Filters are validated (JSON, element kinds, assets) before the output is created or a frame decoded.
        // The filter pack (mostly CPU: images, meshes) and the face networks (mostly GL) are made at once.
        let (overlay, faces) = try concurrently("fx.filters", {
            try mesh.flatMap { o.filters.isEmpty ? nil : try OverlayStage.prepare(filters: o.filters, folders: o.filterFolders,
                                                                                  shared: shared, faceModel: $0.model) }
        }, {
            try mesh.map { try FaceStage(shared: shared, settings: trackingSettings, modelsDirectory: $0.folder,
                                         faceModel: $0.model, classifier: o.classifier) }
        })
        // Back for the next job once the pipeline's threads have ended (a set holds no state between runs).
        defer { if let faces { shared.giveBack(faces.analyzer.networks) } }
        let classLabels = faces?.classLabels ?? []
        // A filter that tests a classifier's label needs that label (checked before the output is created).
        for pack in overlay?.renderer.filters ?? [] {
            for label in pack.manifest.elements.flatMap({ $0.when?.classLabels ?? [] }).sorted() where !classLabels.contains(label) {
                throw PipelineError.usage("filter '\(pack.name)': its 'when' tests class '\(label)', " + (classLabels.isEmpty
                    ? "which needs --classifier with that label" : "not a label of the classifier (\(classLabels.joined(separator: ", ")))"))
            }
        }
        var recordOptions = o.records
        recordOptions.classLabels = classLabels
        let records = (o.csvPath != nil || o.jsonlPath != nil)
            ? try FaceRecordWriter(csvPath: o.csvPath, jsonlPath: o.jsonlPath, options: recordOptions, overwrite: o.overwrite)
            : nil
        let writer = try VideoWriter(path: o.output, input: info, inputPath: o.input,
                                     options: EncodeOptions(codec: o.codec.media, crf: o.crf, preset: o.preset),
                                     onWarning: { warnings.add($0) })

        let layout = I420Layout(width: info.width, height: info.height)
        let readbackDepth = gpu.tuning.readbackDepth ?? 4
        try colour.prepareOutput(layout: layout, slots: readbackDepth)
        // Nothing draws into the frame without filters: 8-bit 4:2:0 frames then take the copy path
        // (no RGBA round trip). `GPUTuning.forceRGBA` (FACEFX_FORCE_RGBA=1) forces the RGBA path (tests, benchmarks).
        let passthrough = gpu.tuning.forceRGBA || overlay != nil ? nil
            : FramePassthrough(context: gpu, programs: colour.programs, passes: colour.passes)
        try passthrough?.prepare(layout: layout)
        let finisher = faces.map { FrameFinisher(o.tracking.smoothing, poseEstimator: $0.analyzer.poseEstimator,
                                                 settings: trackingSettings, width: info.width, height: info.height) }

        let progress = ProgressReporter(mode: o.progress, label: (o.output as NSString).lastPathComponent,
                                        totalFrames: info.estimatedFrameCount)
        // Decoded frames queue for a whole landmark batch of the analyzer (see AnalyzeJob).
        let pipeline = FramePipeline<RenderedFrame>(readers: [reader], frameQueueDepth: 3 + (faces?.analyzer.trackBatch ?? 0))
        let targets = FrameTargetPool(context: gpu)
        // Where the threads waited on each other (printed with FACEFX_GL_PROFILE=1): seconds the drawing
        // thread spent in readbacks, the finishing thread in smoothing + linking, and the waits on both
        // sides of the queues into those two threads.
        var readbackSeconds = 0.0, finishingSeconds = 0.0
        // When the analysis gave back its first frame and the finishing its first final one (the start's
        // latency: the encoder's first frame waits for both).
        var firstAnalysed: Date?, firstFinished: Date?
        var queueWaits = (toFinish: (push: 0.0, pop: 0.0), toDraw: (push: 0.0, pop: 0.0))
        /// The body: each frame converted, its faces drawn, read back into an encoder buffer.
        func render(_ stage: FramePipeline<RenderedFrame>.Stage) throws {
            // A stream whose frame size changes (concatenated clips) keeps the first size, as FFmpeg's
            // CLI does: later frames are converted and drawn at their own size, then stretched to it.
            // The frames arrive as render targets (the colour stage's own or the pool's), so the stretch
            // blits from them directly: one output-size target, no GL object per frame.
            var scaled: Framebuffer?
            func outputSized(_ frame: Framebuffer) throws -> Texture {
                guard frame.width != layout.width || frame.height != layout.height else { return frame.color }
                let target = try scaled ?? Framebuffer(context: gpu, color: Texture(context: gpu, width: layout.width,
                                                                                    height: layout.height, format: .rgba8))
                scaled = target
                try frame.scale(into: target)
                return target.color
            }
            /// True when `frame` goes to the encoder unchanged (no filter, 8-bit 4:2:0, the output size):
            /// its decoded planes are copied, not converted to RGBA and back. (Closures, not local functions:
            /// the analysis thread below calls them.)
            let passesThrough = { (frame: VideoFrame) -> Bool in
                passthrough != nil && FramePassthrough.supports(frame.gpuFormat) && frame.width == layout.width
                    && frame.height == layout.height
            }
            /// Drawn frames whose readbacks are still in flight, oldest first: the drawing thread queues a
            /// frame's drawing and pack on the GL thread and goes on with the next frames, reading each
            /// back `readbackDepth` frames later, so neither it nor the GL thread waits for the GPU frame
            /// by frame.
            var inFlight: [(packed: FrameColorConverter.PackedI420, buffer: I420Buffer, pts: Int64, faces: FaceFrame?)] = []
            /// Waits for the oldest frame in flight, hands it to the encoder; false when the run stops.
            func readOldest() throws -> Bool {
                let f = inFlight.removeFirst()
                let start = DispatchTime.now().uptimeNanoseconds
                try colour.read(f.packed, into: f.buffer.data)
                readbackSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                return stage.emit(RenderedFrame(buffer: f.buffer, pts: f.pts, faces: f.faces))
            }
            // A run that stops early still lets its queued packs finish before the job's objects go.
            defer { for f in inFlight { try? gpu.wait(f.packed.ready) } }
            /// Reads `picture` back into an encoder buffer, with `faces` drawn on it when filters are on.
            func output(_ picture: WaitingPicture, faces: FaceFrame?) throws -> Bool {
                let buffer = writer.makeFrameBuffer()
                guard buffer.byteCount >= layout.byteCount else {
                    throw PipelineError.processing("internal: frame buffer smaller than the GPU layout")
                }
                switch picture.content {
                case .decoded(let frame):
                    // Frames reach the encoder in order: the ones drawn before go first.
                    while !inFlight.isEmpty { if try !readOldest() { return false } }
                    // The readbacks wait for the GPU on this thread where they can (passthrough), so the GL
                    // thread meanwhile serves the analysis thread and other jobs.
                    let (y, u, v) = frame.gpuPlanes()
                    if let passthrough, passesThrough(frame) {
                        try passthrough.copy(y: y, u: u, v: v, format: frame.gpuFormat, layout: layout, into: buffer.data)
                    } else {
                        // Converted into the converter's own target, which the next upload overwrites:
                        // read in the same turn of the GL thread.
                        try gpu.sync { () throws in
                            try colour.upload(y: y, u: u, v: v, format: frame.gpuFormat)
                            guard let converted = colour.frameTarget else {
                                throw PipelineError.processing("internal: no frame target after upload")
                            }
                            try colour.readI420(from: try outputSized(converted), layout: layout, into: buffer.data)
                        }
                    }
                    return stage.emit(RenderedFrame(buffer: buffer, pts: picture.pts, faces: faces))
                case .converted(let target):
                    if inFlight.count >= readbackDepth, try !readOldest() { return false }
                    let packed = FrameColorConverter.PackedI420(layout: layout)
                    let drawn = (faces?.faces ?? []).map { OverlayFace($0, classLabels: classLabels) }
                    // Queued: a failure settles the pack's fence with the error, which its read throws.
                    gpu.async {
                        do {
                            try overlay?.draw(into: target, faces: drawn, time: picture.time)
                            try colour.pack(try outputSized(target), into: packed)
                            targets.give(target)
                        } catch {
                            packed.ready.settle(error)
                        }
                    }
                    inFlight.append((packed, buffer, picture.pts, faces))
                    return true
                }
            }
            /// Every frame still in flight, read in order; false when the run stops.
            func drain() throws -> Bool {
                while !inFlight.isEmpty { if try !readOldest() { return false } }
                return true
            }
            /// The single lane's frames (one segment: the whole clip), then nil.
            let next = { () -> VideoFrame? in
                guard case .frame(let frame, _)? = stage.next(lane: 0) else { return nil }
                return frame
            }
            guard let faces, let finisher else {
                while let frame = next() {
                    if try !output(WaitingPicture(frame), faces: nil) { return }
                }
                _ = try drain()
                return
            }
            // Tracking: each frame is analysed as it arrives; its picture waits until its faces are final:
            // after the analyzer's look-back, the offline smoother's window and the linker's look-ahead,
            // all of which need frames from the future. A picture that filters will be drawn on waits on
            // the GPU as the RGBA target it was converted into for analysis (one upload and conversion per
            // frame; the analyzer reads it there); one passed through unchanged waits decoded.
            // Three threads, so the encoder is fed steadily: `analysis` uploads and analyses the frames;
            // `finishing` smooths and links the analyzer's completed frames (CPU work of ~3 ms a 1080p frame
            // with 4 faces, done a smoothing window at a time: 30 frames at once); this one draws the
            // finished frames and reads them back. Pictures come here straight from analysis, finished
            // frames from finishing, each in frame order, a picture always before its finished frame (it
            // is queued before its analysis result). This thread takes every item as it comes, so neither
            // producer can hold the other up through it. The analysis may run two smoothing windows ahead
            // of the drawing: while this thread draws one window's burst at the encoder's pace, finishing
            // then already has the next window's frames to smooth (with one window, analysis stalled
            // behind the burst and the encoder starved after it: 0.5 s of a 30-s 1080p render on the H200).
            let batches = 2 * (3 + faces.analyzer.trackBatch)
            let toFinish = BoundedQueue<[AnalyzedFrame]>(capacity: batches)
            let toDraw = BoundedQueue<DrawingItem>(capacity: batches + 2 * trackingSettings.smoothing.offlineWindowFrames)
            let helpers = HelperThreads { toFinish.cancel(); toDraw.cancel() }
            helpers.start("fx.analysis") {
                var index = 0
                while let frame = next() {
                    let (y, u, v) = frame.gpuPlanes()
                    let format = frame.gpuFormat
                    let decoded = passesThrough(frame)
                    // This thread is the converter's only uploader while faces are tracked (the drawing
                    // thread only packs), so the frame's copy into the upload buffers happens here too.
                    let texture: Texture, picture: WaitingPicture
                    if decoded {
                        let slot = try faces.analyzer.frameSlot(forFrame: index, width: frame.width, height: frame.height)
                        texture = try colour.upload(y: y, u: u, v: v, format: format, into: slot)
                        picture = WaitingPicture(frame)
                    } else {
                        let target = try gpu.sync { () throws -> Framebuffer in try targets.take(width: frame.width, height: frame.height) }
                        texture = try colour.upload(y: y, u: u, v: v, format: format, into: target)
                        picture = WaitingPicture(target, of: frame)
                    }
                    // On this thread, not the GL thread's: the analyzer's CPU work (tracking, decoding,
                    // head pose) and its waits for the GPU leave the GL thread to the drawing thread.
                    // Blendshapes and emotion may wait for a batch of frames (FaceAnalyzer.push).
                    let done = try faces.analyzer.push(frameTexture: texture, width: frame.width, height: frame.height,
                                                       frameIndex: index, time: frame.timeSeconds, retained: !decoded)
                    if firstAnalysed == nil, !done.isEmpty { firstAnalysed = Date() }
                    guard toDraw.push(.picture(picture)), toFinish.push(done) else { return }
                    index += 1
                }
                let rest = try faces.analyzer.flush()
                if firstAnalysed == nil, !rest.isEmpty { firstAnalysed = Date() }
                if toFinish.push(rest) { toFinish.close() }
            }
            helpers.start("fx.finishing") {
                while let done = toFinish.pop() {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let finished = done.flatMap { finisher.push(FaceFrame($0)) }
                    finishingSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
                    if firstFinished == nil, !finished.isEmpty { firstFinished = Date() }
                    guard finished.isEmpty || toDraw.push(.finished(finished)) else { return }
                }
                // A closed queue (not a cancelled one): every analysed frame came through.
                guard helpers.failure.error == nil else { return }
                let rest = finisher.finish()
                if firstFinished == nil, !rest.isEmpty { firstFinished = Date() }
                if toDraw.push(.finished(rest)) { toDraw.close() }
            }
            // Stops the helper threads (if they still run) and waits for them: their GPU work must be over
            // before the job's objects go.
            defer {
                toFinish.cancel(); toDraw.cancel(); helpers.wait()
                queueWaits = (toFinish.waits, toDraw.waits)
            }

            var waiting: [WaitingPicture] = []
            var head = 0
            func emit(_ finished: [FaceFrame]) throws -> Bool {
                for f in finished {
                    guard head < waiting.count else { throw PipelineError.processing("internal: smoother ran ahead") }
                    let picture = waiting[head]
                    head += 1
                    if head > 32 && head * 2 > waiting.count { waiting.removeFirst(head); head = 0 }
                    if try !output(picture, faces: f) { return false }
                }
                return true
            }
            while let item = toDraw.pop() {
                switch item {
                case .picture(let picture): waiting.append(picture)
                case .finished(let frames): if try !emit(frames) { return }
                }
            }
            if let error = helpers.failure.error { throw error }
            _ = try drain()
        }

        var frames = 0, faceFrames = 0
        let pipelineStarted = Date()
        var firstFrameWritten: Date?
        do {
            try pipeline.run(body: render) { r in
                if firstFrameWritten == nil { firstFrameWritten = Date() }
                try writer.write(r.buffer, pts: r.pts)
                if let f = r.faces {
                    try records?.write(frameIndex: f.index, time: f.time, shot: f.shot, faces: f.faces)
                    faceFrames += f.faces.count
                }
                frames += 1
                progress.update(frames: frames)
            }
            try writer.finish()
            try records?.finish()
        } catch {
            writer.cancel()
            records?.cancel()
            progress.finish()
            throw error
        }
        progress.finish()
        var summary = RenderSummary(output: o.output, frames: frames, corruptPackets: reader.corruptPackets,
                                    seconds: Date().timeIntervalSince(started), renderer: gpu.renderer,
                                    warnings: warnings.all)
        summary.tracked = faces != nil
        summary.faceFrames = faceFrames
        summary.faceTracks = finisher?.linker.personCount ?? 0
        if o.sharedGPU == nil { gpu.reportProfile() }
        if gpu.tuning.profileGLThread {
            let w = pipeline.waits
            let at = { (d: Date?) in (d ?? pipelineStarted).timeIntervalSince(started) }
            FileHandle.standardError.write(Data(String(format: "facefx: render set-up %.2f s, first frame analysed at %.2f s, final at %.2f s, to the encoder at %.2f s\n",
                                                       at(pipelineStarted), at(firstAnalysed), at(firstFinished), at(firstFrameWritten)).utf8))
            let line = String(format: "facefx: render threads, s waited: decoder for analysis %.2f, analysis for frames %.2f, for finishing %.2f;"
                              + " finishing for analysis %.2f (smoothing + linking %.2f); analysis and finishing for drawing %.2f;"
                              + " drawing for them %.2f, for readbacks %.2f, for the encoder %.2f; encoder for frames %.2f, encoding %.2f\n",
                              w.decodersBlocked, w.bodyStarved, queueWaits.toFinish.push, queueWaits.toFinish.pop, finishingSeconds,
                              queueWaits.toDraw.push, queueWaits.toDraw.pop, readbackSeconds, w.bodyBlocked, w.sinkStarved, w.sinkBusy)
            FileHandle.standardError.write(Data(line.utf8))
        }
        withExtendedLifetime((reader, writer, gpu, colour, passthrough, overlay, faces, targets)) {}
        return summary
    }
}

/// One rendered picture on its way to the encoder, with the faces drawn on it (for the CSV/JSONL).
struct RenderedFrame {
    var buffer: I420Buffer
    var pts: Int64
    var faces: FaceFrame?
}

/// A picture waiting for its faces: decoded (passed through or converted at output), or already
/// converted into an RGBA target of the job's `FrameTargetPool` (given back once read).
struct WaitingPicture {
    enum Content {
        case decoded(VideoFrame)
        case converted(Framebuffer)
    }
    var content: Content
    var pts: Int64
    var time: Double

    init(_ frame: VideoFrame) { content = .decoded(frame); pts = frame.pts; time = frame.timeSeconds }
    init(_ target: Framebuffer, of frame: VideoFrame) { content = .converted(target); pts = frame.pts; time = frame.timeSeconds }
}

/// What reaches the render's drawing thread: each frame's picture as it is analysed (from the analysis
/// thread), and frames whose faces are final (from the finishing thread), each in frame order.
enum DrawingItem {
    case picture(WaitingPicture)
    case finished([FaceFrame])
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
