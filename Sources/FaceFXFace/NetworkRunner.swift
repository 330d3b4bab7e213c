// The boundary between face analysis and the neural engine. Image networks take their input
// as a texture a crop shader renders into (no readback of the crop on the GPU path); the
// blendshapes network takes a tiny CPU tensor. Today's implementation is the CPU reference
// (exact, slow); the GPU engine (FaceFXNeural.CompiledNetwork) plugs in behind the same protocols,
// e.g. (engine API as on branch `engine`, not final):
//   final class GPUNetworkRunner: ImageNetworkRunner {
//       let net: CompiledNetwork                       // compiled once with batch = maxBatch
//       var inputWidth: Int { net.inputLayouts[0].w }  // ... inputHeight .h, inputChannels .c
//       var maxBatch: Int { net.batch }
//       func inputTarget(capacity: Int) throws -> Framebuffer { net.inputFramebuffer(0) }
//       func run(count: Int) throws -> [[Tensor]] {    // encode() on the GL thread, read the small outputs,
//           try net.context.sync { try net.encode() } //  split the batch dimension into `count` items
//           ...
//       }
//   }
// and `FaceNetworks(detector: GPUNetworkRunner(...), ...)` replaces `FaceNetworks.cpuReference(...)`.

import FaceFXGPU
import FaceFXNeural
import Foundation

/// A network whose one input is an image tensor [N, H, W, C ≤ 4].
public protocol ImageNetworkRunner: AnyObject {
    /// Per-item input size and channels.
    var inputWidth: Int { get }
    var inputHeight: Int { get }
    var inputChannels: Int { get }
    /// Most items one `run` takes (a GPU network is compiled for a fixed batch).
    var maxBatch: Int { get }
    /// Elements per item of each output, in the model's output order.
    var outputElementCounts: [Int] { get }
    /// The render target holding the network input: items stacked vertically, tensor element
    /// [n, v, u, c] = texel (u, n·inputHeight + v), lane c, unused lanes 0 (FaceFXNeural's layout).
    /// Holds at least `capacity` (≤ maxBatch) items. May be called on any thread.
    func inputTarget(capacity: Int) throws -> Framebuffer
    /// Runs the network on items 0..<count of the input target (after the crop pass was queued);
    /// returns each item's outputs in the model's output order, batch dimension 1.
    func run(count: Int) throws -> [[Tensor]]
    /// Runs the network on items 0..<count and returns, per item in row order, the rows of output
    /// `data` (shape [1, A, C]) whose score in output `score` (shape [1, A, 1]) is ≥ `threshold`.
    /// (The detector: of 896 anchors in each of 66 tiles a few hundred pass, and only those
    /// need to cross the bus.)
    func runRows(count: Int, score: Int, data: Int, threshold: Float) throws -> [[ScoredRow]]
}

extension ImageNetworkRunner {
    public var outputElementCounts: [Int] { [] }
    /// From the whole outputs (CPU networks).
    public func runRows(count: Int, score: Int, data: Int, threshold: Float) throws -> [[ScoredRow]] {
        try run(count: count).enumerated().map { n, outs in
            let s = outs[score].data, d = outs[data].data
            let width = s.isEmpty ? 0 : d.count / s.count
            return s.indices.compactMap { a in
                s[a] >= threshold ? ScoredRow(replica: n, row: a, score: s[a], values: Array(d[(a * width)..<((a + 1) * width)])) : nil
            }
        }
    }
}

/// A network fed from CPU tensors (blendshapes: 1×146×2 landmark pixels).
public protocol TensorNetworkRunner: AnyObject {
    /// One input tensor per item (the graph's batch-1 input shape); outputs per item.
    func run(batch: [Tensor]) throws -> [[Tensor]]
}

public enum NetworkRunnerError: Error, CustomStringConvertible {
    case unsupportedInput(String)
    case badOutput(String)
    case modelNotFound(String)
    public var description: String {
        switch self {
        case .unsupportedInput(let m): return "network input: \(m)"
        case .badOutput(let m): return "network output: \(m)"
        case .modelNotFound(let m): return "model not found: \(m)"
        }
    }
}

/// Plain-Swift reference runner (FaceFXNeural.CPUReference). For image networks it reads the
/// rendered crops back (one readback per batch) — the price of running on the CPU.
/// Items of a batch run in parallel on the CPU cores.
public final class CPUNetworkRunner: ImageNetworkRunner, TensorNetworkRunner {
    public let graph: Graph
    public var outputElementCounts: [Int] { graph.outputShapes.map { $0.reduce(1, *) } }
    public let context: GPUContext?
    public let inputWidth: Int
    public let inputHeight: Int
    public let inputChannels: Int
    public let maxBatch: Int
    private var target: Framebuffer?
    /// Seconds spent in the last `run` (inference only), for reports.
    public private(set) var lastRunSeconds: Double = 0

    /// `context` is needed for image inputs (to own the input texture); tensor-only networks pass nil.
    public init(graph: Graph, context: GPUContext?) throws {
        self.graph = graph
        self.context = context
        let shape = graph.inputShapes.first ?? []
        if shape.count == 4, shape[0] == 1, shape[3] <= 4 {
            inputHeight = shape[1]; inputWidth = shape[2]; inputChannels = shape[3]
            let maxTex = context?.maxTextureSize ?? 8192
            maxBatch = max(1, min(256, maxTex / max(inputHeight, 1)))
        } else {
            inputHeight = 0; inputWidth = 0; inputChannels = 0
            maxBatch = 256
        }
    }

    public func inputTarget(capacity: Int) throws -> Framebuffer {
        guard let context, inputChannels > 0 else {
            throw NetworkRunnerError.unsupportedInput("\(graph.name) has no image input of ≤ 4 channels")
        }
        guard capacity <= maxBatch else {
            throw NetworkRunnerError.unsupportedInput("\(capacity) items > maxBatch \(maxBatch) for \(graph.name)")
        }
        if let t = target, t.height >= capacity * inputHeight { return t }
        // Grow geometrically so a varying item count does not reallocate every frame.
        let items = min(maxBatch, max(capacity, (target?.height ?? 0) / max(inputHeight, 1) * 2, 1))
        let tex = try Texture(context: context, width: inputWidth, height: items * inputHeight, format: .rgba32f)
        let fb = try Framebuffer(context: context, color: tex)
        target = fb
        return fb
    }

    public func run(count: Int) throws -> [[Tensor]] {
        guard count > 0 else { return [] }
        guard let target, target.height >= count * inputHeight else {
            throw NetworkRunnerError.unsupportedInput("run(count: \(count)) before inputTarget(capacity:)")
        }
        let texels = try target.readFloats(x: 0, y: 0, width: inputWidth, height: count * inputHeight)
        let perItem = inputHeight * inputWidth
        let c = inputChannels
        let inputs: [Tensor] = (0..<count).map { n in
            var data = [Float](repeating: 0, count: perItem * c)
            let base = n * perItem * 4
            for i in 0..<perItem { for k in 0..<c { data[i * c + k] = texels[base + i * 4 + k] } }
            return Tensor(shape: [1, inputHeight, inputWidth, c], data: data)
        }
        return try run(batch: inputs)
    }

    public func run(batch: [Tensor]) throws -> [[Tensor]] {
        let t0 = Date()
        var results = [Result<[Tensor], Error>?](repeating: nil, count: batch.count)
        let graph = self.graph
        results.withUnsafeMutableBufferPointer { slots in
            let out = slots
            DispatchQueue.concurrentPerform(iterations: batch.count) { i in
                out[i] = Result { try CPUReference().run(graph: graph, inputs: [batch[i]]) }
            }
        }
        lastRunSeconds = Date().timeIntervalSince(t0)
        return try results.map { try $0!.get() }
    }
}

/// The four networks of face analysis.
public struct FaceNetworks {
    public var detector: ImageNetworkRunner
    public var landmarks: ImageNetworkRunner
    public var blendshapes: TensorNetworkRunner
    public var emotion: ImageNetworkRunner
    /// A user's classifier on the emotion crop (`FaceResult.classes`), if any.
    public var classifier: FaceClassifier?

    public init(detector: ImageNetworkRunner, landmarks: ImageNetworkRunner,
                blendshapes: TensorNetworkRunner, emotion: ImageNetworkRunner, classifier: FaceClassifier? = nil) {
        self.detector = detector; self.landmarks = landmarks; self.blendshapes = blendshapes; self.emotion = emotion
        self.classifier = classifier
    }

    public static let landmarkerBundle = "face_landmarker.task"
    public static let detectorMember = "face_detector.tflite"
    public static let landmarksMember = "face_landmarks_detector.tflite"
    public static let blendshapesMember = "face_blendshapes.tflite"
    public static let emotionFile = "emotion_fer_quantized.tflite"

    public typealias Graphs = (detector: Graph, landmarks: Graph, blendshapes: Graph, emotion: Graph)

    /// The graphs from a Models/ folder, read once per process (`GraphStore`).
    public static func loadGraphs(modelsDirectory dir: URL) throws -> Graphs {
        try GraphStore.shared.graphs(dir)
    }

    /// Starts reading a Models/ folder's graphs on a thread of their own, so a job's later `loadGraphs`
    /// finds them read (or waits for the rest) while it meanwhile opens its input and its GPU context.
    public static func prefetchGraphs(modelsDirectory dir: URL) {
        GraphStore.shared.prefetch(dir)
    }

    /// CPU-reference runners (exact; seconds per frame). Swap for the GPU engine's runners when it lands.
    public static func cpuReference(context: GPUContext, modelsDirectory: URL) throws -> FaceNetworks {
        let g = try loadGraphs(modelsDirectory: modelsDirectory)
        return FaceNetworks(detector: try CPUNetworkRunner(graph: g.detector, context: context),
                            landmarks: try CPUNetworkRunner(graph: g.landmarks, context: context),
                            blendshapes: try CPUNetworkRunner(graph: g.blendshapes, context: nil),
                            emotion: try CPUNetworkRunner(graph: g.emotion, context: context))
    }
}

/// The face networks' graphs by Models/ folder, parsed once per process (~50 ms of CPU: unzipping the
/// .task bundle, dequantizing): every lane of a segmented analysis, every file of a batch and every batch
/// size of a network share them. A folder is read again when its files' sizes or dates change.
final class GraphStore {
    static let shared = GraphStore()
    private struct Entry { var stamp: [String]; var result: Result<FaceNetworks.Graphs, Error>? }
    private let condition = NSCondition()
    private var entries: [String: Entry] = [:]

    func prefetch(_ dir: URL) {
        makeNamedThread("fx.graphs") { _ = try? self.graphs(dir) }.start()
    }

    /// The folder's graphs; when another thread is reading them, waits for its result.
    func graphs(_ dir: URL) throws -> FaceNetworks.Graphs {
        let task = dir.appendingPathComponent(FaceNetworks.landmarkerBundle)
        let emo = dir.appendingPathComponent(FaceNetworks.emotionFile)
        let stamp = [task, emo].map { f -> String in
            let a = try? FileManager.default.attributesOfItem(atPath: f.path)
            return "\(a?[.size] ?? "-") \((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
        let key = dir.standardizedFileURL.path
        condition.lock()
        while let e = entries[key], e.stamp == stamp, e.result == nil { condition.wait() }
        if let e = entries[key], e.stamp == stamp, let r = e.result { condition.unlock(); return try r.get() }
        entries[key] = Entry(stamp: stamp, result: nil)
        condition.unlock()
        let result = Result { () throws -> FaceNetworks.Graphs in
            for f in [task, emo] where !FileManager.default.fileExists(atPath: f.path) {
                throw NetworkRunnerError.modelNotFound(f.path)
            }
            return (try Graph(contentsOf: task, member: FaceNetworks.detectorMember),
                    try Graph(contentsOf: task, member: FaceNetworks.landmarksMember),
                    try Graph(contentsOf: task, member: FaceNetworks.blendshapesMember),
                    try Graph(contentsOf: emo))
        }
        condition.lock()
        // A failure is not kept: the next job reads the folder again (its message names what is wrong now).
        if case .success = result { entries[key] = Entry(stamp: stamp, result: result) } else { entries[key] = nil }
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }
}
