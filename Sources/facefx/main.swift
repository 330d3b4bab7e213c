// facefx command line: parsing, messages and exit codes only; the work lives in FaceFXPipeline.
// Exit codes: 0 success, 1 processing error (bad media, I/O, GPU), 2 usage error (arguments,
// missing input, existing output, unknown codec/extension/filter).
import ArgumentParser
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
        subcommands: [Render.self, Analyze.self, Detect.self, Info.self],
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

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render INPUT to OUTPUT through the GPU pipeline (filters applied), audio kept.")

    @Argument(help: "Input video (anything FFmpeg demuxes: mp4, mov, mkv, webm, avi, ...).")
    var input: String

    @Argument(help: "Output video; the container follows the extension (.mp4, .mov, .mkv, .webm).")
    var output: String

    @Option(name: .long, help: "Filter to apply (repeatable, applied in order).")
    var filter: [String] = []

    @Option(name: .long, help: "Constant rate factor (quality; lower is better).")
    var crf: Int = 18

    @Option(name: .long, help: "Encoder preset (x264/x265: ultrafast ... medium ... veryslow).")
    var preset: String = "medium"

    @Option(name: .long, help: "Video codec: h264, h265 or vp9.")
    var codec: String = "h264"

    @Flag(name: .long, help: "Replace OUTPUT if it exists.")
    var overwrite = false

    @Flag(name: .long, help: "No progress output; errors and the summary line only.")
    var quiet = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard (0...63).contains(crf) else { throw ValidationError("--crf must be between 0 and 63, got \(crf)") }
    }

    func run() throws {
        guard let videoCodec = VideoCodecChoice(rawValue: codec.lowercased()) else {
            throw CLIError(message: "--codec: unknown codec '\(codec)' (expected h264, h265 or vp9)", exitCode: 2)
        }
        if !filter.isEmpty {
            throw CLIError(message: "--filter \(filter[0]): no filters are installed yet", exitCode: 2)
        }
        let options = RenderOptions(
            input: input, output: output, codec: videoCodec, crf: crf, preset: preset,
            overwrite: overwrite, gpu: try gpuOptions.selection(),
            progress: quiet ? .quiet : .auto)
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

    @Flag(name: .long, help: "Print where the time went (detector tiles, networks) to stderr.")
    var timings = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard maxFaces >= 1 else { throw ValidationError("--max-faces must be at least 1, got \(maxFaces)") }
        guard minFace >= 8 else { throw ValidationError("--min-face must be at least 8 pixels, got \(minFace)") }
    }

    func run() throws {
        let job = DetectJob(options: DetectOptions(input: image, maxFaces: maxFaces, minFaceSize: minFace,
                                                   gpu: try gpuOptions.selection()))
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

    @Option(name: .long, help: ArgumentHelp("Most faces tracked at once.", valueName: "n"))
    var maxFaces: Int = 8

    @Option(name: .long, help: ArgumentHelp("Run the face detector every N frames (1 = every frame; tracked faces follow their landmarks in between).", valueName: "n"))
    var detectEvery: Int = 1

    @Option(name: .long, help: ArgumentHelp("offline (zero-lag, uses future frames), online (One Euro, causal) or off (raw).", valueName: "mode"))
    var smooth: String = "offline"

    @Option(name: .long, help: ArgumentHelp("Seconds a face that left the picture keeps its id waiting to come back.", valueName: "seconds"))
    var reidWindow: Double = 2

    @Option(name: .long, help: ArgumentHelp("Smallest face (pixels) to look for; smaller values add detector tiles (slower).", valueName: "px"))
    var minFace: Double = 48

    @Flag(name: .long, help: "One landmark pass per face and frame, like MediaPipe (default: a second pass where the ROI was clearly off: a new face, a sudden move).")
    var noRefine = false

    @Flag(name: .long, help: "Replace existing output files.")
    var overwrite = false

    @Flag(name: .long, help: "No progress output and no summary; errors only.")
    var quiet = false

    @Flag(name: .long, help: "Print where the time went (upload, detector, landmarks, ...) to stderr.")
    var timings = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard maxFaces >= 1 else { throw ValidationError("--max-faces must be at least 1, got \(maxFaces)") }
        guard detectEvery >= 1 else { throw ValidationError("--detect-every must be at least 1, got \(detectEvery)") }
        guard minFace >= 8 else { throw ValidationError("--min-face must be at least 8 pixels, got \(minFace)") }
        guard reidWindow >= 0, reidWindow.isFinite else { throw ValidationError("--reid-window must be ≥ 0 seconds, got \(reidWindow)") }
        guard csv != nil || jsonl != nil else { throw ValidationError("give --csv FILE and/or --jsonl FILE") }
    }

    func run() throws {
        guard let smoothing = AnalyzeSmoothing(rawValue: smooth.lowercased()) else {
            throw CLIError(message: "--smooth: expected offline, online or off, got '\(smooth)'", exitCode: 2)
        }
        var options = AnalyzeOptions(
            input: input, csvPath: csv, jsonlPath: jsonl,
            records: FaceRecordOptions(landmarks: landmarks, includeEmpty: includeEmpty), overwrite: overwrite,
            maxFaces: maxFaces, detectEvery: detectEvery, smoothing: smoothing, reidWindow: reidWindow,
            minFaceSize: minFace, gpu: try gpuOptions.selection(), progress: quiet ? .quiet : .auto)
        options.refineROIs = !noRefine
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
