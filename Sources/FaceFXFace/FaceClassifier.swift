// A user's face classifier (`facefx analyze --classifier MODEL.tflite`): a .tflite network on the
// aligned face crop of `facefx train` (the emotion network's 64×64 grey crop, or that box in colour at
// 128×128), one probability per label. The label names come from the model's `facefx.labels` metadata
// (what `TFLiteWriter` stores, one per line), else class_0, class_1, ….
import FaceFXGPU
import FaceFXNeural
import Foundation

public struct FaceClassifier {
    public let runner: ImageNetworkRunner
    public let labels: [String]
    /// The crop it reads (from its input shape).
    public let input: FaceClassifierNet.Input
    public var cropKind: FaceCropKind { .classifier(input) }
    /// The metadata entry holding the label names, one per line.
    public static let labelsMetadata = "facefx.labels"

    /// Loads `url` for `context` (the shader engine in fp32, or the CPU reference with FACEFX_NN=cpu).
    /// Errors name the file and what is wrong with it.
    public static func load(_ url: URL, context: GPUContext, programs: ProgramCache? = nil) throws -> FaceClassifier {
        let (graph, labels, input) = try inspect(url)
        let runner: ImageNetworkRunner = context.tuning.networks == .cpu
            ? try CPUNetworkRunner(graph: graph, context: context)
            : try GPUNetworkRunner(graph: graph, engine: NeuralEngine(context: context, precision: .fp32, programs: programs), maxBatch: 32)
        return FaceClassifier(runner: runner, labels: labels, input: input)
    }

    /// A label name facefx accepts (`facefx train`'s CSV, a model's metadata): letters, digits, `_` and `-`,
    /// since names become CSV columns and JSON keys as they are.
    public static func isValidLabel(_ label: String) -> Bool {
        !label.isEmpty && label.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }
    }

    /// The checks of `load` without a GPU (a batch checks its classifier once, before any file): the
    /// graph, the label names and the input, or an error naming the file.
    public static func inspect(_ url: URL) throws -> (graph: Graph, labels: [String], input: FaceClassifierNet.Input) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw FaceClassifierError("\(url.path): no such file") }
        let model: TFLiteModel
        let graph: Graph
        do {
            model = try TFLiteModel(contentsOf: url)
            graph = try Graph(model: model)
        } catch {
            throw FaceClassifierError("\(url.path): not a usable .tflite classifier (\(error))")
        }
        let inputs = FaceClassifierNet.Input.allCases
        guard let input = inputs.first(where: { graph.inputShapes == [[1, $0.side, $0.side, $0.channels]] }) else {
            throw FaceClassifierError("\(url.path): the classifier takes \(graph.inputShapes), expected one face crop: "
                + inputs.map { "[1, \($0.side), \($0.side), \($0.channels)] (\($0.rawValue))" }.joined(separator: " or "))
        }
        guard let classes = graph.outputShapes.first?.reduce(1, *), graph.outputShapes.count == 1, classes >= 1 else {
            throw FaceClassifierError("\(url.path): the classifier needs one output of class probabilities")
        }
        var labels = (0..<classes).map { "class_\($0)" }
        if let b = model.metadata[labelsMetadata], let bytes = model.bufferBytes(b) {
            let names = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
            guard names.count == classes else {
                throw FaceClassifierError("\(url.path): \(names.count) label names for \(classes) outputs")
            }
            labels = names
        }
        for l in labels where !isValidLabel(l) {
            throw FaceClassifierError("\(url.path): label \"\(l)\" (letters, digits, _ and - only)")
        }
        return (graph, labels, input)
    }
}

public struct FaceClassifierError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
