// `facefx train LABELS.csv -o MODEL.tflite`: a face classifier from labelled time ranges of videos.
// Faces are tracked frame by frame in the labelled ranges; the largest face's aligned crop (the emotion
// network's 64×64 grey crop, or that box in colour at 128×128) is rendered on the GPU in several
// variants (the augmentation: small rotation, scale, shift, mirror, brightness and contrast, all in the
// crop pass) and packed into a `CropAtlas`, then `GPUClassifierTrainer` trains `FaceClassifierNet` with Adam as GLES passes on
// batches gathered from the atlas; the model is written as a .tflite that `--classifier` (and the
// TFLite interpreter) loads.
import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import FaceFXNeural
import Foundation

public struct TrainOptions {
    public var labelsPath: String
    public var output: String
    public var epochs = 30
    /// Fraction of each labelled range's frames with a face, its last ones, kept for validation (frames
    /// after the training ones: neighbouring frames never land on both sides).
    public var validation = 0.2
    public var seed: UInt64 = 1
    public var batch = 32
    public var learningRate = 0.003
    /// The crop the network reads (grey 64 px or colour 128 px).
    public var input = FaceClassifierNet.Input.grey64
    /// Crops per labelled frame: the frame as is, then augmented variants.
    public var variants = 4
    /// A folder to write the crops trained on as NumPy files (`TrainJob.saveCrops`), or nil.
    public var cropsFolder: String?
    public var overwrite = false
    public var gpu: GPUDeviceSelection = .auto
    public var tuning = GPUTuning()
    public var modelsDirectory: URL?
    /// Called after every epoch (progress line).
    public var onEpoch: ((TrainEpoch) -> Void)?

    public init(labelsPath: String, output: String) { self.labelsPath = labelsPath; self.output = output }
}

public struct TrainEpoch {
    public var epoch: Int, epochs: Int
    public var loss: Double
    public var trainAccuracy: Double, validationAccuracy: Double?
    /// Training time so far (the steps and the validation passes), for time-to-accuracy figures.
    public var seconds: Double
    public var line: String {
        String(format: "epoch %d/%d: loss %.4f, train %.1f %%", epoch, epochs, loss, 100 * trainAccuracy)
            + (validationAccuracy.map { String(format: ", validation %.1f %%", 100 * $0) } ?? "")
            + String(format: " (%.1f s)", seconds)
    }
}

public struct TrainSummary {
    public var output: String
    public var labels: [String]
    public var trainSamples: Int, validationSamples: Int
    public var validationAccuracy: Double?
    /// Validation counts: row = true label, column = predicted.
    public var confusion: [[Int]]
    public var seconds: Double
    public var trainingSeconds: Double
    public var samplesPerSecond: Double

    public var line: String {
        "facefx: \(output): \(labels.count) classes, \(trainSamples) training crops, \(validationSamples) validation"
            + (validationAccuracy.map { String(format: ", validation accuracy %.1f %%", 100 * $0) } ?? "")
            + String(format: " in %.1f s (training %.1f s, %.0f crops/s)", seconds, trainingSeconds, samplesPerSecond)
    }

    /// The confusion matrix as text (validation crops).
    public var confusionTable: String {
        let width = max(8, (labels.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines = [pad("true\\pred") + labels.map(pad).joined()]
        for (k, row) in confusion.enumerated() { lines.append(pad(labels[k]) + row.map { pad(String($0)) }.joined()) }
        return lines.joined(separator: "\n")
    }
}

/// One labelled time range of a video (a row of LABELS.csv); `faceID`: the person id `facefx analyze`
/// gives the face to use (nil: the largest face).
struct LabelledRange {
    var video: String, start: Double, end: Double, label: String, line: Int
    var faceID: Int? = nil
}

public final class TrainJob {
    public let options: TrainOptions
    public init(options: TrainOptions) { self.options = options }

    /// LABELS.csv: a header `video,start_s,end_s,label` (and optionally `,face_id`), then one range per
    /// row; video paths relative to the CSV's folder. Errors name the file and line.
    static func readLabels(_ path: String) throws -> [LabelledRange] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError.usage(FileManager.default.fileExists(atPath: path) ? "\(path): not a UTF-8 text file" : "\(path): no such file")
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        let header = lines.first?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        guard header == ["video", "start_s", "end_s", "label"] || header == ["video", "start_s", "end_s", "label", "face_id"] else {
            throw PipelineError.usage("\(path):1: expected the header video,start_s,end_s,label (and optionally ,face_id)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var ranges: [LabelledRange] = []
        for (k, raw) in lines.enumerated().dropFirst() where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = raw.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == header.count else { throw PipelineError.usage("\(path):\(k + 1): expected \(header.count) fields, got \(f.count)") }
            var faceID: Int?
            if f.count == 5 && !f[4].isEmpty {
                guard let id = Int(f[4]), id >= 1 else { throw PipelineError.usage("\(path):\(k + 1): face_id '\(f[4])' (a person id ≥ 1 from facefx analyze, or empty)") }
                faceID = id
            }
            guard let start = Double(f[1]), let end = Double(f[2]), start.isFinite, end.isFinite, start >= 0, end > start else {
                throw PipelineError.usage("\(path):\(k + 1): start_s and end_s must be seconds with 0 ≤ start < end")
            }
            guard FaceClassifier.isValidLabel(f[3]) else {
                throw PipelineError.usage("\(path):\(k + 1): label '\(f[3])' (letters, digits, _ and - only)")
            }
            let video = f[0].hasPrefix("/") ? f[0] : (folder as NSString).appendingPathComponent(f[0])
            guard FileManager.default.fileExists(atPath: video) else { throw PipelineError.usage("\(path):\(k + 1): \(video): no such file") }
            ranges.append(LabelledRange(video: video, start: start, end: end, label: f[3], line: k + 1, faceID: faceID))
        }
        guard Set(ranges.map(\.label)).count >= 2 else { throw PipelineError.usage("\(path): at least two labels are needed") }
        return ranges
    }

    public func run() throws -> TrainSummary {
        do { return try runUnmapped() } catch { throw PipelineError.from(error) }
    }

    /// A crop (its index in the job's `CropAtlas`), its label, and the labelled range and frame it comes
    /// from (variant 0: the plain crop).
    private struct Sample { var crop: Int; var label: Int; var range: Int; var frame: Int; var variant: Int }

    private func runUnmapped() throws -> TrainSummary {
        let o = options
        let started = Date()
        let ranges = try Self.readLabels(o.labelsPath)
        guard o.output.hasSuffix(".tflite") else { throw PipelineError.usage("\(o.output): the model file must end in .tflite") }
        if let folder = o.cropsFolder {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw PipelineError.usage("\(folder): cannot create the folder (\(error.localizedDescription))")
            }
        }
        let cropFiles = o.cropsFolder.map { folder in Self.cropFiles.map { (folder as NSString).appendingPathComponent($0) } } ?? []
        try FaceRecordWriter.checkTargets([o.output] + cropFiles, overwrite: o.overwrite, inputs: Array(Set(ranges.map(\.video))))
        let labels = Array(Set(ranges.map(\.label))).sorted()
        let models = try FaceStage.models(o.modelsDirectory)
        let shared = try SharedGPU(device: o.gpu, tuning: o.tuning)
        let gpu = shared.context
        let colour = try FrameColorConverter(context: gpu, programs: shared.programs)
        let analyzer = try FaceStage.loadAnalyzer(shared: shared, settings: FaceTrackingOptions().settings(frameRate: nil),
                                                  modelsDirectory: models)
        let crops = FaceCropRenderer(context: gpu, programs: colour.programs)
        let cropKind = FaceCropKind.classifier(o.input), side = o.input.side
        // The crops stay on the GPU: rendered, packed into the atlas, gathered into each step's batch.
        let atlas = CropAtlas(context: gpu, input: o.input, programs: shared.programs)
        let cropTarget = try Framebuffer(context: gpu, color: Texture(context: gpu, width: side, height: side * o.variants, format: .rgba32f))
        var rng = TrainingRNG(seed: o.seed)
        var samples: [Sample] = []

        for video in Array(Set(ranges.map(\.video))).sorted() {
            let mine = ranges.filter { $0.video == video }
            // Faces named by id: the landmarks `facefx analyze` reports for that person, by frame.
            let named = mine.contains { $0.faceID != nil } ? try personLandmarks(video, shared: shared, models: models) : [:]
            let reader = try VideoReader(path: video)
            analyzer.reset()
            var index = 0
            while let frame = try reader.nextFrame() {
                defer { index += 1 }
                let t = frame.timeSeconds
                guard let range = mine.first(where: { t >= $0.start && t < $0.end }) else { continue }
                let rangeIndex = ranges.firstIndex { $0.line == range.line }!
                if let id = range.faceID, named[index]?[id] == nil { continue }
                let (y, u, v) = frame.gpuPlanes()
                let texture = try colour.upload(y: y, u: u, v: v, format: frame.gpuFormat)
                let landmarks: [Point]
                if let id = range.faceID {
                    landmarks = named[index]![id]!
                } else {
                    let faces = try analyzer.analyze(frameTexture: texture, width: frame.width, height: frame.height, frameIndex: index, time: t)
                    guard let face = faces.max(by: { $0.box.width * $0.box.height < $1.box.width * $1.box.height }) else { continue }
                    landmarks = face.landmarks
                }
                let base = analyzer.emotionBox(landmarks).mapping(kind: cropKind)
                for k in 0..<o.variants {
                    let (mapping, kind) = k == 0 ? (base, cropKind) : Self.augmented(base, kind: cropKind, &rng)
                    try crops.render(frame: texture, mappings: [mapping], kind: kind, into: cropTarget, firstItem: k)
                }
                let label = labels.firstIndex(of: range.label)!
                for k in 0..<o.variants {
                    let crop = try atlas.append(from: cropTarget.color, item: k)
                    samples.append(Sample(crop: crop, label: label, range: rangeIndex, frame: index, variant: k))
                }
                try crops.throwQueuedError()   // the atlas passes ran after the crop passes
            }
        }
        // Validation: the last frames of every range (their plain crops); training: every variant of the others.
        var heldFrames = Set<[Int]>()
        for r in ranges.indices {
            let frames = Array(Set(samples.filter { $0.range == r }.map(\.frame))).sorted()
            let count = Int((o.validation * Double(frames.count)).rounded())
            for f in frames.suffix(count) { heldFrames.insert([r, f]) }
        }
        let train = samples.filter { !heldFrames.contains([$0.range, $0.frame]) }
        let held = samples.filter { heldFrames.contains([$0.range, $0.frame]) && $0.variant == 0 }
        guard Set(train.map(\.label)).count == labels.count else {
            throw PipelineError.usage("\(o.labelsPath): no tracked face (with its face_id, where given) in the training frames of label(s) "
                + labels.enumerated().filter { l in !train.contains { $0.label == l.offset } }.map(\.element).joined(separator: ", "))
        }

        if let folder = o.cropsFolder { try Self.saveCrops(train: train, validation: held, labels: labels, atlas: atlas, folder: folder) }

        let trainStart = Date()
        let trainer = try GPUClassifierTrainer(net: FaceClassifierNet(classes: labels.count, seed: o.seed, input: o.input), batch: o.batch,
                                               context: gpu, learningRate: o.learningRate, programs: shared.programs)
        var order = Array(train.indices)
        var seen = 0
        for epoch in 1...o.epochs {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var loss = 0.0, correct = 0, count = 0
            for b in stride(from: 0, to: order.count, by: o.batch) {
                // A short last batch is filled from the start of the order (each crop once per epoch at least).
                let picked = (0..<o.batch).map { train[order[(b + $0) % order.count]] }
                let p = try trainer.step(.atlas(atlas, picked.map(\.crop)), labels: picked.map(\.label))
                let real = min(o.batch, order.count - b)
                for (n, s) in picked.prefix(real).enumerated() {
                    let row = p[(n * labels.count) ..< ((n + 1) * labels.count)]
                    loss -= Foundation.log(max(Double(row[row.startIndex + s.label]), 1e-30))
                    if row.indices.max(by: { row[$0] < row[$1] })! - row.startIndex == s.label { correct += 1 }
                }
                count += real
                seen += o.batch
            }
            o.onEpoch?(TrainEpoch(epoch: epoch, epochs: o.epochs, loss: loss / Double(max(count, 1)),
                                  trainAccuracy: Double(correct) / Double(max(count, 1)),
                                  validationAccuracy: Self.accuracy(try evaluate(trainer, atlas, held, classes: labels.count)),
                                  seconds: Date().timeIntervalSince(trainStart)))
        }
        let trainingSeconds = Date().timeIntervalSince(trainStart)
        let confusion = try evaluate(trainer, atlas, held, classes: labels.count)
        let model = try trainer.network().tflite(labels: labels)
        let file = try AtomicOutputFile(path: o.output)
        file.append(model)
        try file.commit()
        withExtendedLifetime((colour, analyzer, crops, cropTarget, atlas, gpu)) {}
        return TrainSummary(output: o.output, labels: labels, trainSamples: train.count, validationSamples: held.count,
                            validationAccuracy: Self.accuracy(confusion),
                            confusion: confusion, seconds: Date().timeIntervalSince(started), trainingSeconds: trainingSeconds,
                            samplesPerSecond: Double(seen) / max(trainingSeconds, 1e-9))
    }

    /// Every frame's faces as `facefx analyze` reports them (offline tracking, one id per person): frame
    /// index → person id → landmarks.
    private func personLandmarks(_ video: String, shared: SharedGPU, models: URL) throws -> [Int: [Int: [Point]]] {
        var options = AnalyzeOptions(input: video)
        options.sharedGPU = shared
        options.modelsDirectory = models
        options.tuning = self.options.tuning
        let job = AnalyzeJob(options: options)
        var out: [Int: [Int: [Point]]] = [:]
        job.onFrame = { frame in
            for face in frame.faces { out[frame.index, default: [:]][face.id] = face.landmarks }
        }
        _ = try job.run()
        return out
    }

    /// The files `--save-crops` writes into its folder.
    static let cropFiles = ["train_x.npy", "train_y.npy", "val_x.npy", "val_y.npy", "labels.txt"]

    /// The crops trained and validated on, as NumPy arrays (x: float32 [N, 64, 64] for grey64, [N, 128,
    /// 128, 3] for rgb128, the values the network reads; y: int32 label indices) and the labels in index
    /// order, one per line: to look at the data, or to train another framework on exactly the same crops
    /// (`bench/train_pytorch.py`). The folder was made when the options were checked.
    private static func saveCrops(train: [Sample], validation: [Sample], labels: [String], atlas: CropAtlas, folder: String) throws {
        let input = atlas.input
        let crop = [input.side, input.side] + (input.channels > 1 ? [input.channels] : [])
        func write(_ name: String, _ bytes: [UInt8]) throws {
            let file = try AtomicOutputFile(path: (folder as NSString).appendingPathComponent(name))
            file.append(bytes)
            try file.commit()
        }
        for (prefix, set) in [("train", train), ("val", validation)] {
            try write("\(prefix)_x.npy", NumPyArray.float32(try set.flatMap { try atlas.read($0.crop) }, shape: [set.count] + crop))
            try write("\(prefix)_y.npy", NumPyArray.int32(set.map { Int32($0.label) }, shape: [set.count]))
        }
        try write("labels.txt", Array((labels.joined(separator: "\n") + "\n").utf8))
    }

    /// The fraction on the diagonal of a confusion matrix (nil when it counts nothing).
    static func accuracy(_ confusion: [[Int]]) -> Double? {
        let total = confusion.joined().reduce(0, +)
        return total > 0 ? Double(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }) / Double(total) : nil
    }

    /// Validation crops through the trainer's forward pass: counts by true label and prediction.
    private func evaluate(_ trainer: GPUClassifierTrainer, _ atlas: CropAtlas, _ held: [Sample], classes: Int) throws -> [[Int]] {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for b in stride(from: 0, to: held.count, by: trainer.batch) {
            let picked = (0..<trainer.batch).map { held[(b + $0) % held.count] }
            let p = try trainer.predict(.atlas(atlas, picked.map(\.crop)))
            for (n, s) in picked.prefix(min(trainer.batch, held.count - b)).enumerated() {
                let row = Array(p[(n * classes) ..< ((n + 1) * classes)])
                confusion[s.label][row.indices.max { row[$0] < row[$1] }!] += 1
            }
        }
        return confusion
    }

    /// The augmentation, in the crop pass: a random rotation (±10°), scale (±10 %), shift (±3 px) and
    /// mirror about the crop's centre, and brightness (±0.1) and contrast (±15 %) through the crop's value map.
    /// (The shift is ±3 px of a 64-px crop, scaled with the crop.)
    static func augmented(_ base: Affine2D, kind plain: FaceCropKind, _ rng: inout TrainingRNG) -> (Affine2D, FaceCropKind) {
        func uniform(_ a: Double) -> Double { (rng.uniform() * 2 - 1) * a }
        let c = Double(plain.width - 1) / 2, shift = 3 * Double(plain.width) / 64
        var local = Affine2D.translation(c + uniform(shift), c + uniform(shift))
            .concatenating(.rotation(uniform(10) * .pi / 180))
            .concatenating(.scale(1 + uniform(0.1), 1 + uniform(0.1)))
        if rng.uniform() < 0.5 { local = local.concatenating(.scale(-1, 1)) }
        local = local.concatenating(.translation(-c, -c))
        var kind = plain
        let contrast = Float(1 + uniform(0.15)), brightness = Float(uniform(0.1))
        kind.valueScale *= contrast
        kind.valueOffset = kind.valueOffset * contrast + 2 * brightness
        return (base.concatenating(local), kind)
    }
}

/// NumPy's .npy format 1.0 (C order): the magic, a header dict padded to 64 bytes, the data as the
/// host stores it (little-endian on every platform facefx builds for, as the header says).
enum NumPyArray {
    static func float32(_ values: [Float], shape: [Int]) -> [UInt8] {
        encode(descr: "<f4", shape: shape, data: values.withUnsafeBytes(Array.init))
    }

    static func int32(_ values: [Int32], shape: [Int]) -> [UInt8] {
        encode(descr: "<i4", shape: shape, data: values.withUnsafeBytes(Array.init))
    }

    private static func encode(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        // magic (6) + version (2) + length (2) + header + '\n' → a multiple of 64.
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8) + data
    }
}
