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
