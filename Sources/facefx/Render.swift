// `facefx INPUT OUTPUT`: render (RenderJob).
import ArgumentParser
import FaceFXPipeline
import Foundation

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render INPUT to OUTPUT through the GPU pipeline (filters applied), audio kept.")

    @Argument(help: "Input video (anything FFmpeg demuxes: mp4, mov, mkv, webm, avi, ...).")
    var input: String

    @Argument(help: "Output video; the container follows the extension (.mp4, .mov, .mkv, .webm).")
    var output: String

    @Option(name: .long, help: "Filter to apply (repeatable, applied in order; see `facefx filters`).")
    var filter: [String] = []

    @OptionGroup var filterFolders: FilterFolderOptions

    /// The records of `facefx analyze`, written alongside the video.
    @OptionGroup var records: FaceRecordOptionGroup

    @OptionGroup var classifier: ClassifierOptionGroup

    @OptionGroup var tracking: TrackingOptionGroup

    @OptionGroup var encoder: EncoderOptionGroup

    @Flag(name: .long, help: "Replace OUTPUT if it exists.")
    var overwrite = false

    @Flag(name: .long, help: "No progress output; errors and the summary line only.")
    var quiet = false

    @OptionGroup var decode: DecodeOptionGroup

    @OptionGroup var gpuOptions: GPUOptions

    func run() throws {
        let videoCodec = encoder.videoCodec
        var options = RenderOptions(
            input: input, output: output, codec: videoCodec, crf: encoder.crf, preset: encoder.preset,
            overwrite: overwrite, gpu: try gpuOptions.selection(),
            progress: quiet ? .quiet : .auto)
        options.tuning = try gpuOptions.tuning()
        options.decoding = decode.decoding
        options.filters = filter
        options.filterFolders = filterFolders.folders
        options.csvPath = records.csv
        options.jsonlPath = records.jsonl
        if options.needsFaces { options.modelsDirectory = try modelsDirectory() }
        options.records = records.options
        options.classifier = classifier.url
        options.tracking = try tracking.options()
        let job = RenderJob(options: options)
        job.onWarning = { FaceFXMain.warn($0) }
        let summary = try job.run()
        if !quiet {
            FileHandle.standardError.write((summary.line + "\n").data(using: .utf8)!)
        }
    }
}
