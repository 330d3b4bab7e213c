// `facefx batch` (BatchPlan + BatchJob).
import ArgumentParser
import FaceFXPipeline
import Foundation

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

    @OptionGroup var filterFolders: FilterFolderOptions

    @OptionGroup var classifier: ClassifierOptionGroup

    @OptionGroup var tracking: TrackingOptionGroup

    @Option(name: .long, help: "Files processed at once (each with its own decoder and encoder; the jobs on a GPU share its context).")
    var jobs: Int = 1

    @Option(name: .long, help: ArgumentHelp("Spread the jobs over several GPUs in this one process: all (every hardware EGL device) or device indices like 0,1 (default: the --gpu one).", valueName: "list"))
    var gpus: String?

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

    @OptionGroup var decode: DecodeOptionGroup

    @OptionGroup var gpuOptions: GPUOptions

    /// The GPUs of --gpus, else the one of --gpu.
    func gpuList() throws -> [GPUChoice] {
        guard let gpus else { return [try gpuOptions.selection()] }
        if gpuOptions.gpu != "auto" { throw CLIError(message: "--gpu and --gpus exclude each other", exitCode: 2) }
        let list: [GPUChoice]?
        do { list = try GPUChoice.list(argument: gpus) } catch { throw CLIError(message: "--gpus: \(error)", exitCode: 2) }
        guard let list else { throw CLIError(message: "--gpus: expected all or device indices like 0,1, got '\(gpus)'", exitCode: 2) }
        return list
    }

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if skipExisting && overwrite { throw ValidationError("--skip-existing and --overwrite exclude each other") }
    }

    func run() throws {
        let videoCodec = encoder.videoCodec
        if analyzeOnly && !filter.isEmpty {
            throw CLIError(message: "--analyze-only writes no video: --filter has nothing to draw on", exitCode: 2)
        }
        let action: BatchItemAction = analyzeOnly ? .analyze : (csv ? .both : .render)
        // Filters and the classifier are checked once, before any file (unknown names, bad packs, a bad model).
        if !filter.isEmpty { _ = try FilterCatalog.load(filter, folders: filterFolders.folders) }
        if let url = classifier.url {
            if filter.isEmpty && !action.analyzes {
                throw CLIError(message: "--classifier needs faces to classify: add a filter, --csv or --analyze-only", exitCode: 2)
            }
            try FaceStage.checkClassifier(url)
        }
        if action.analyzes && !BatchItemAction.analysisAvailable {
            throw CLIError(message: "--csv: face analysis export is not available yet (it arrives with `facefx analyze`)", exitCode: 2)
        }
        let devices = try gpuList()
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
            plan: plan, action: action, codec: videoCodec, crf: encoder.crf, preset: encoder.preset, gpus: devices, jobs: jobs,
            skipExisting: skipExisting, overwrite: overwrite, progress: quiet ? .quiet : .auto,
            summaryPath: summary, commandLine: CommandLine.arguments)
        batchOptions.tuning = try gpuOptions.tuning()
        batchOptions.decoding = decode.decoding
        batchOptions.filters = filter
        batchOptions.filterFolders = filterFolders.folders
        batchOptions.classifier = classifier.url
        if !filter.isEmpty || action.analyzes { batchOptions.modelsDirectory = try modelsDirectory() }
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
