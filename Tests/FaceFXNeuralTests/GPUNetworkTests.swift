// Whole networks on the GPU against the TFLite goldens (tools/goldens): fp32 within 1e-3 x
// output range, fp16 within 2e-2 x range (range floored at 1 for scalar outputs), landmarks
// within 0.5 px mean in the 256-px crop for fp16; batching, liveness/no per-run GL objects,
// and finite outputs for +-1e4 inputs.
import XCTest
import FaceFXGPU
@testable import FaceFXNeural

final class GPUNetworkTests: XCTestCase {
    /// Compiled networks are cached per (model, precision, batch): compiling is the slow part.
    static var cache: [String: CompiledNetwork] = [:]

    func network(_ model: String, _ p: TensorPrecision, batch: Int = 1, kind: NeuralEngine.PassKind = .fragment) throws -> CompiledNetwork {
        let key = "\(model)|\(p)|\(batch)|\(kind)"
        if let n = Self.cache[key] { return n }
        let n = try gpuEngine(p, kind).compile(try TestModels.graph(model), batch: batch)
        Self.cache[key] = n
        return n
    }

    @discardableResult
    func check(_ caseName: String, expectedOverride: [Tensor]? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [TensorPrecision: [Float]] {
        let g = try GoldenCase.load(caseName)
        var result: [TensorPrecision: [Float]] = [:]
        for kind in NeuralEngine.PassKind.allCases { for p in TensorPrecision.allCases {
            let net = try network(g.modelName, p, kind: kind)
            let t0 = Date()
            let outs = try net.run(inputs: [g.input])
            let ms = Date().timeIntervalSince(t0) * 1000
            var rels: [Float] = []
            for (k, exp) in g.outputs.enumerated() {
                let expected = expectedOverride?[k] ?? exp.tensor
                XCTAssertEqual(outs[k].count, expected.count, file: file, line: line)
                guard outs[k].count == expected.count else { continue }
                let range = max((expected.data.max() ?? 0) - (expected.data.min() ?? 0), 1.0)
                var err: Float = 0
                for i in expected.data.indices {
                    XCTAssertTrue(outs[k].data[i].isFinite, file: file, line: line)
                    err = max(err, abs(outs[k].data[i] - expected.data[i]))
                }
                let tol: Float = p == .fp32 ? 1e-3 : 2e-2
                XCTAssertLessThanOrEqual(err, tol * range, "\(caseName) [\(p) \(kind)] output \(exp.name)", file: file, line: line)
                rels.append(err / range)
                print(String(format: "GPU golden %@ [%@ %@] output %@: max abs error %.4g (range %.4g, rel %.3g), %d passes, %.1f ms",
                             caseName, p.rawValue, kind.rawValue, exp.name, err, range, err / range, net.passCount, ms))
            }
            if kind == .fragment { result[p] = rels }
        }}
        return result
    }

    func testDetector() throws {
        try check("detector_astronaut")
        try check("detector_camera")
    }

    func testFullRangeDetector() throws { try check("detector_fullrange_astronaut") }

    func testBlendshapes() throws { try check("blendshapes_astronaut") }

    func testEmotion() throws {
        let fw = Tensor(shape: [1, 7], data: GoldenCase.floats(try Data(contentsOf: GoldenCase.dir.appendingPathComponent("emotion_astronaut.fw.out0.f32"))))
        try check("emotion_astronaut", expectedOverride: [fw])
    }

    func testLandmarks() throws {
        for name in ["landmarks_astronaut", "landmarks_camera"] {
            try check(name)
            let g = try GoldenCase.load(name)
            for kind in NeuralEngine.PassKind.allCases {
            let out = try network(g.modelName, .fp16, kind: kind).run(inputs: [g.input])[0].data
            let exp = g.outputs[0].tensor.data
            var sum: Float = 0, worst: Float = 0
            for i in 0..<(exp.count / 3) {
                let d = ((out[3 * i] - exp[3 * i]) * (out[3 * i] - exp[3 * i]) + (out[3 * i + 1] - exp[3 * i + 1]) * (out[3 * i + 1] - exp[3 * i + 1])).squareRoot()
                sum += d; worst = max(worst, d)
            }
            let mean = sum / Float(exp.count / 3)
            print(String(format: "GPU golden %@ [fp16 %@]: landmark error mean %.4f px, max %.4f px", name, kind.rawValue, mean, worst))
            XCTAssertLessThanOrEqual(mean, 0.5)
            }
        }
    }

    /// The baked-convolution path (the default on llvmpipe) on the real landmark and detector goldens, fp16.
    func testBakedKernelsMatchGoldens() throws {
        for name in ["landmarks_astronaut", "detector_astronaut"] {
            let g = try GoldenCase.load(name)
            let net = try bakedEngine(.fp16).compile(try TestModels.graph(g.modelName))
            XCTAssertGreaterThan(net.planarTensorCount, 0, "\(name): some convolutions are baked")
            let out = try net.run(inputs: [g.input])
            for (k, expected) in g.outputs.enumerated() {
                let e = expected.tensor.data, o = out[k].data
                let range = max(1, (e.max() ?? 0) - (e.min() ?? 0))
                var worst: Float = 0
                for i in e.indices { worst = max(worst, abs(o[i] - e[i])) }
                print(String(format: "baked %@ [fp16] output %d: max error %.2e of range", name, k, worst / range))
                XCTAssertLessThanOrEqual(worst / range, 2e-2, "\(name) output \(k)")
            }
        }
    }

    /// With compute passes the outputs come back gathered into one storage buffer: the same values as
    /// reading each output texture with glReadPixels, for every replica of a batch.
    func testGatheredOutputsEqualTextureReadback() throws {
        let g = try GoldenCase.load("landmarks_astronaut")
        let net = try network(g.modelName, .fp16, batch: 3, kind: .compute)
        XCTAssertTrue(net.gathersOutputs)
        var rng = SeededRNG(seed: 9)
        let other = g.input.data.map { $0 + rng.float(-0.2, 0.2) }
        _ = try net.run(inputs: [Tensor(shape: [3] + g.input.shape.dropFirst(), data: g.input.data + other + g.input.data)])
        let gathered = try net.readOutputs()
        let direct = try net.graph.outputs.map { try net.readTensor($0) }
        XCTAssertEqual(gathered.count, direct.count)
        for (a, b) in zip(gathered, direct) {
            XCTAssertEqual(a.shape, b.shape)
            XCTAssertEqual(a.data, b.data)
        }
    }

    /// Fusion G on the real networks, compute passes, batch 2: the chain of the landmark network's 4x4 and 2x2
    /// stages gives the values of a pass per node, with fewer passes. With nodes of up to 4096 texels allowed (the
    /// detector's 8x8 blocks chain too, and the landmark network's chain takes in its 8x8 stage where the shared
    /// memory lets it), the same; planned for twice the driver's shared memory, the chains it refuses run as a
    /// pass per node: the same values again.
    func testItemChainsMatchSeparatePasses() throws {
        for name in ["landmarks_astronaut", "detector_astronaut"] {
            let g = try GoldenCase.load(name)
            let graph = try TestModels.graph(g.modelName)
            let input = Tensor(shape: [2] + g.input.shape.dropFirst(), data: g.input.data + g.input.data.reversed())
            func run(chains: Bool, nodeTexels: Int? = nil, sharedBytes: Int? = nil) throws -> (CompiledNetwork, [[Float]]) {
                let e = NeuralEngine(context: try gpuContext(), precision: .fp16)
                e.passKind = .compute
                e.itemChains = chains
                if let nodeTexels { e.chainNodeTexels = nodeTexels }
                if let sharedBytes { e.chainSharedBytes = sharedBytes }
                let net = try e.compile(graph, batch: 2)
                return (net, try net.run(inputs: [input]).map(\.data))
            }
            let (separate, b) = try run(chains: false)
            if name.hasPrefix("landmarks") {
                let (chained, a) = try run(chains: true)
                XCTAssertTrue(chained.passListing().contains("CHAIN"), chained.passListing())
                XCTAssertLessThan(chained.passCount, separate.passCount)
                XCTAssertEqual(a, b, name)
                print("item chains \(name): \(separate.passCount) → \(chained.passCount) passes")
            }
            let (large, a) = try run(chains: true, nodeTexels: 4096)
            XCTAssertLessThan(large.passCount, separate.passCount, name)
            XCTAssertEqual(a, b, "\(name): nodes up to 4096 texels")
            let limit = try gpuContext().maxComputeSharedBytes
            let (refused, c) = try run(chains: true, nodeTexels: 4096, sharedBytes: 2 * limit)
            XCTAssertEqual(c, b, "\(name): chains the driver refuses")
            for line in refused.passListing().split(separator: "\n") where line.contains("CHAIN") {
                let kb = line.firstMatch(of: #/(\d+) KB shared/#).flatMap { Int($0.1) }
                XCTAssertLessThanOrEqual(kb ?? .max, limit / 1024, String(line))
            }
            print("item chains \(name), nodes up to 4096 texels: \(large.passCount) passes; planned for \(2 * limit / 1024) KB of shared memory: \(refused.passCount)")
        }
    }

    /// The same crop three times in one batch: three identical results, equal to batch 1.
    func testBatchOfThreeEqualsBatchOne() throws {
        let g = try GoldenCase.load("landmarks_astronaut")
        for p in TensorPrecision.allCases { for kind in NeuralEngine.PassKind.allCases {
            let one = try network(g.modelName, p, kind: kind).run(inputs: [g.input])
            let net3 = try network(g.modelName, p, batch: 3, kind: kind)
            let three = try net3.run(inputs: [Tensor(shape: [3] + g.input.shape.dropFirst(), data: g.input.data + g.input.data + g.input.data)])
            for k in one.indices {
                let n = one[k].count
                XCTAssertEqual(three[k].count, 3 * n)
                XCTAssertEqual(three[k].shape.first, 3)
                for r in 0..<3 {
                    XCTAssertEqual(Array(three[k].data[(r * n)..<((r + 1) * n)]), one[k].data, "[\(p) \(kind)] output \(k) replica \(r)")
                }
            }
        }}
        // Blendshapes (rank-3 input, rank-1 output): replicas stay independent.
        let bg = try GoldenCase.load("blendshapes_astronaut")
        var rng = SeededRNG(seed: 3)
        let other = bg.input.data.map { $0 + rng.float(-5, 5) }
        let bnet = try network(bg.modelName, .fp32, batch: 2)
        let two = try bnet.run(inputs: [Tensor(shape: [2, 146, 2], data: bg.input.data + other)])[0]
        let a = try network(bg.modelName, .fp32).run(inputs: [bg.input])[0]
        let b = try network(bg.modelName, .fp32).run(inputs: [Tensor(shape: [1, 146, 2], data: other)])[0]
        XCTAssertEqual(two.shape, [2, 52])
        XCTAssertEqual(Array(two.data[0..<52]), a.data)
        XCTAssertEqual(Array(two.data[52..<104]), b.data)
    }

    /// Compile creates everything: three inferences create no GL object.
    func testNoGLObjectsCreatedPerInference() throws {
        let ctx = try gpuContext()
        let g = try GoldenCase.load("detector_astronaut")
        let net = try network(g.modelName, .fp16, batch: 2)
        let input = Tensor(shape: [2, 128, 128, 3], data: g.input.data + g.input.data)
        _ = try net.run(inputs: [input])
        let before = ctx.debugCounters
        for _ in 0..<3 { _ = try net.run(inputs: [input]) }
        net.context.finish()
        XCTAssertEqual(ctx.debugCounters, before)
        XCTAssertGreaterThan(net.activationBytes, 0)
        XCTAssertGreaterThan(net.weightBytes, 0)
    }

    /// Liveness: the landmark network's pooled activations take far less than one texture per tensor.
    func testActivationTexturesAreReused() throws {
        let g = try TestModels.graph("face_landmarks_detector.tflite")
        let net = try network("face_landmarks_detector.tflite", .fp16)
        var all = 0
        for t in g.tensors where !t.isConstant {
            let l = try TensorLayout(shape: t.shape, replicas: 1)
            all += l.width * l.height * 8
        }
        print("landmarks: \(net.passCount) passes, activations \(net.activationBytes) bytes (\(all) without reuse), weights \(net.weightBytes) bytes")
        XCTAssertLessThan(net.activationBytes * 4, all)
    }

    /// +-1e4 inputs: every output of the landmark network stays finite (fp16 and fp32).
    func testHugeInputsStayFinite() throws {
        var rng = SeededRNG(seed: 11)
        for p in TensorPrecision.allCases { for kind in NeuralEngine.PassKind.allCases {
            let net = try network("face_landmarks_detector.tflite", p, kind: kind)
            for scale: Float in [1e4, -1e4] {
                let x = Tensor(shape: [1, 256, 256, 3], data: (0..<(256 * 256 * 3)).map { _ in scale * rng.float(0.5, 1) * (rng.next() % 2 == 0 ? 1 : -1) })
                for (k, o) in try net.run(inputs: [x]).enumerated() {
                    XCTAssertTrue(o.data.allSatisfy(\.isFinite), "[\(p) \(kind)] output \(k) not finite for inputs of \(scale)")
                }
            }
        }}
    }

    /// An op without a kernel fails at compile with the model and op named.
    func testUnsupportedRankIsACompileError() throws {
        var b = TestGraphBuilder(seed: 1)
        let x = b.input([1, 2, 3, 4, 5])
        let y = b.op(.relu, .none, [x])
        XCTAssertThrowsError(try gpuEngine(.fp32).compile(b.graph(outputs: [y], name: "five.tflite"))) { e in
            XCTAssertTrue("\(e)".contains("rank 5"), "\(e)")
        }
    }
}
