// facefx command line: parsing, messages and exit codes only; the work lives in FaceFXPipeline
// (render: RenderJob; batch: BatchPlan + BatchJob). One file: @main cannot share its module with a main.swift.
// Exit codes: 0 success, 1 processing error (bad media, I/O, GPU), 2 usage error (arguments,
// missing input, existing output, unknown codec/extension/filter).
import ArgumentParser
import FaceFXBench
import FaceFXPipeline
import Foundation

@main
struct FaceFXMain {
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try FaceFX.parseAsRoot()
            try command.run()
            finish(0)
        } catch let error as CLIError {
            report(error.message)
            finish(error.exitCode)
        } catch let error as PipelineError {
            report(error.description)
            finish(error.isUsage ? 2 : 1)
        } catch {
            let code = FaceFX.exitCode(for: error)
            if code == .success {
                FaceFX.exit(withError: error) // --help, --version
            }
            // ArgumentParser's own validation errors exit 64; facefx promises 2 for every usage error.
            let message = FaceFX.message(for: error)
            if code == .validationFailure {
                report(message + " (see facefx --help)")
                exit(2)
            }
            report(message.isEmpty ? String(describing: error) : message)
            exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// Ends the process without running library destructors: Mesa's and FFmpeg's exit-time teardown can race
    /// with their own worker threads still winding down (seen as heap corruption at exit under load). All
    /// outputs are complete and renamed by now; only stdio buffers need flushing.
    static func finish(_ code: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        _exit(code)
    }

    static func warn(_ message: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write("facefx: warning: \(oneLine)\n".data(using: .utf8)!)
    }

    static func report(_ message: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write("facefx: error: \(oneLine)\n".data(using: .utf8)!)
    }
}

struct CLIError: Error {
    var message: String
    var exitCode: Int32
}

struct FaceFX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facefx",
        abstract: "Offline face filters and face analysis for video files, on a headless GPU.",
        discussion: "With no subcommand, renders INPUT to OUTPUT: `facefx in.mp4 out.mp4`.",
        version: FaceFXVersion.string,
        subcommands: [Render.self, Analyze.self, Detect.self, Batch.self, Filters.self, Preview.self, Info.self, Bench.self],
        defaultSubcommand: Render.self
    )
}

/// Options shared by every command that touches the GPU.
struct GPUOptions: ParsableArguments {
    @Option(name: .long, help: "GPU to use: auto (hardware EGL device if present, else Mesa llvmpipe), cpu (llvmpipe), or a device index from `facefx info`.")
    var gpu: String = "auto"

    func selection() throws -> GPUChoice {
        guard let choice = GPUChoice(argument: gpu) else {
            throw CLIError(message: "--gpu: expected auto, cpu or a device index, got '\(gpu)'", exitCode: 2)
        }
        return choice
    }
}

/// Encoder options shared by render and batch.
struct EncoderOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Constant rate factor (quality; lower is better).")
    var crf: Int = 18

    @Option(name: .long, help: "Encoder preset (x264/x265: ultrafast ... medium ... veryslow).")
    var preset: String = "medium"

    @Option(name: .long, help: "Video codec: h264, h265 or vp9.")
    var codec: String = "h264"

    func validate() throws {
        guard (0...63).contains(crf) else { throw ValidationError("--crf must be between 0 and 63, got \(crf)") }
    }

    func videoCodec() throws -> VideoCodecChoice {
        guard let c = VideoCodecChoice(rawValue: codec.lowercased()) else {
            throw CLIError(message: "--codec: unknown codec '\(codec)' (expected h264, h265 or vp9)", exitCode: 2)
        }
        return c
    }
}

/// Face tracking options of render, analyze, preview and batch (defaults: `FaceTrackingOptions`).
struct TrackingOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Most faces tracked at once.", valueName: "n"))
    var maxFaces: Int = FaceTrackingOptions().maxFaces

    @Option(name: .long, help: ArgumentHelp("Run the face detector on keyframes every N frames (1 = every frame; default: every \(FaceTrackingOptions.keyframeSeconds) s). Tracked faces follow their landmarks in between; a face found on a keyframe is also tracked backwards to where it appeared.", valueName: "n"))
    var detectEvery: Int?

    @Option(name: .long, help: ArgumentHelp("offline (zero-lag, uses future frames), online (One Euro, causal) or off (raw).", valueName: "mode"))
    var smooth: String = FaceTrackingOptions().smoothing.rawValue

    @Option(name: .long, help: ArgumentHelp("Longest absence (seconds) after which a person who comes back keeps their id (default: the whole clip).", valueName: "seconds"))
    var reidWindow: Double?

    @Option(name: .long, help: ArgumentHelp("Smallest face (pixels) to look for; smaller values add detector tiles (slower).", valueName: "px"))
    var minFace: Double = FaceTrackingOptions().minFaceSize

    @Option(name: .long, help: "Vertical field of view (degrees) of the camera assumed for head pose.")
    var fov: Double = FaceTrackingOptions().fieldOfView

    @Flag(name: .long, help: "One landmark pass per face and frame, like MediaPipe (default: a second pass where the ROI was clearly off: a new face, a sudden move).")
    var noRefine = false

    func validate() throws {
        guard (10...170).contains(fov) else { throw ValidationError("--fov must be between 10 and 170 degrees, got \(fov)") }
        guard maxFaces >= 1 else { throw ValidationError("--max-faces must be at least 1, got \(maxFaces)") }
        if let n = detectEvery, n < 1 { throw ValidationError("--detect-every must be at least 1, got \(n)") }
        guard minFace >= 8 else { throw ValidationError("--min-face must be at least 8 pixels, got \(minFace)") }
        if let w = reidWindow, !(w >= 0 && w.isFinite) { throw ValidationError("--reid-window must be ≥ 0 seconds, got \(w)") }
    }

    func options() throws -> FaceTrackingOptions {
        guard let smoothing = AnalyzeSmoothing(rawValue: smooth.lowercased()) else {
            throw CLIError(message: "--smooth: expected offline, online or off, got '\(smooth)'", exitCode: 2)
        }
        var t = FaceTrackingOptions()
        t.maxFaces = maxFaces; t.detectEvery = detectEvery; t.smoothing = smoothing
        t.reidWindow = reidWindow; t.minFaceSize = minFace; t.fieldOfView = fov; t.refineROIs = !noRefine
        return t
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render INPUT to OUTPUT through the GPU pipeline (filters applied), audio kept.")

    @Argument(help: "Input video (anything FFmpeg demuxes: mp4, mov, mkv, webm, avi, ...).")
    var input: String

    @Argument(help: "Output video; the container follows the extension (.mp4, .mov, .mkv, .webm).")
    var output: String

    @Option(name: .long, help: "Filter to apply (repeatable, applied in order; see `facefx filters`).")
    var filter: [String] = []

    @Option(name: .customLong("filters-dir"), help: "Extra folder of filters, searched before FACEFX_FILTERS and the built-in ones (repeatable).")
    var filtersDirs: [String] = []

    @Option(name: .long, help: "Also write one CSV row per face per frame here (columns as `facefx analyze`).")
    var csv: String?

    @Option(name: .long, help: "Also write one JSON object per frame here (JSON Lines).")
    var jsonl: String?

    @Flag(name: .long, help: "CSV/JSONL: add the 478 landmarks (pixels) to every face.")
    var landmarks = false

    @Flag(name: .long, help: "CSV: one row with an empty face_id for frames without faces.")
    var includeEmpty = false

    @OptionGroup var tracking: TrackingOptionGroup

    @OptionGroup var encoder: EncoderOptionGroup

    @Flag(name: .long, help: "Replace OUTPUT if it exists.")
    var overwrite = false

    @Flag(name: .long, help: "No progress output; errors and the summary line only.")
    var quiet = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
    }

    func run() throws {
        let videoCodec = try encoder.videoCodec()
        var options = RenderOptions(
            input: input, output: output, codec: videoCodec, crf: encoder.crf, preset: encoder.preset,
            overwrite: overwrite, gpu: try gpuOptions.selection(),
            progress: quiet ? .quiet : .auto)
        options.filters = filter
        options.filtersDirs = filtersDirs
        options.csvPath = csv
        options.jsonlPath = jsonl
        options.records = FaceRecordOptions(landmarks: landmarks, includeEmpty: includeEmpty)
        options.tracking = try tracking.options()
        let job = RenderJob(options: options)
        job.onWarning = { FaceFXMain.warn($0) }
        let summary = try job.run()
        if !quiet {
            FileHandle.standardError.write((summary.line + "\n").data(using: .utf8)!)
        }
    }
}

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find and analyse the faces of one image (or a video's first frame): box, 478 landmarks, head pose, blendshapes, emotion.",
        discussion: "Networks run on the CPU reference until the GPU engine lands: a few seconds per image.")

    @Argument(help: "Image (PNG, JPEG, anything FFmpeg decodes); for a video, its first frame.")
    var image: String

    @Flag(name: .long, help: "Print JSON (every landmark, blendshape and emotion probability) instead of a table.")
    var json = false

    @Option(name: .long, help: "Most faces to report.")
    var maxFaces: Int = 8

    @Option(name: .long, help: "Smallest face (pixels) to look for; smaller values add detector tiles (slower).")
    var minFace: Double = 48

    @Option(name: .long, help: "Vertical field of view (degrees) of the camera assumed for head pose.")
    var fov: Double = 63

    @Flag(name: .long, help: "Print where the time went (detector tiles, networks) to stderr.")
    var timings = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard maxFaces >= 1 else { throw ValidationError("--max-faces must be at least 1, got \(maxFaces)") }
        guard minFace >= 8 else { throw ValidationError("--min-face must be at least 8 pixels, got \(minFace)") }
        guard (10...170).contains(fov) else { throw ValidationError("--fov must be between 10 and 170 degrees, got \(fov)") }
    }

    func run() throws {
        var options = DetectOptions(input: image, maxFaces: maxFaces, minFaceSize: minFace, gpu: try gpuOptions.selection())
        options.fieldOfView = fov
        let job = DetectJob(options: options)
        let report = try job.run()
        print(json ? try DetectOutput.json(report) : DetectOutput.table(report))
        if timings { FileHandle.standardError.write((DetectOutput.timings(report) + "\n").data(using: .utf8)!) }
    }
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-frame faces of a video (box, head pose, 52 blendshapes, 7 emotions, optional 478 landmarks) to CSV and/or JSON Lines.",
        discussion: """
            No video is written (the fast path). At least one of --csv / --jsonl is required. Both files are written \
            beside their targets and renamed only when the whole video is done. Columns: docs/ANALYZE.md.
            """)

    @Argument(help: "Input video (anything FFmpeg demuxes).")
    var input: String

    @Option(name: .long, help: ArgumentHelp("Write one CSV row per face per frame here.", valueName: "file"))
    var csv: String?

    @Option(name: .long, help: ArgumentHelp("Write one JSON object per frame here (JSON Lines).", valueName: "file"))
    var jsonl: String?

    @Flag(name: .long, help: "Add the 478 landmarks (pixels) to every face.")
    var landmarks = false

    @Flag(name: .long, help: "CSV: one row with an empty face_id for frames without faces.")
    var includeEmpty = false

    @OptionGroup var tracking: TrackingOptionGroup

    @Flag(name: .long, help: "Replace existing output files.")
    var overwrite = false

    @Flag(name: .long, help: "No progress output and no summary; errors only.")
    var quiet = false

    @Flag(name: .long, help: "Print where the time went (upload, detector, landmarks, ...) to stderr.")
    var timings = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard csv != nil || jsonl != nil else { throw ValidationError("give --csv FILE and/or --jsonl FILE") }
    }

    func run() throws {
        let options = AnalyzeOptions(
            input: input, csvPath: csv, jsonlPath: jsonl,
            records: FaceRecordOptions(landmarks: landmarks, includeEmpty: includeEmpty), overwrite: overwrite,
            tracking: try tracking.options(), gpu: try gpuOptions.selection(), progress: quiet ? .quiet : .auto)
        let job = AnalyzeJob(options: options)
        job.onWarning = { FaceFXMain.warn($0) }
        let summary = try job.run()
        if !quiet {
            FileHandle.standardError.write((summary.line + "\n").data(using: .utf8)!)
        }
        if timings { FileHandle.standardError.write((summary.timingsLine + "\n").data(using: .utf8)!) }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show FFmpeg, EGL devices and the OpenGL ES renderer facefx would use.")

    @OptionGroup var gpuOptions: GPUOptions

    func run() throws {
        print(try SystemInfo.report(gpu: try gpuOptions.selection()))
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GPU benchmarks: networks, color, chain, floor, info (the same as the FFmpeg-free facefx-gpubench).",
        discussion: """
        facefx bench networks [--batch 1,8] [--precision fp16,fp32] [--only NAME] [--iters K] [--check] [--split-readback] [--profile]
        facefx bench color [--width W] [--height H] [--frames N]
        facefx bench chain [--width W] [--height H] [--frames N] [--faces 1,4] [--filters mask]
        facefx bench floor
        facefx bench info
        Common options: [--gpu auto|cpu|N] [--models DIR]; `facefx bench networks --help` lists them all. \
        Environment: FACEFX_NN_PASSES=compute|fragment, FACEFX_NN_BAKE=1|0, FACEFX_FRAME_BATCH=N (see README).
        """)

    @Argument(parsing: .captureForPassthrough, help: "The benchmark and its options.")
    var arguments: [String] = []

    func run() throws {
        GPUBench.imageDecoder = FilterCatalog.pngDecoder
        GPUBench.run(arguments: arguments.isEmpty ? ["--help"] : arguments)
    }
}

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render many files: folders (recursive), files or a manifest, into a mirrored tree under --out-dir.",
        discussion: """
        One failing file does not stop the others. Exit codes: 0 all files ok or skipped, 1 some file failed, \
        2 usage error (nothing was processed). Outputs appear only when complete, so a killed batch re-run with \
        --skip-existing redoes only the unfinished files. --shard K/N (1-based) takes every N-th file of the \
        sorted input list starting at the K-th; --shard auto reads K and N from a Slurm array \
        (SLURM_ARRAY_TASK_ID/COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX + FACEFX_SHARD_COUNT). \
        See docs/BATCH.md.
        """)

    @Argument(help: "Video files and folders (folders: every mp4/mov/mkv/webm/avi/m4v below, hidden files skipped).")
    var inputs: [String] = []

    @Option(name: .customLong("out-dir"), help: "Output folder; the input tree is mirrored below it.")
    var outDir: String?

    @Option(name: .long, help: "Input list: one path a line (# comments) or CSV input,output; relative paths are resolved against the manifest's folder.")
    var manifest: String?

    @Option(name: .long, help: "Filter to apply (repeatable, applied in order).")
    var filter: [String] = []

    @Flag(name: .long, help: "Also write a per-face CSV beside each output video (columns as `facefx analyze`).")
    var csv = false

    @Flag(name: .customLong("analyze-only"), help: "No videos: write only the per-face CSV of each input (the fast path).")
    var analyzeOnly = false

    @Option(name: .customLong("filters-dir"), help: "Extra folder of filters, searched before FACEFX_FILTERS and the built-in ones (repeatable).")
    var filtersDirs: [String] = []

    @OptionGroup var tracking: TrackingOptionGroup

    @Option(name: .long, help: "Files processed at once (each with its own GPU context and threads).")
    var jobs: Int = 1

    @Flag(name: .customLong("skip-existing"), help: "Skip files whose output exists (outputs only exist when complete).")
    var skipExisting = false

    @Option(name: .long, help: "Process one shard: K/N (K from 1), auto or auto/N (index from Slurm or Kubernetes).")
    var shard: String?

    @Option(name: .long, help: "Write a JSON report of every file (status, frames, seconds, error) here at the end.")
    var summary: String?

    @Option(name: .long, help: "Output extension (default: the input's when it can hold the codec, else mp4).")
    var ext: String?

    @Flag(name: .customLong("dry-run"), help: "Print the planned INPUT → OUTPUT pairs (this shard's) and exit.")
    var dryRun = false

    @OptionGroup var encoder: EncoderOptionGroup

    @Flag(name: .long, help: "Replace outputs that exist.")
    var overwrite = false

    @Flag(name: .long, help: "No progress lines and no summary line; errors only.")
    var quiet = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if skipExisting && overwrite { throw ValidationError("--skip-existing and --overwrite exclude each other") }
    }

    func run() throws {
        let videoCodec = try encoder.videoCodec()
        guard videoCodec.acceptsPreset(encoder.preset) else {
            throw CLIError(message: "--preset: unknown preset '\(encoder.preset)' (ultrafast ... medium ... veryslow)", exitCode: 2)
        }
        if analyzeOnly && !filter.isEmpty {
            throw CLIError(message: "--analyze-only writes no video: --filter has nothing to draw on", exitCode: 2)
        }
        let action: BatchItemAction = analyzeOnly ? .analyze : (csv ? .both : .render)
        // Filters are checked once, before any file (unknown names, bad packs).
        if !filter.isEmpty { _ = try FilterCatalog.load(filter, filtersDirs: filtersDirs) }
        if action.analyzes && !BatchItemAction.analysisAvailable {
            throw CLIError(message: "--csv: face analysis export is not available yet (it arrives with `facefx analyze`)", exitCode: 2)
        }
        let gpu = try gpuOptions.selection()
        let shardChoice = try shard.map { try BatchShard.parse($0, environment: ProcessInfo.processInfo.environment) }
        let plan = try BatchPlan(options: BatchPlanOptions(
            inputs: inputs, manifest: manifest, outDir: outDir, outputExtension: ext, codec: videoCodec,
            action: action, shard: shardChoice))
        if dryRun {
            for item in plan.items {
                var line = "\(item.input) → \(item.output)"
                if skipExisting && FileManager.default.fileExists(atPath: item.output) { line += " (exists, skipped)" }
                print(line)
            }
            if !quiet { note(planLine(plan) + " (dry run)") }
            return
        }

        if let outDir {
            // Created up front so a --summary inside it can be checked before any work.
            do { try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true) } catch {
                throw CLIError(message: "--out-dir \(outDir): cannot create folder (\(error.localizedDescription))", exitCode: 2)
            }
        }
        if let summary { try checkSummaryPath(summary) }
        var batchOptions = BatchOptions(
            plan: plan, action: action, codec: videoCodec, crf: encoder.crf, preset: encoder.preset, gpu: gpu, jobs: jobs,
            skipExisting: skipExisting, overwrite: overwrite, progress: quiet ? .quiet : .auto,
            summaryPath: summary, commandLine: CommandLine.arguments)
        batchOptions.filters = filter
        batchOptions.filtersDirs = filtersDirs
        batchOptions.tracking = try tracking.options()
        let job = BatchJob(options: batchOptions)
        let quiet = self.quiet
        if !quiet { note(planLine(plan)) }
        job.onEvent = { event in
            switch event {
            case .finished(let done, let total, let item, let result):
                if let error = result.error { FaceFXMain.report(error) }
                guard !quiet else { return }
                var line = "[\(done)/\(total)] \(item.input) → \(item.output): "
                switch result.status {
                case .ok: line += "\(result.frames) frames, \(String(format: "%.1f", result.seconds)) s"
                case .skipped: line += "skipped (exists)"
                case .failed: line += "failed"
                }
                note(line)
            case .warning(let item, let message):
                FaceFXMain.warn(message.hasPrefix(item.input) ? message : "\(item.input): \(message)")
            case .removedLeftovers(let paths):
                if !quiet { note("facefx: removed \(paths.count) partial output\(paths.count == 1 ? "" : "s") of an interrupted run") }
            }
        }
        let result = job.run()
        if let summary {
            do { try result.write(to: summary) } catch {
                FaceFXMain.report(String(describing: error))
                FaceFXMain.finish(1)
            }
        }
        if !quiet { note(result.line) }
        FaceFXMain.finish(result.exitCode)
    }

    private func planLine(_ plan: BatchPlan) -> String {
        if let s = plan.shard {
            return "facefx: batch: shard \(s.index)/\(s.count): \(plan.items.count) of \(plan.all.count) files"
        }
        return "facefx: batch: \(plan.items.count) file\(plan.items.count == 1 ? "" : "s")"
    }

    /// A summary that cannot be written is a usage error found before any work, not after hours of rendering.
    private func checkSummaryPath(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let dir = folder.isEmpty ? "." : folder
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError(message: "--summary \(path): folder \(dir) does not exist", exitCode: 2)
        }
        guard access(dir, W_OK) == 0 else {
            throw CLIError(message: "--summary \(path): folder \(dir) is not writable", exitCode: 2)
        }
    }
}

private func note(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
}

struct Filters: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the available filters (name and description), first match of each name wins.")

    @Option(name: .customLong("filters-dir"), help: "Extra folder of filters, searched before FACEFX_FILTERS and the built-in ones (repeatable).")
    var filtersDirs: [String] = []

    @Flag(name: .long, help: "Also check every filter fully (assets present, inside their folder, decodable).")
    var check = false

    func run() throws {
        let lines = FilterCatalog.listing(filtersDirs: filtersDirs)
        if lines.isEmpty {
            throw CLIError(message: "no filters found (searched --filters-dir, FACEFX_FILTERS and the built-in Filters/)", exitCode: 1)
        }
        lines.forEach { print($0) }
        if check {
            try FilterCatalog.checkAll(filtersDirs: filtersDirs)
        }
    }
}

struct Preview: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a few frames of INPUT with filters into one contact-sheet PNG.",
        discussion: "Face data comes from --faces (a facefx faces JSON, or a MediaPipe FaceLandmarker golden) until the tracker is wired.")

    @Argument(help: "Input video or picture.")
    var input: String

    @Option(name: .long, help: "Filter to apply (repeatable, applied in order).")
    var filter: [String] = []

    @Option(name: [.customShort("o"), .long], help: "Contact sheet to write (.png).")
    var output: String

    @Option(name: .long, help: "Frames to show, spread evenly over the input.")
    var frames: Int = 6

    @Option(name: .long, help: "Face data JSON for the frames.")
    var faces: String?

    @Option(name: .customLong("filters-dir"), help: "Extra folder of filters, searched first (repeatable).")
    var filtersDirs: [String] = []

    @Flag(name: .long, help: "Replace OUTPUT if it exists.")
    var overwrite = false

    @OptionGroup var gpuOptions: GPUOptions

    func run() throws {
        var o = PreviewOptions(input: input, output: output, filters: filter)
        o.filtersDirs = filtersDirs
        o.frames = frames
        o.facesFile = faces
        o.overwrite = overwrite
        o.gpu = try gpuOptions.selection()
        print(try PreviewJob(options: o).run())
    }
}
