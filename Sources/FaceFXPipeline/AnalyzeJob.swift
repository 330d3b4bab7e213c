import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import Foundation

/// How per-frame results are smoothed before they are written.
public enum AnalyzeSmoothing: String, CaseIterable, Sendable {
    /// Zero-lag smoothing with past and future frames (FaceClipSmoother, in windows for long clips).
    case offline
    /// Causal One Euro per track (what a live tool would see).
    case online
    /// Raw per-frame results.
    case off
}

public struct AnalyzeOptions {
    public var input: String
    public var csvPath: String?
    public var jsonlPath: String?
    public var records: FaceRecordOptions
    public var overwrite: Bool
    public var tracking: FaceTrackingOptions
    public var gpu: GPUDeviceSelection
    /// Renderer knobs (`GPUTuning(environment:)` at the command line).
    public var tuning = GPUTuning()
    /// A context shared with other jobs (batch: one per GPU), as `RenderOptions.sharedGPU`.
    public var sharedGPU: SharedGPU?
    /// CPU or NVDEC decoding (`--hwdec`).
    public var decoding = HardwareDecoding.none
    public var progress: ProgressReporter.Mode
    /// The Models/ folder (found by the executable: ResourceLocator).
    public var modelsDirectory: URL?
    /// Offline smoothing window / context (frames); nil: FaceSettings defaults.
    public var smoothingWindow: (frames: Int, margin: Int)?
    /// Segments of the clip analysed at once (`Segments.swift`); nil: chosen by `AnalyzeJob.segmentCount`.
    public var segments: Int?
    /// A face classifier (`FaceClassifier`): class_<label> columns.
    public var classifier: URL?

    public init(input: String, csvPath: String? = nil, jsonlPath: String? = nil, records: FaceRecordOptions = .init(),
                overwrite: Bool = false, tracking: FaceTrackingOptions = .init(), gpu: GPUDeviceSelection = .auto,
                progress: ProgressReporter.Mode = .quiet, modelsDirectory: URL? = nil) {
        self.input = input; self.csvPath = csvPath; self.jsonlPath = jsonlPath; self.records = records
        self.overwrite = overwrite; self.tracking = tracking; self.gpu = gpu; self.progress = progress
        self.modelsDirectory = modelsDirectory
    }
}

public struct AnalyzeSummary {
    public var input: String
    public var frames: Int
    public var faceTracks: Int
    public var faceFrames: Int
    public var corruptPackets: Int
    public var seconds: Double
    public var renderer: String
    public var warnings: [String]
    /// Seconds per analysis stage summed over the clip (`tiles` = detector tiles of the last detection),
    /// plus the upload/colour time and the calling thread's smoothing + writing time.
    public var timings: FaceAnalysisTimings
    public var uploadSeconds: Double
    public var outputSeconds: Double

    public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }

    /// One line: where the time went (for --timings).
    public var timingsLine: String {
        let t = timings
        return String(format: "facefx: %@: %d detector tiles on %d keyframes, %d shot cuts; upload+colour %.2f s, shot cuts %.2f s, detector %.2f s, landmarks %.2f s (%d of %d face-frames refined, %d found looking back), blendshapes %.2f s, emotion %.2f s (analysis %.2f s); smoothing+linking+writing %.2f s; total %.2f s (%@)",
                      (input as NSString).lastPathComponent, t.tiles, t.keyframes, t.shotCuts, uploadSeconds, t.shotCutSeconds, t.detector, t.landmarks,
                      t.refinedFaces, faceFrames, t.lookBackFaces, t.blendshapes, t.emotion, t.total, outputSeconds, seconds, renderer)
    }

    /// `facefx: in.mp4: 240 frames, 1 face track, 231 face-frames in 9.1 s (26.4 fps)`
    public var line: String {
        var s = "facefx: \(input): \(frames) frame\(frames == 1 ? "" : "s"), \(faceTracks) face track\(faceTracks == 1 ? "" : "s"), "
            + "\(faceFrames) face-frame\(faceFrames == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", fps)) fps)"
        if corruptPackets > 0 { s += ", \(corruptPackets) corrupt packet\(corruptPackets == 1 ? "" : "s") skipped" }
        return s
    }
}

/// `facefx analyze`: decode → GPU (upload, colour, FaceAnalyzer) → smoothing → CSV / JSONL. No
/// encoding. Decode and GL work run on their own threads joined by bounded queues; the calling
/// thread smooths and writes, so memory stays flat (offline smoothing holds one window of small
/// per-face records, see WindowedClipSmoother).
public final class AnalyzeJob {
    public let options: AnalyzeOptions
    /// Non-fatal messages (corrupt packets), one line each; called from worker threads.
    public var onWarning: ((String) -> Void)?
    /// Each frame's final (smoothed) faces, in order, as it is written; called on the calling thread.
    public var onFrame: ((FaceFrame) -> Void)?

    public init(options: AnalyzeOptions) { self.options = options }

    /// Segments analysed at once unless asked otherwise (`defaultSegments`): 2 on a hardware GPU for a clip
    /// of at least 600 frames, else 1. One file is bound by its own chain of dependent steps (decode →
    /// upload → networks → tracking), not by the GPU: a second lane overlaps two chains. H100, 30-s 1080p
    /// clip with 4 faces, wall seconds of the command on four machines (2026-12-06): 1 segment 2.97-3.01 /
    /// 2.85-3.04 / 2.42-2.81 / 3.18-3.55, 2 segments 2.48-2.64 / 2.58-2.77 / 2.27-2.54 / 2.83-2.92; 3 and 4 were slower
    /// than 2 (their set-up: a decoder, a seek, an analyzer's networks and 10 overlap frames each). A
    /// shorter clip has too little to overlap for that set-up. llvmpipe is bound by its CPU (2-core box,
    /// 720p, one face: 1 segment 41.0 s, 2: 43.9 s, 4: 43.2 s). `batch` keeps 1 a file: its parallelism is
    /// its files. More segments are capped so that their look-back rings (frames kept as RGBA textures)
    /// stay under 8 GiB of GPU memory, 1 GiB on llvmpipe.
    static func segmentCount(requested: Int?, context gpu: GPUContext, analyzer: FaceAnalyzer, width: Int, height: Int,
                             frames: Int?) -> Int {
        let budget = gpu.isSoftware ? 1 << 30 : 8 << 30
        let fits = budget / max(1, analyzer.ringBytes(width: width, height: height))
        return max(1, min(requested ?? defaultSegments(software: gpu.isSoftware, frames: frames), fits))
    }

    /// Segments of a clip of `frames` frames (nil: unknown) when the user names none.
    static func defaultSegments(software: Bool, frames: Int?) -> Int {
        !software && (frames ?? 0) >= 600 ? 2 : 1
    }

    public func run() throws -> AnalyzeSummary {
        do { return try runUnmapped() } catch { throw PipelineError.from(error) }
    }

    private func runUnmapped() throws -> AnalyzeSummary {
        let o = options
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: o.input, isDirectory: &isDir) else {
            throw PipelineError.usage("\(o.input): no such file")
        }
        if isDir.boolValue { throw PipelineError.usage("\(o.input): is a folder, not a video file") }
        try FaceRecordWriter.checkTargets([o.csvPath, o.jsonlPath].compactMap { $0 }, overwrite: o.overwrite, inputs: [o.input])
        let models = try FaceStage.models(o.modelsDirectory)
        let started = Date()
        let warnings = WarningLog(sink: onWarning)

        // The graphs are read, the input opened and the GPU context made at once.
        FaceNetworks.prefetchGraphs(modelsDirectory: models)
        let (reader, shared) = try concurrently("fx.open", { try VideoReader(path: o.input, decoding: o.decoding) },
                                                { try o.sharedGPU ?? SharedGPU(device: o.gpu, tuning: o.tuning) })
        reader.onWarning = { warnings.add($0) }
        let info = reader.info
        let gpu = shared.context
        let colour = try FrameColorConverter(context: gpu, programs: shared.programs)
        var settings = o.tracking.settings(frameRate: info.averageFrameRate.doubleValue)
        if let w = o.smoothingWindow {
            settings.smoothing.offlineWindowFrames = w.frames
            settings.smoothing.offlineWindowMargin = w.margin
        }
        let analyzer = try FaceStage.loadAnalyzer(shared: shared, settings: settings, modelsDirectory: models, classifier: o.classifier)
        // Segments at once: each lane has its reader (seeking by the frames' timestamps), its decode thread,
        // its analysis thread and analyzer (below).
        let wanted = AnalyzeJob.segmentCount(requested: o.segments, context: gpu, analyzer: analyzer, width: info.width, height: info.height,
                                             frames: info.estimatedFrameCount)
        let timestamps = wanted > 1 ? try VideoReader.frameTimestamps(path: o.input) : nil
        let plan = timestamps.map { SegmentPlan.make(frames: $0.count, lanes: wanted) } ?? .whole
        let readers = try [reader] + (1..<plan.lanes).map { _ in
            let r = try VideoReader(path: o.input, decoding: o.decoding)
            r.onWarning = { warnings.add($0) }
            return r
        }
        // Lanes analyse at once, each on its own thread with its own analyzer (own networks, tracks and
        // look-back ring); only their GL calls take turns on the GL thread.
        let analyzers = try [analyzer] + (1..<plan.lanes).map { _ in
            try FaceStage.loadAnalyzer(shared: shared, settings: settings, modelsDirectory: models,
                                       faceModel: analyzer.poseEstimator.model, classifier: o.classifier)
        }
        // Gone back once every lane's thread has ended (on success and on failure alike: a set holds no
        // state between runs).
        defer { analyzers.forEach { shared.giveBack($0.networks) } }
        // A converter per lane: each lane uploads from its own thread.
        let converters = try [colour] + (1..<plan.lanes).map { _ in try FrameColorConverter(context: gpu, programs: shared.programs) }
        var records = o.records
        records.classLabels = analyzer.networks.classifier?.labels ?? []
        let writer = try FaceRecordWriter(csvPath: o.csvPath, jsonlPath: o.jsonlPath, options: records,
                                          overwrite: o.overwrite)
        let finisher = FrameFinisher(o.tracking.smoothing, poseEstimator: analyzer.poseEstimator, settings: settings,
                                     width: info.width, height: info.height)
        let assembler = SegmentAssembler(plan: plan)

        let progress = ProgressReporter(mode: o.progress, label: (o.input as NSString).lastPathComponent,
                                        totalFrames: info.estimatedFrameCount)
        /// The analysis threads' output: frames of a segment, and the end of a segment.
        enum Analysed { case frame(AnalyzedFrame, segment: Int), end(segment: Int) }
        // The analyzer takes frames in batches (landmarks of `trackBatch` frames, then frames handed back
        // in bursts): decoded frames queue for a whole batch, and results (small records) for two.
        let pipeline = FramePipeline<Analysed>(readers: readers, plan: plan, timestamps: timestamps,
                                               frameQueueDepth: 3 + analyzer.trackBatch,
                                               outputQueueDepth: plan.lanes * 2 * (3 + max(analyzer.trackBatch, analyzer.frameBatch)))
        let stageTimes = StageTimes()
        /// One lane's segments in turn, on the calling thread: each frame converted straight into the
        /// analyzer's look-back ring (no copy), analysed here (only the GL calls go to the GL thread, so the
        /// CPU work and the waits for the GPU of several lanes and jobs overlap). False when the run stops.
        /// (A closure, not a local function: the lanes' threads call it.)
        let analyseLane = { (lane: Int, stage: FramePipeline<Analysed>.Stage) throws -> Bool in
            let analyzer = analyzers[lane]
            for (number, _) in plan.segments.enumerated().filter({ $0.element.lane == lane }) {
                while case .frame(let frame, let index)? = stage.next(lane: lane) {
                    let (y, u, v) = frame.gpuPlanes()
                    let format = frame.gpuFormat
                    let t0 = Date()
                    let slot = try analyzer.frameSlot(forFrame: index, width: frame.width, height: frame.height)
                    let texture = try converters[lane].upload(y: y, u: u, v: v, format: format, into: slot)
                    stageTimes.add(upload: Date().timeIntervalSince(t0))
                    let done = try analyzer.push(frameTexture: texture, width: frame.width, height: frame.height,
                                                 frameIndex: index, time: frame.timeSeconds)
                    stageTimes.add(analyzer.lastTimings)
                    for f in done where !stage.emit(.frame(f, segment: number)) { return false }
                }
                // The segment's end (or the run stopping: then emit refuses and the lane returns).
                let rest = try analyzer.flush()
                stageTimes.add(analyzer.lastTimings)
                analyzer.reset()
                for f in rest where !stage.emit(.frame(f, segment: number)) { return false }
                if !stage.emit(.end(segment: number)) { return false }
            }
            return true
        }
        /// Lane 0 here, every other lane on a thread of its own; the first error of any lane is thrown
        /// once all have returned.
        func analyse(_ stage: FramePipeline<Analysed>.Stage) throws {
            let lanes = HelperThreads()
            for lane in 1..<plan.lanes { lanes.start("fx.analysis.\(lane)") { _ = try analyseLane(lane, stage) } }
            do { _ = try analyseLane(0, stage) } catch { lanes.failure.set(error) }
            lanes.wait()
            if let error = lanes.failure.error { throw error }
        }

        var frames = 0, faceFrames = 0
        // Shot cuts counted on the clip's frames (segments find the cuts in their overlaps twice).
        var lastShot = 0, shotCuts = 0
        let emit = { (f: FaceFrame) throws in
            if f.shot != lastShot { shotCuts += 1; lastShot = f.shot }
            try writer.write(frameIndex: f.index, time: f.time, shot: f.shot, faces: f.faces)
            faceFrames += f.faces.count
            self.onFrame?(f)
        }
        var outputSeconds = 0.0
        // The run's start-up and tail (FACEFX_GL_PROFILE): the pipeline's start, and when the last frame
        // had been analysed (what follows is the smoothing of what the windows still hold, and the writing).
        let pipelineStarted = Date()
        var lastAnalysed = pipelineStarted
        do {
            try pipeline.run(body: analyse) { item in
                let t0 = Date()
                let ready: [AnalyzedFrame]
                switch item {
                case .frame(let f, let segment): ready = assembler.add(f, segment: segment)
                case .end(let segment): ready = assembler.end(segment: segment)
                }
                for frame in ready {
                    for f in finisher.push(FaceFrame(frame)) { try emit(f) }
                    frames += 1
                }
                outputSeconds += Date().timeIntervalSince(t0)
                progress.update(frames: frames)
            }
            let t0 = Date()
            lastAnalysed = t0
            for f in finisher.finish() { try emit(f) }
            try writer.finish()
            outputSeconds += Date().timeIntervalSince(t0)
        } catch {
            writer.cancel()
            progress.finish()
            throw error
        }
        progress.finish()
        var timings = stageTimes.analysis
        timings.shotCuts = shotCuts
        let summary = AnalyzeSummary(input: o.input, frames: frames, faceTracks: finisher.linker.personCount, faceFrames: faceFrames,
                                     corruptPackets: readers.map(\.corruptPackets).reduce(0, +), seconds: Date().timeIntervalSince(started),
                                     renderer: gpu.renderer, warnings: warnings.all, timings: timings,
                                     uploadSeconds: stageTimes.upload, outputSeconds: outputSeconds)
        if o.sharedGPU == nil { gpu.reportProfile() }
        if gpu.tuning.profileGLThread {
            let w = pipeline.waits
            let line = String(format: "facefx: analyze set-up %.2f s, last frame analysed at %.2f s, done at %.2f s\n"
                              + "facefx: analyze threads, s waited: decoders for analysis %.2f, analysis for frames %.2f, for the writer %.2f;"
                              + " writer for frames %.2f, writing (smoothing, linking, records) %.2f\n",
                              pipelineStarted.timeIntervalSince(started), lastAnalysed.timeIntervalSince(started), summary.seconds,
                              w.decodersBlocked, w.bodyStarved, w.bodyBlocked, w.sinkStarved, w.sinkBusy)
            FileHandle.standardError.write(Data(line.utf8))
        }
        withExtendedLifetime((readers, analyzers, converters, gpu)) {}
        return summary
    }
}

/// Stage seconds summed by the analysis threads, read by the calling thread after the join.
final class StageTimes {
    private let lock = NSLock()
    private(set) var upload = 0.0
    private(set) var analysis = FaceAnalysisTimings()
    func add(upload seconds: Double) { lock.withLock { upload += seconds } }
    func add(_ t: FaceAnalysisTimings) {
        lock.lock(); defer { lock.unlock() }
        if t.tiles > 0 { analysis.tiles = t.tiles }
        analysis.detector += t.detector; analysis.landmarks += t.landmarks
        analysis.blendshapes += t.blendshapes; analysis.emotion += t.emotion; analysis.total += t.total
        analysis.refinedFaces += t.refinedFaces
        analysis.keyframes += t.keyframes; analysis.shotCuts += t.shotCuts; analysis.lookBackFaces += t.lookBackFaces
        analysis.shotCutSeconds += t.shotCutSeconds
    }
}
