// `facefx train LABELS.csv -o MODEL.tflite` (TrainJob).
import ArgumentParser
import FaceFXNeural
import FaceFXPipeline
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a face classifier from labelled time ranges of videos, on the GPU; writes a .tflite for --classifier.",
        discussion: """
            LABELS.csv: a header video,start_s,end_s,label, then one time range per row (video paths relative to the \
            CSV). The largest face of each labelled frame is tracked and its aligned crop (64x64 grey, the emotion \
            network's, or 128x128 colour with --input rgb128) is rendered with augmented variants; a small CNN (3 convolutions, global pool, dense, softmax) \
            is trained with Adam as GLES passes. The last --val fraction of every range is held out for validation: \
            accuracy per epoch and a confusion matrix at the end.
            """)

    @Argument(help: "CSV of labelled time ranges: video,start_s,end_s,label.")
    var labels: String

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The model to write (.tflite).", valueName: "file"))
    var output: String

    @Option(name: .long, help: "Passes over the training crops.")
    var epochs = 30

    @Option(name: .long, help: "Fraction of every labelled range, its end, held out for validation (0 to 0.9).")
    var val = 0.2

    @Option(name: .long, help: "Network input: grey64 (the 64x64 grey face crop the emotion network reads) or rgb128 (the same box in colour at 128x128: 4x the arithmetic).")
    var input = "grey64"

    @Option(name: .long, help: "Seed of the initial weights, the shuffling and the augmentation (same seed, same model on the same renderer).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Crops per training step.")
    var batch = 32

    @Option(name: .long, help: "Adam's learning rate.")
    var learningRate = 0.003

    @Option(name: .long, help: ArgumentHelp("Also write the crops trained and validated on into this folder as NumPy files (train_x.npy, train_y.npy, val_x.npy, val_y.npy, labels.txt).", valueName: "folder"))
    var saveCrops: String?

    @Flag(name: .long, help: "Replace an existing model file (and crop files).")
    var overwrite = false

    @Flag(name: .long, help: "No progress output and no summary; errors only.")
    var quiet = false

    @OptionGroup var gpuOptions: GPUOptions

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard (0...0.9).contains(val) else { throw ValidationError("--val must be between 0 and 0.9, got \(val)") }
        guard FaceClassifierNet.Input(rawValue: input) != nil else { throw ValidationError("--input must be grey64 or rgb128, got '\(input)'") }
        guard (1...256).contains(batch) else { throw ValidationError("--batch must be between 1 and 256, got \(batch)") }
        guard learningRate > 0, learningRate < 1 else { throw ValidationError("--learning-rate must be in (0, 1), got \(learningRate)") }
    }

    func run() throws {
        var options = TrainOptions(labelsPath: labels, output: output)
        options.epochs = epochs
        options.validation = val
        options.seed = seed
        options.batch = batch
        options.learningRate = learningRate
        options.input = FaceClassifierNet.Input(rawValue: input)!
        options.cropsFolder = saveCrops
        options.overwrite = overwrite
        options.gpu = try gpuOptions.selection()
        options.tuning = try gpuOptions.tuning()
        options.modelsDirectory = try modelsDirectory()
        if !quiet { options.onEpoch = { FileHandle.standardError.write(("facefx: " + $0.line + "\n").data(using: .utf8)!) } }
        let summary = try TrainJob(options: options).run()
        if !quiet {
            FileHandle.standardError.write((summary.line + "\n" + summary.confusionTable + "\n").data(using: .utf8)!)
        }
    }
}
