// `facefx detect IMAGE` (DetectJob).
import ArgumentParser
import FaceFXPipeline
import Foundation

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find and analyse the faces of one image (or a video's first frame): box, 478 landmarks, head pose, blendshapes, emotion.",
        discussion: "MediaPipe's behaviour for one still: no look-back, no smoothing, one landmark pass.")

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
        options.tuning = try gpuOptions.tuning()
        options.modelsDirectory = try modelsDirectory()
        let job = DetectJob(options: options)
        let report = try job.run()
        print(json ? try DetectOutput.json(report) : DetectOutput.table(report))
        if timings { FileHandle.standardError.write((DetectOutput.timings(report) + "\n").data(using: .utf8)!) }
    }
}
