// `facefx analyze INPUT` (AnalyzeJob).
import ArgumentParser
import FaceFXPipeline
import Foundation

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-frame faces of a video (box, head pose, 52 blendshapes, 7 emotions, optional 478 landmarks) to CSV and/or JSON Lines.",
        discussion: """
            No video is written (the fast path). At least one of --csv / --jsonl is required. Both files are written \
            beside their targets and renamed only when the whole video is done. Columns: docs/ANALYZE.md.
            """)

    @Argument(help: "Input video (anything FFmpeg demuxes).")
    var input: String

    @OptionGroup var records: FaceRecordOptionGroup

    @OptionGroup var classifier: ClassifierOptionGroup

    @OptionGroup var tracking: TrackingOptionGroup

    @Option(name: .long, help: ArgumentHelp(
        "Analyse the clip as N segments at once, each on its own thread (default: 2 on a hardware GPU for clips of 600 frames or more, else 1; README: benchmarks).",
        discussion: "Each segment has its own decoder; tracks are stitched where segments meet. Input that cannot seek is read start to end."))
    var segments: Int?

    @Flag(name: .long, help: "Replace existing output files.")
    var overwrite = false

    @Flag(name: .long, help: "No progress output and no summary; errors only.")
    var quiet = false

    @Flag(name: .long, help: "Print where the time went (upload, detector, landmarks, ...) to stderr.")
    var timings = false

    @OptionGroup var decode: DecodeOptionGroup

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard records.csv != nil || records.jsonl != nil else { throw ValidationError("give --csv FILE and/or --jsonl FILE") }
        if let n = segments, n < 1 { throw ValidationError("--segments must be at least 1") }
    }

    func run() throws {
        var options = AnalyzeOptions(
            input: input, csvPath: records.csv, jsonlPath: records.jsonl, records: records.options, overwrite: overwrite,
            tracking: try tracking.options(), gpu: try gpuOptions.selection(), progress: quiet ? .quiet : .auto)
        options.segments = segments
        options.classifier = classifier.url
        options.tuning = try gpuOptions.tuning()
        options.decoding = decode.decoding
        options.modelsDirectory = try modelsDirectory()
        let job = AnalyzeJob(options: options)
        job.onWarning = { FaceFXMain.warn($0) }
        let summary = try job.run()
        if !quiet {
            FileHandle.standardError.write((summary.line + "\n").data(using: .utf8)!)
        }
        if timings { FileHandle.standardError.write((summary.timingsLine + "\n").data(using: .utf8)!) }
    }
}
