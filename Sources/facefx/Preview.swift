// `facefx preview` (PreviewJob).
import ArgumentParser
import FaceFXPipeline
import Foundation

struct Preview: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a few frames of INPUT with filters into one contact-sheet PNG.",
        discussion: "Faces come from the tracker on each shown frame, or from --faces (a facefx faces JSON, or a MediaPipe FaceLandmarker golden).")

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

    @OptionGroup var filterFolders: FilterFolderOptions

    @Flag(name: .long, help: "Replace OUTPUT if it exists.")
    var overwrite = false

    @OptionGroup var gpuOptions: GPUOptions

    func run() throws {
        var o = PreviewOptions(input: input, output: output, filters: filter)
        o.filterFolders = filterFolders.folders
        o.modelsDirectory = try modelsDirectory()
        o.frames = frames
        o.facesFile = faces
        o.overwrite = overwrite
        o.gpu = try gpuOptions.selection()
        o.tuning = try gpuOptions.tuning()
        print(try PreviewJob(options: o).run())
    }
}
