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
        subcommands: [Render.self, Filters.self, Preview.self, Info.self],
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
            throw CLIError(message: "--filter \(filter[0]): filters need the face tracker, which the render command does not run yet (see `facefx preview --faces`)", exitCode: 2)
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

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show FFmpeg, EGL devices and the OpenGL ES renderer facefx would use.")

    @OptionGroup var gpuOptions: GPUOptions

    func run() throws {
        print(try SystemInfo.report(gpu: try gpuOptions.selection()))
    }
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
