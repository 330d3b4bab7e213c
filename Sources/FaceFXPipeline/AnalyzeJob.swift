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
    public var progress: ProgressReporter.Mode
    /// nil: ResourceLocator.modelsDirectory().
    public var modelsDirectory: URL?
    /// Offline smoothing window / context (frames); nil: FaceSettings defaults.
    public var smoothingWindow: (frames: Int, margin: Int)?

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
    /// plus the GL thread's upload/colour time and the calling thread's smoothing + writing time.
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
        let models = try o.modelsDirectory ?? ResourceLocator.modelsDirectory()
        let started = Date()
        let warnings = WarningLog(sink: onWarning)

        let reader = try VideoReader(path: o.input)
        reader.onWarning = { warnings.add($0) }
        let info = reader.info
        let gpu = try GPUContext(device: o.gpu)
        let colour = try FrameColorConverter(context: gpu)
        var settings = o.tracking.settings(frameRate: info.averageFrameRate.doubleValue)
        if let w = o.smoothingWindow {
            settings.smoothing.offlineWindowFrames = w.frames
            settings.smoothing.offlineWindowMargin = w.margin
        }
        let analyzer = try FaceStage.loadAnalyzer(context: gpu, programs: colour.programs, settings: settings,
                                                  modelsDirectory: models)
        let writer = try FaceRecordWriter(csvPath: o.csvPath, jsonlPath: o.jsonlPath, options: o.records,
                                          overwrite: o.overwrite)
        let finisher = FrameFinisher(o.tracking.smoothing, poseEstimator: analyzer.poseEstimator, settings: settings,
                                     width: info.width, height: info.height)

        let progress = ProgressReporter(mode: o.progress, label: (o.input as NSString).lastPathComponent,
                                        totalFrames: info.estimatedFrameCount)
        let decoded = BoundedQueue<VideoFrame>(capacity: RenderJob.queueDepth)
        let analysed = BoundedQueue<FaceFrame>(capacity: RenderJob.queueDepth)
        let failure = FirstError()
        let abort = { (error: Error) in
            failure.set(error)
            decoded.cancel()
            analysed.cancel()
        }

        // As in RenderJob: stage threads capture the long-lived objects unowned and are joined before
        // this function returns, so every FFmpeg/EGL object is released here.
        let stages = DispatchGroup()
        stages.enter(); stages.enter()
        defer { stages.wait() }
        let decodeThread = RenderJob.decodeThread(reader, into: decoded, stages: stages, abort: abort)
        let stageTimes = StageTimes()
        let gpuThread = Thread { [unowned gpu, unowned colour, unowned analyzer] in
            defer { stages.leave() }
            do {
                var index = 0
                // Blendshapes and emotion run batched over several frames on hardware GPUs (FaceAnalyzer.push).
                func send(_ done: [AnalyzedFrame]) -> Bool {
                    done.allSatisfy { analysed.push(FaceFrame($0)) }
                }
                var open = true
                while open, let frame = decoded.pop() {
                    let (y, u, v) = frame.gpuPlanes()
                    let format = frame.gpuFormat
                    let done = try gpu.sync { () throws in
                        let t0 = Date()
                        // Converted straight into the analyzer's look-back ring (no copy).
                        let slot = try analyzer.frameSlot(forFrame: index, width: frame.width, height: frame.height)
                        let texture = try colour.upload(y: y, u: u, v: v, format: format, into: slot)
                        stageTimes.upload += Date().timeIntervalSince(t0)
                        let done = try analyzer.push(frameTexture: texture, width: frame.width, height: frame.height,
                                                     frameIndex: index, time: frame.timeSeconds)
                        stageTimes.add(analyzer.lastTimings)
                        return done
                    }
                    open = send(done)
                    index += 1
                }
                if open {
                    let rest = try gpu.sync { () throws in
                        let rest = try analyzer.flush()
                        stageTimes.add(analyzer.lastTimings)
                        return rest
                    }
                    _ = send(rest)
                }
                analysed.close()
            } catch { abort(error) }
        }
        gpuThread.name = "facefx.gpu"
        decodeThread.start()
        gpuThread.start()

        var frames = 0, faceFrames = 0
        let emit = { (f: FaceFrame) throws in
            try writer.write(frameIndex: f.index, time: f.time, shot: f.shot, faces: f.faces)
            faceFrames += f.faces.count
            self.onFrame?(f)
        }
        var outputSeconds = 0.0
        do {
            while let frame = analysed.pop() {
                let t0 = Date()
                for f in finisher.push(frame) { try emit(f) }
                outputSeconds += Date().timeIntervalSince(t0)
                frames += 1
                progress.update(frames: frames)
            }
            if let error = failure.error { throw error }
            let t0 = Date()
            for f in finisher.finish() { try emit(f) }
            try writer.finish()
            outputSeconds += Date().timeIntervalSince(t0)
        } catch {
            abort(error)
            stages.wait()
            writer.cancel()
            progress.finish()
            throw failure.error ?? error
        }
        stages.wait()
        progress.finish()
        let summary = AnalyzeSummary(input: o.input, frames: frames, faceTracks: finisher.linker.personCount, faceFrames: faceFrames,
                                     corruptPackets: reader.corruptPackets, seconds: Date().timeIntervalSince(started),
                                     renderer: gpu.renderer, warnings: warnings.all, timings: stageTimes.analysis,
                                     uploadSeconds: stageTimes.upload, outputSeconds: outputSeconds)
        withExtendedLifetime((reader, analyzer, colour, gpu)) {}
        return summary
    }
}

/// Stage seconds summed on the GL thread, read by the calling thread after the join.
final class StageTimes {
    var upload = 0.0
    var analysis = FaceAnalysisTimings()
    func add(_ t: FaceAnalysisTimings) {
        if t.tiles > 0 { analysis.tiles = t.tiles }
        analysis.detector += t.detector; analysis.landmarks += t.landmarks
        analysis.blendshapes += t.blendshapes; analysis.emotion += t.emotion; analysis.total += t.total
        analysis.refinedFaces += t.refinedFaces
        analysis.keyframes += t.keyframes; analysis.shotCuts += t.shotCuts; analysis.lookBackFaces += t.lookBackFaces
        analysis.shotCutSeconds += t.shotCutSeconds
    }
}
