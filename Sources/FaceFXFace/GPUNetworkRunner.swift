// The GPU engine behind the face module's runner protocols: network inputs are rendered by the
// crop shaders straight into the compiled network's input texture, every layer runs as a shader
// pass, and only the small outputs are read back.
import FaceFXGPU
import FaceFXNeural
import Foundation

/// Runs one graph with FaceFXNeural's shader engine. A network is compiled for a fixed batch, so
/// the runner keeps one compiled copy per batch size it has needed (1, 2, 4, then multiples of 8:
/// a handful over a whole video, made the first time a frame needs one, never per frame). Sizes are
/// rounded up only that far because every unused replica costs as much as a used one.
public final class GPUNetworkRunner: ImageNetworkRunner, TensorNetworkRunner {
    public let graph: Graph
    public var outputElementCounts: [Int] { graph.outputShapes.map { $0.reduce(1, *) } }
    public let engine: NeuralEngine
    public let inputWidth: Int
    public let inputHeight: Int
    public let inputChannels: Int
    public let maxBatch: Int
    private var compiled: [Int: CompiledNetwork] = [:]
    private var current: CompiledNetwork?

    public init(graph: Graph, engine: NeuralEngine, maxBatch: Int = 128) throws {
        self.graph = graph
        self.engine = engine
        let shape = graph.inputShapes.first ?? []
        if shape.count == 4, shape[0] == 1, shape[3] <= 4 {
            inputHeight = shape[1]; inputWidth = shape[2]; inputChannels = shape[3]
            let byTexture = engine.context.maxTextureSize / max(inputHeight, 1)
            self.maxBatch = max(1, min(maxBatch, byTexture))
        } else {
            inputHeight = 0; inputWidth = 0; inputChannels = 0
            self.maxBatch = maxBatch
        }
        _ = try network(forCount: 1)  // compile batch 1 now: load-time errors surface here
    }

    /// Smallest compiled batch (1, 2, 4 or a multiple of 8) that holds `count` items.
    private func network(forCount count: Int) throws -> CompiledNetwork {
        var batch = 1
        while batch < count && batch < 8 { batch *= 2 }
        if count > 8 { batch = (count + 7) / 8 * 8 }
        batch = min(batch, maxBatch)
        if let net = compiled[batch] { return net }
        let net = try engine.compile(graph, batch: batch)
        compiled[batch] = net
        return net
    }

    public func inputTarget(capacity: Int) throws -> Framebuffer {
        guard inputChannels > 0 else {
            throw NetworkRunnerError.unsupportedInput("\(graph.name) has no image input of ≤ 4 channels")
        }
        guard capacity <= maxBatch else {
            throw NetworkRunnerError.unsupportedInput("\(capacity) items > maxBatch \(maxBatch) for \(graph.name)")
        }
        let net = try network(forCount: capacity)
        current = net
        return net.inputFramebuffer(0)
    }

    public func run(count: Int) throws -> [[Tensor]] {
        guard count > 0 else { return [] }
        guard let net = current, net.batch >= count else {
            throw NetworkRunnerError.unsupportedInput("run(count: \(count)) before inputTarget(capacity:)")
        }
        try net.encode()
        return try split(net.readOutputs(), batch: net.batch, count: count)
    }

    /// Compacted on the GPU (`CompiledNetwork.readRows`): only the passing rows are read back.
    public func runRows(count: Int, score: Int, data: Int, threshold: Float) throws -> [[ScoredRow]] {
        guard count > 0 else { return [] }
        guard let net = current, net.batch >= count else {
            throw NetworkRunnerError.unsupportedInput("runRows(count: \(count)) before inputTarget(capacity:)")
        }
        try net.encode()
        return try net.readRows(score: score, data: data, count: count, threshold: threshold)
    }

    public func run(batch inputs: [Tensor]) throws -> [[Tensor]] {
        guard !inputs.isEmpty else { return [] }
        var results: [[Tensor]] = []
        var start = 0
        while start < inputs.count {
            let chunk = Array(inputs[start..<min(inputs.count, start + maxBatch)])
            let net = try network(forCount: chunk.count)
            // Unused replicas get zeros; their outputs are dropped.
            let perItem = chunk[0].count
            var data = [Float](); data.reserveCapacity(perItem * net.batch)
            for t in chunk { data += t.data }
            data += [Float](repeating: 0, count: perItem * (net.batch - chunk.count))
            let outs = try net.run(inputs: [Tensor(shape: [net.batch * perItem], data: data)])
            results += try split(outs, batch: net.batch, count: chunk.count)
            start += chunk.count
        }
        return results
    }

    /// Batched outputs → per-item tensors with the graph's batch-1 shapes.
    private func split(_ outputs: [Tensor], batch: Int, count: Int) throws -> [[Tensor]] {
        let shapes = graph.outputShapes
        return try (0..<count).map { n in
            try outputs.enumerated().map { k, t in
                let per = t.count / batch
                guard per * batch == t.count else {
                    throw NetworkRunnerError.badOutput("\(graph.name) output \(k): \(t.count) values for batch \(batch)")
                }
                return Tensor(shape: shapes[k], data: Array(t.data[(n * per)..<((n + 1) * per)]))
            }
        }
    }
}

extension FaceNetworks {
    /// The four networks on the GPU shader engine (one engine, one program cache).
    /// `blendshapesOnCPU`: the blendshapes MLP (a CPU tensor in, 126 tiny passes on the GPU) runs on
    /// the CPU (FaceFXNeural.CPUReference, exact fp32) instead. nil = automatic: on the CPU when the
    /// renderer is software (llvmpipe: ~5 ms of CPU per face instead of ~37 ms); `GPUTuning.blendshapesOnCPU`
    /// (FACEFX_BLENDSHAPES) overrides the automatic choice.
    /// `warmUpBakedKernels`: on software renderers, use the baked kernels if `BakedKernelWarmup` has put
    /// them in the shader cache, else start it (command-line jobs; tests keep the kernels fixed).
    public static func gpu(context: GPUContext, modelsDirectory: URL, precision: TensorPrecision = .fp16,
                           programs: ProgramCache? = nil, blendshapesOnCPU: Bool? = nil,
                           warmUpBakedKernels: Bool = false) throws -> FaceNetworks {
        let g = try loadGraphs(modelsDirectory: modelsDirectory)
        let engine = NeuralEngine(context: context, precision: precision, programs: programs)
        if warmUpBakedKernels && engine.passKind == .fragment && context.tuning.bakedKernels == nil {
            // Baked kernels once they are in the shader cache; until then they compile in the background.
            let baked = [(g.detector, [1, 32]), (g.landmarks, [1, 2]), (g.emotion, [1, 8])]
            if BakedKernelWarmup.isReady(baked.map(\.0)) {
                engine.bakedKernels = true
            } else {
                BakedKernelWarmup.start(baked.map { (graph: $0.0, batches: $0.1) }, precision: precision, tuning: context.tuning)
            }
        }
        let cpuBlendshapes = blendshapesOnCPU ?? context.tuning.blendshapesOnCPU ?? context.isSoftware
        let blendshapes: TensorNetworkRunner = cpuBlendshapes
            ? try CPUNetworkRunner(graph: g.blendshapes, context: nil)
            : try GPUNetworkRunner(graph: g.blendshapes, engine: engine, maxBatch: 32)
        return FaceNetworks(detector: try GPUNetworkRunner(graph: g.detector, engine: engine),
                            landmarks: try GPUNetworkRunner(graph: g.landmarks, engine: engine, maxBatch: 32),
                            blendshapes: blendshapes,
                            emotion: try GPUNetworkRunner(graph: g.emotion, engine: engine, maxBatch: 32))
    }
}

extension FaceNetworks {
    /// The networks the context's tuning asks for (`GPUTuning.networks`): the shader engine with fp16 or
    /// fp32 storage, or the exact plain-Swift reference (slow; for checking a result).
    public static func make(context: GPUContext, modelsDirectory: URL,
                            programs: ProgramCache? = nil, warmUpBakedKernels: Bool = false) throws -> FaceNetworks {
        switch context.tuning.networks {
        case .fp16: return try gpu(context: context, modelsDirectory: modelsDirectory, precision: .fp16, programs: programs,
                                   warmUpBakedKernels: warmUpBakedKernels)
        case .fp32: return try gpu(context: context, modelsDirectory: modelsDirectory, precision: .fp32, programs: programs,
                                   warmUpBakedKernels: warmUpBakedKernels)
        case .cpu: return try cpuReference(context: context, modelsDirectory: modelsDirectory)
        }
    }
}
