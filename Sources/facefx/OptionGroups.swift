// Option groups shared by several subcommands.
import ArgumentParser
import FaceFXPipeline
import FaceFXResources
import Foundation

struct GPUOptions: ParsableArguments {
    @Option(name: .long, help: "GPU to use: auto (hardware EGL device if present, else Mesa llvmpipe), cpu (llvmpipe), or a device index from `facefx info`.")
    var gpu: String = "auto"

    func selection() throws -> GPUChoice {
        guard let choice = GPUChoice(argument: gpu) else {
            throw CLIError(message: "--gpu: expected auto, cpu or a device index, got '\(gpu)'", exitCode: 2)
        }
        return choice
    }

    /// The renderer knobs from the environment (`GPUTuning.variables`); a value a variable does not take
    /// is a usage error naming it, in every command that uses the GPU.
    func tuning() throws -> GPUTuning {
        do {
            return try GPUTuning(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIError(message: error.description, exitCode: 2)
        }
    }
}

/// Where render, analyze and batch decode their inputs.
struct DecodeOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Decode on none (the CPU), nvdec (NVIDIA's hardware decoder; an error where there is none) or auto (NVDEC where the driver has it and decodes the codec, else the CPU).", valueName: "mode"))
    var hwdec: String = HardwareDecoding.none.rawValue

    func validate() throws {
        guard HardwareDecoding(rawValue: hwdec.lowercased()) != nil else {
            throw ValidationError("--hwdec: expected none, auto or nvdec, got '\(hwdec)'")
        }
    }

    /// The mode (known: checked in `validate`).
    var decoding: HardwareDecoding { HardwareDecoding(rawValue: hwdec.lowercased())! }
}

/// Encoder options shared by render and batch.
struct EncoderOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Constant rate factor (quality; lower is better).")
    var crf: Int = 18

    @Option(name: .long, help: "Encoder preset (x264/x265: ultrafast ... medium ... veryslow).")
    var preset: String = "medium"

    @Option(name: .long, help: "Video codec: h264, h265, vp9 (software), h264_nvenc, hevc_nvenc (NVIDIA hardware) or auto (h264_nvenc where it works, else h264).")
    var codec: String = "h264"

    /// Every encoder mistake is a usage error (exit 2) in every command that encodes.
    func validate() throws {
        guard (0...63).contains(crf) else { throw ValidationError("--crf must be between 0 and 63, got \(crf)") }
        guard let c = VideoCodecChoice(rawValue: codec.lowercased()) else {
            throw ValidationError("--codec: unknown codec '\(codec)' (expected h264, h265, vp9, h264_nvenc, hevc_nvenc or auto)")
        }
        guard c.acceptsPreset(preset) else {
            throw ValidationError("--preset: unknown preset '\(preset)' (ultrafast ... medium ... veryslow)")
        }
    }

    /// The codec (known: checked in `validate`).
    var videoCodec: VideoCodecChoice { VideoCodecChoice(rawValue: codec.lowercased())! }
}

/// Face tracking options of render, analyze, preview and batch (defaults: `FaceTrackingOptions`).
struct TrackingOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Most faces tracked at once.", valueName: "n"))
    var maxFaces: Int = FaceTrackingOptions().maxFaces

    @Option(name: .long, help: ArgumentHelp("Run the face detector on keyframes every N frames (1 = every frame; default: every \(FaceTrackingOptions.keyframeSeconds) s). Tracked faces follow their landmarks in between; a face found on a keyframe is also tracked backwards to where it appeared.", valueName: "n"))
    var detectEvery: Int?

    @Option(name: .long, help: ArgumentHelp("offline (zero-lag, uses future frames), online (One Euro, causal) or off (raw).", valueName: "mode"))
    var smooth: String = FaceTrackingOptions().smoothing.rawValue

    @Option(name: .long, help: ArgumentHelp("A person who comes back after at most this many seconds away keeps their id (default: any absence within the clip).", valueName: "seconds"))
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

/// `--filters-dir`, for every command that loads filters.
struct FilterFolderOptions: ParsableArguments {
    @Option(name: .customLong("filters-dir"), help: "Extra folder of filters, searched before FACEFX_FILTERS and the built-in ones (repeatable).")
    var filtersDirs: [String] = []

    /// The whole search path: --filters-dir, FACEFX_FILTERS, the shipped Filters/ (ResourceLocator).
    var folders: [URL] { ResourceLocator.filterFolders(extra: filtersDirs, environment: ProcessInfo.processInfo.environment) }
}

/// The Models/ folder (ResourceLocator: FACEFX_MODELS_DIR, beside the executable, the install prefix,
/// the checkout); a bad FACEFX_MODELS_DIR is a usage error, no models at all a processing one.
func modelsDirectory() throws -> URL {
    do {
        return try ResourceLocator.modelsDirectory(environment: ProcessInfo.processInfo.environment)
    } catch {
        throw CLIError(message: error.description, exitCode: error.isUsage ? 2 : 1)
    }
}

/// The per-face records (`facefx analyze`'s outputs; render writes them alongside the video).
struct FaceRecordOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write one CSV row per face per frame here (columns: docs/ANALYZE.md).", valueName: "file"))
    var csv: String?

    @Option(name: .long, help: ArgumentHelp("Write one JSON object per frame here (JSON Lines).", valueName: "file"))
    var jsonl: String?

    @Flag(name: .long, help: "Add the 478 landmarks (pixels) to every face.")
    var landmarks = false

    @Flag(name: .long, help: "CSV: one row with an empty face_id for frames without faces.")
    var includeEmpty = false

    var options: FaceRecordOptions { FaceRecordOptions(landmarks: landmarks, includeEmpty: includeEmpty) }
}

/// `--classifier` of render, analyze and batch.
struct ClassifierOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A face classifier (.tflite, input 1x64x64x1: the aligned grey face crop the emotion network reads; `facefx train` writes them) run on every face: one class_<label> column per output; filters may test its labels in 'when'.",
        discussion: "Label names from the model's facefx.labels metadata, else class_0, class_1, ...",
        valueName: "file"))
    var classifier: String?

    var url: URL? { classifier.map { URL(fileURLWithPath: $0) } }
}
