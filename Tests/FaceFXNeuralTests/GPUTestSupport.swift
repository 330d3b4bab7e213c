// Shared pieces of the GPU engine tests: one GL context for all of them (creating one per
// test would dominate on llvmpipe), a seeded RNG and a small graph builder that derives shapes
// by running the CPU reference.
import Foundation
import XCTest
import FaceFXGPU
@testable import FaceFXNeural

enum GPUShared {
    static let context: Result<GPUContext, Error> = Result { try GPUContext(device: .auto) }
    static var engines: [String: NeuralEngine] = [:]
    static var bakedEngines: [TensorPrecision: NeuralEngine] = [:]
}

func gpuContext() throws -> GPUContext {
    switch GPUShared.context {
    case .success(let c): return c
    case .failure(let e): throw MissingTestInput("no GL context: \(e)")
    }
}

/// One engine (program cache) per precision and pass kind (fragment / compute), shared by the tests.
/// `halfWeights` nil: the engine's default for the pass kind (fp16 weights with compute passes);
/// the op tests on random weights pass false (fp16 rounding of arbitrary weights is not what they test).
/// `chains` false: compute passes without fusion G (ItemChainKernel), so that small test graphs run each kernel's own pass.
func gpuEngine(_ p: TensorPrecision, _ kind: NeuralEngine.PassKind = .fragment, halfWeights: Bool? = nil, chains: Bool = true) throws -> NeuralEngine {
    let key = "\(p)-\(kind)-\(halfWeights.map(String.init) ?? "default")-\(chains)"
    if let e = GPUShared.engines[key] { return e }
    let e = NeuralEngine(context: try gpuContext(), precision: p)
    e.passKind = kind
    e.itemChains = chains
    if let h = halfWeights { e.halfWeightsOverride = h }
    // The standard kernels here; the baked ones (hundreds of programs to compile) have their own tests.
    e.bakedKernels = false
    GPUShared.engines[key] = e
    return e
}

/// Runs `body` for each precision with the default fp32ElementLimit and with 0 (every activation but the outputs
/// fp16: the fp16 roundings), giving it a maker of private engines with compute passes and fp32 weights (the op
/// tests' random weights are not fp16 values), each set up by the closure passed to it.
func forEachPrecisionAndFP32Limit(_ body: (_ p: TensorPrecision, _ limit: Int,
                                           _ engine: ((NeuralEngine) -> Void) throws -> NeuralEngine) throws -> Void) throws {
    for p in TensorPrecision.allCases {
        for limit in [32768, 0] {
            try body(p, limit) { configure in
                let e = NeuralEngine(context: try gpuContext(), precision: p, fp32ElementLimit: limit)
                e.passKind = .compute
                e.halfWeightsOverride = false
                configure(e)
                return e
            }
        }
    }
}

/// An engine with baked convolutions (the default on llvmpipe), for the tests of that path.
func bakedEngine(_ p: TensorPrecision) throws -> NeuralEngine {
    if let e = GPUShared.bakedEngines[p] { return e }
    let e = NeuralEngine(context: try gpuContext(), precision: p)
    e.bakedKernels = true
    GPUShared.bakedEngines[p] = e
    return e
}

/// SplitMix64 with fixed seeds.
struct SeededRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
    mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, data: floats(shape.reduce(1, *), lo, hi))
    }
}

/// Builds small graphs op by op; output shapes come from the CPU reference on sample values.
struct TestGraphBuilder {
    var tensors: [GraphTensor] = []
    var ops: [GraphOp] = []
    var inputs: [Int] = []
    var values: [Tensor] = []
    /// Value range of each input, used again for the parity inputs.
    var inputRanges: [(Float, Float)] = []
    var rng: SeededRNG

    init(seed: UInt64) { rng = SeededRNG(seed: seed) }

    mutating func input(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Int {
        let i = tensors.count
        tensors.append(GraphTensor(index: i, name: "input\(inputs.count)", shape: shape, constant: nil))
        values.append(rng.tensor(shape, lo, hi))
        inputs.append(i)
        inputRanges.append((lo, hi))
        return i
    }

    mutating func constant(_ t: Tensor) -> Int {
        let i = tensors.count
        tensors.append(GraphTensor(index: i, name: "const\(i)", shape: t.shape, constant: t.data))
        values.append(t)
        return i
    }

    mutating func constant(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Int { constant(rng.tensor(shape, lo, hi)) }

    mutating func op(_ kind: OpKind, _ options: OpOptions, _ ins: [Int]) -> Int {
        let i = tensors.count
        let op = GraphOp(kind: kind, options: options, inputs: ins, outputs: [i], sourceIndex: ops.count)
        let v = CPUReference.evaluate(op, ins.map { values[$0] })
        tensors.append(GraphTensor(index: i, name: "\(kind.rawValue.lowercased())\(i)", shape: v.shape, constant: nil))
        values.append(v)
        ops.append(op)
        return i
    }

    func graph(outputs: [Int], name: String = "test") -> Graph {
        Graph(name: name, tensors: tensors, ops: ops, inputs: inputs, outputs: outputs, batch: 1, notes: [],
              fileReshapeTargets: [:])
    }
}

struct ParityResult {
    var maxError: Float
    var range: Float
    var passes: Int
}

/// Runs `graph` on the GPU for `batch` random replicas and compares every output with the CPU
/// reference run per replica. Tolerance: `tolerance` x (output range, floored at `floor`).
@discardableResult
func checkParity(_ graph: Graph, batch: Int = 3, precision: TensorPrecision, kind: NeuralEngine.PassKind = .fragment, chains: Bool = false,
                 tolerance: Float? = nil, floor: Float = 1e-3,
                 seed: UInt64 = 7, inputRanges: [(Float, Float)]? = nil, label: String = "",
                 file: StaticString = #filePath, line: UInt = #line) throws -> ParityResult {
    let net = try gpuEngine(precision, kind, halfWeights: false, chains: chains).compile(graph, batch: batch)
    var rng = SeededRNG(seed: seed)
    let replicaInputs: [[Tensor]] = (0..<batch).map { _ in
        graph.inputs.indices.map { k in
            let r = inputRanges?[k] ?? (-1, 1)
            return rng.tensor(graph.tensors[graph.inputs[k]].shape, r.0, r.1)
        }
    }
    let stacked = graph.inputs.indices.map { k in
        Tensor(shape: [batch * replicaInputs[0][k].count], data: replicaInputs.flatMap { $0[k].data })
    }
    let gpu = try net.run(inputs: stacked)
    let cpu = try replicaInputs.map { try CPUReference().run(graph: graph, inputs: $0) }
    var worst = ParityResult(maxError: 0, range: 0, passes: net.passCount)
    let tol = tolerance ?? (precision == .fp32 ? 1e-4 : 1e-2)
    for k in graph.outputs.indices {
        let expected = cpu.flatMap { $0[k].data }
        let got = gpu[k].data
        XCTAssertEqual(got.count, expected.count, "\(label) output \(k) size", file: file, line: line)
        guard got.count == expected.count else { continue }
        let range = max((expected.max() ?? 0) - (expected.min() ?? 0), floor)
        var err: Float = 0
        for i in got.indices {
            XCTAssertTrue(got[i].isFinite, "\(label) output \(k)[\(i)] = \(got[i])", file: file, line: line)
            err = max(err, abs(got[i] - expected[i]))
        }
        XCTAssertLessThanOrEqual(err, tol * range, "\(label) [\(precision) \(kind)] output \(k): max error \(err), range \(range)",
                                 file: file, line: line)
        if k == 0 || err / range > worst.maxError / worst.range { worst.maxError = err; worst.range = range }
    }
    return worst
}
