import FaceFXGPU
import FaceFXMedia
import Foundation

extension VideoCodecChoice {
    /// Whether the encoder takes this preset name (checked once before a batch, not per file).
    public func acceptsPreset(_ name: String) -> Bool { OutputFormats.isKnownPreset(name, codec: media) }
}

public struct BatchOptions {
    public var plan: BatchPlan
    public var action: BatchItemAction
    public var codec: VideoCodecChoice
    public var crf: Int
    public var preset: String
    /// The GPUs the jobs are spread over (job k on GPU k mod count), one context each, shared by its jobs.
    public var gpus: [GPUDeviceSelection]
    /// Renderer knobs of every job (`GPUTuning(environment:)` at the command line).
    public var tuning = GPUTuning()
    /// CPU or NVDEC decoding of every file (`--hwdec`).
    public var decoding = HardwareDecoding.none
    /// Files processed at once. Each file has its own decoder and encoder threads; the GL work of the jobs on one
    /// GPU takes turns on that GPU's context. On 2 cores 1 is fastest (llvmpipe and x264 already use every core).
    public var jobs: Int
    /// An existing output counts as done (skipped) instead of a failure.
    public var skipExisting: Bool
    /// An existing output is replaced.
    public var overwrite: Bool
    /// Per-file frame progress (only meaningful with one job at a time).
    public var progress: ProgressReporter.Mode
    /// Written atomically at the end, when set.
    public var summaryPath: String?
    /// Recorded in the summary as it was typed.
    public var commandLine: [String]
    /// Filters drawn on every file, tracking options for filters and the CSV.
    public var filters: [String] = []
    /// A face classifier for every job (`RenderOptions.classifier`).
    public var classifier: URL?
    /// Filter folders searched in order and the Models/ folder (found by the executable: ResourceLocator;
    /// the models nil when the job needs none).
    public var filterFolders: [URL] = []
    public var modelsDirectory: URL?
    public var tracking = FaceTrackingOptions()

    public init(plan: BatchPlan, action: BatchItemAction = .render, codec: VideoCodecChoice = .h264, crf: Int = 18,
                preset: String = "medium", gpus: [GPUDeviceSelection] = [.auto], jobs: Int = 1, skipExisting: Bool = false,
                overwrite: Bool = false, progress: ProgressReporter.Mode = .quiet, summaryPath: String? = nil,
                commandLine: [String] = CommandLine.arguments) {
        precondition(!gpus.isEmpty, "at least one GPU")
        self.plan = plan; self.action = action; self.codec = codec; self.crf = crf; self.preset = preset; self.gpus = gpus
        self.jobs = jobs; self.skipExisting = skipExisting; self.overwrite = overwrite; self.progress = progress
        self.summaryPath = summaryPath; self.commandLine = commandLine
    }
}

public enum BatchItemStatus: String, Codable, Sendable {
    case ok, failed, skipped
}

/// What happened to one file; one entry of the summary JSON.
public struct BatchItemResult: Codable, Sendable {
    public var input: String
    public var output: String
    public var status: BatchItemStatus
    public var frames: Int
    /// Faces found (always 0 until analysis lands; kept so the JSON format does not change then).
    public var faces: Int
    public var seconds: Double
    /// One line naming the file and the reason; nil unless failed.
    public var error: String?

    enum CodingKeys: String, CodingKey { case input, output, status, frames, faces, seconds, error }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encode(output, forKey: .output)
        try c.encode(status, forKey: .status)
        try c.encode(frames, forKey: .frames)
        try c.encode(faces, forKey: .faces)
        try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
        if let error { try c.encode(error, forKey: .error) } else { try c.encodeNil(forKey: .error) }   // explicit null
    }
}

/// The summary JSON (`--summary FILE.json`).
public struct BatchSummary: Codable, Sendable {
    public struct Totals: Codable, Sendable {
        public var files = 0, ok = 0, failed = 0, skipped = 0, frames = 0
        public var seconds = 0.0
    }
    public struct ShardInfo: Codable, Sendable {
        public var index: Int
        public var count: Int
        /// Files in the whole batch (all shards).
        public var of: Int
    }

    public var version: String
    public var command: [String]
    public var workingDirectory: String
    public var action: BatchItemAction
    public var shard: ShardInfo?
    public var started: String
    public var finished: String
    public var totals: Totals
    public var files: [BatchItemResult]

    /// 0 when every file succeeded or was skipped, 1 when any failed.
    public var exitCode: Int32 { totals.failed > 0 ? 1 : 0 }

    /// One line for the end of the run.
    public var line: String {
        var s = "facefx: batch"
        if let shard { s += " (shard \(shard.index)/\(shard.count) of \(shard.of) files)" }
        s += ": \(totals.files) file\(totals.files == 1 ? "" : "s"): \(totals.ok) ok, \(totals.skipped) skipped, "
        s += "\(totals.failed) failed, \(totals.frames) frames in \(String(format: "%.1f", totals.seconds)) s"
        return s
    }

    enum CodingKeys: String, CodingKey {
        case version, command, workingDirectory = "cwd", action, shard, started, finished, totals, files
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(command, forKey: .command)
        try c.encode(workingDirectory, forKey: .workingDirectory)
        try c.encode(action, forKey: .action)
        if let shard { try c.encode(shard, forKey: .shard) } else { try c.encodeNil(forKey: .shard) }
        try c.encode(started, forKey: .started)
        try c.encode(finished, forKey: .finished)
        var t = totals
        t.seconds = (t.seconds * 1000).rounded() / 1000
        try c.encode(t, forKey: .totals)
        try c.encode(files, forKey: .files)
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Writes the JSON beside `path` under a hidden temporary name, syncs it and renames it into place, so readers
    /// (and a killed run) see either the old file or the complete new one.
    public func write(to path: String) throws {
        let data = try jsonData()
        let tmp = TemporaryFiles.temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw PipelineError.processing("\(path): cannot write summary (\(String(cString: strerror(errno))))") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let why = ok ? String(cString: strerror(errno)) : reason
            unlink(tmp)
            throw PipelineError.processing("\(path): cannot write summary (\(why))")
        }
    }
}

/// Runs a planned batch: every file of the plan (this shard's) through `RenderJob`, one failure never stopping the
/// others. Crash safety comes from RenderJob's temp-file-and-rename: a target path holds either nothing or a
/// complete file, so `skipExisting` can trust any output it finds; hidden partial files a killed run left for
/// the outputs this run owns are removed before the first file starts.
public final class BatchJob {
    public enum Event {
        /// A file is finished (ok, failed or skipped); `done` counts finished files, 1-based, out of `total`.
        case finished(done: Int, total: Int, item: BatchItem, result: BatchItemResult)
        /// A non-fatal message from a file's render (corrupt packets, audio...).
        case warning(item: BatchItem, message: String)
        /// Partial outputs of a killed earlier run, removed at start.
        case removedLeftovers([String])
    }

    public let options: BatchOptions
    /// Called from worker threads, one call at a time.
    public var onEvent: ((Event) -> Void)?

    private let lock = NSLock()
    /// One context per GPU of `options.gpus`, opened by its first job (nil until then).
    private var contexts: [Result<SharedGPU, Error>?]

    public init(options: BatchOptions) {
        self.options = options
        contexts = Array(repeating: nil, count: options.gpus.count)
    }

    /// The shared context of worker `worker`'s GPU, opened on first use; a GPU that cannot open fails
    /// every job sent to it with the same message.
    private func sharedGPU(forWorker worker: Int) throws -> SharedGPU {
        let g = worker % options.gpus.count
        lock.lock(); defer { lock.unlock() }
        if contexts[g] == nil {
            contexts[g] = Result { try SharedGPU(device: options.gpus[g], tuning: options.tuning) }
        }
        return try contexts[g]!.get()
    }

    public func run() -> BatchSummary {
        let startedAt = Date()
        let items = options.plan.items
        let removed = Self.removeLeftovers(for: items)
        if !removed.isEmpty { emit(.removedLeftovers(removed)) }

        var results = [BatchItemResult?](repeating: nil, count: items.count)
        var next = 0, done = 0
        let worker = { [self] (w: Int) in
            while true {
                lock.lock()
                let i = next
                next += 1
                lock.unlock()
                guard i < items.count else { return }
                let result = process(items[i], worker: w)
                lock.lock()
                results[i] = result
                done += 1
                let n = done
                onEvent?(.finished(done: n, total: items.count, item: items[i], result: result))
                lock.unlock()
            }
        }
        let jobs = max(1, min(options.jobs, items.count))
        if jobs == 1 {
            worker(0)
        } else {
            let group = DispatchGroup()
            for j in 0..<jobs {
                group.enter()
                let t = makeNamedThread("fx.batch.\(j)") { worker(j); group.leave() }
                t.start()
            }
            group.wait()
        }
        for case .success(let shared)? in contexts { shared.context.reportProfile() }

        var totals = BatchSummary.Totals()
        let final = results.map { $0! }
        for r in final {
            totals.files += 1
            totals.frames += r.frames
            switch r.status {
            case .ok: totals.ok += 1
            case .failed: totals.failed += 1
            case .skipped: totals.skipped += 1
            }
        }
        let finishedAt = Date()
        totals.seconds = finishedAt.timeIntervalSince(startedAt)
        let stamp = ISO8601DateFormatter()
        return BatchSummary(
            version: FaceFXVersion.string, command: options.commandLine,
            workingDirectory: FileManager.default.currentDirectoryPath, action: options.action,
            shard: options.plan.shard.map { .init(index: $0.index, count: $0.count, of: options.plan.all.count) },
            started: stamp.string(from: startedAt), finished: stamp.string(from: finishedAt),
            totals: totals, files: final)
    }

    private func emit(_ e: Event) {
        lock.lock(); onEvent?(e); lock.unlock()
    }

    /// One file, start to end; never throws: every problem becomes a failed result with a one-line message.
    func process(_ item: BatchItem, worker: Int) -> BatchItemResult {
        let started = Date()
        var result = BatchItemResult(input: item.input, output: item.output, status: .ok, frames: 0, faces: 0,
                                     seconds: 0, error: nil)
        do {
            // The file whose existence means "done": the video, or the CSV in analyze-only mode.
            var st = stat()
            let done = options.action == .analyze ? (item.analysisOutput ?? item.output) : item.output
            if stat(done, &st) == 0 && !options.overwrite {
                if options.skipExisting && (st.st_mode & S_IFMT) == S_IFREG {
                    result.status = .skipped
                    return result
                }
                throw PipelineError.processing("\(done): already exists (use --skip-existing to keep it or --overwrite to replace it)")
            }
            let folder = (done as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                    throw PipelineError.processing("\(item.output): cannot create folder \(folder) (\(error.localizedDescription))")
                }
            }
            switch options.action {
            case .render, .both:
                var o = RenderOptions(
                    input: item.input, output: item.output, codec: options.codec, crf: options.crf, preset: options.preset,
                    overwrite: options.overwrite, gpu: options.gpus[worker % options.gpus.count],
                    progress: options.jobs == 1 ? options.progress : .quiet)
                o.sharedGPU = try sharedGPU(forWorker: worker)
                o.decoding = options.decoding
                o.filters = options.filters
                o.filterFolders = options.filterFolders
                o.classifier = options.classifier
                o.modelsDirectory = options.modelsDirectory
                o.tracking = options.tracking
                o.tuning = options.tuning
                if options.action == .both { o.csvPath = item.analysisOutput }
                let job = RenderJob(options: o)
                job.onWarning = { [weak self] in self?.emit(.warning(item: item, message: $0)) }
                let summary = try job.run()
                result.frames = summary.frames
                result.faces = summary.faceFrames
            case .analyze:
                var o = AnalyzeOptions(input: item.input, csvPath: item.analysisOutput, overwrite: options.overwrite,
                                       tracking: options.tracking, gpu: options.gpus[worker % options.gpus.count],
                                       progress: options.jobs == 1 ? options.progress : .quiet)
                o.sharedGPU = try sharedGPU(forWorker: worker)
                o.segments = 1   // the batch's parallelism is its files
                o.decoding = options.decoding
                o.tuning = options.tuning
                o.classifier = options.classifier
                o.modelsDirectory = try FaceStage.models(options.modelsDirectory)
                let job = AnalyzeJob(options: o)
                job.onWarning = { [weak self] in self?.emit(.warning(item: item, message: $0)) }
                let summary = try job.run()
                result.frames = summary.frames
                result.faces = summary.faceFrames
            }
        } catch {
            result.status = .failed
            result.error = Self.message(for: error, item: item)
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// The error as one line that starts with the file it concerns (the input unless the message names a file).
    static func message(for error: Error, item: BatchItem) -> String {
        let text = PipelineError.from(error).description.split(whereSeparator: \.isNewline).joined(separator: " ")
        for path in [item.input, item.output] where text.hasPrefix(path + ":") { return text }
        return "\(item.input): \(text)"
    }

    /// Removes `.<name>.facefx-*.tmp` beside each output: what RenderJob was writing when an earlier run was
    /// killed (SIGKILL cannot be caught). Only names derived from this run's outputs are touched, so shards
    /// sharing an out-dir never delete each other's work in progress.
    static func removeLeftovers(for items: [BatchItem]) -> [String] {
        var byFolder: [String: Set<String>] = [:]
        for item in items {
            let folder = (item.output as NSString).deletingLastPathComponent
            byFolder[folder, default: []].insert((item.output as NSString).lastPathComponent)
        }
        var removed: [String] = []
        for (folder, names) in byFolder.sorted(by: { $0.key < $1.key }) {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { continue }
            for entry in entries.sorted() where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
                guard let range = entry.range(of: ".facefx-", options: .backwards) else { continue }
                let name = String(entry[entry.index(after: entry.startIndex)..<range.lowerBound])
                guard names.contains(name) else { continue }
                let path = BatchPaths.join(folder, entry)
                if unlink(path) == 0 { removed.append(path) }
            }
        }
        return removed
    }
}
