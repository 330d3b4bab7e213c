// The training reference (`FaceClassifierNet`): its gradients against central finite differences for
// every layer, its .tflite export against its own forward pass in facefx's CPU reference, and a tiny
// separable task learnt to 100 %.
import FaceFXGPU
import Foundation
import XCTest
@testable import FaceFXNeural

final class FaceClassifierNetTests: XCTestCase {
    static func images(_ n: Int, seed: UInt64, input: FaceClassifierNet.Input = .grey64) -> [Double] {
        var rng = TrainingRNG(seed: seed)
        return (0..<(n * input.side * input.side * input.channels)).map { _ in rng.uniform() }
    }

    /// Analytic gradients = (L(θ+h) − L(θ−h)) / 2h, in Double, for parameters of every layer (weights and
    /// biases of the three convolutions and the dense layer), relative error < 1e-5 (the best of h = 1e-5, 1e-6, 1e-7);
    /// both inputs.
    func testGradientsMatchFiniteDifferences() {
        for input in FaceClassifierNet.Input.allCases { checkFiniteDifferences(input) }
    }

    func checkFiniteDifferences(_ input: FaceClassifierNet.Input) {
        var net = FaceClassifierNet(classes: 3, seed: 7, input: input)
        // Non-zero biases, so their gradients pass through active and clamped ReLUs alike.
        net.convBiases = net.convBiases.map { $0.enumerated().map { Double($0.offset % 5) * 0.02 - 0.03 } }
        net.denseBiases = [0.1, -0.2, 0.05]
        let x = Self.images(3, seed: 11, input: input), labels = [0, 2, 1]
        let analytic = net.gradients(net.forward(x, count: 3), labels: labels)
        let sizes = zip(net.convWeights, net.convBiases).flatMap { [$0.count, $1.count] } + [net.denseWeights.count, net.denseBiases.count]
        var start = 0, checked = 0
        var rng = TrainingRNG(seed: 3)
        for (group, size) in sizes.enumerated() {
            for _ in 0..<6 {
                let i = start + Int(rng.next() % UInt64(size))
                // The best of three steps: a ReLU whose input sits within ±h of its kink (rgb128 has 4x the
                // activations, so some do at 1e-5) bends the difference; a smaller step clears it, until
                // rounding takes over.
                let errors = [1e-5, 1e-6, 1e-7].map { h -> Double in
                    var p = net.flat
                    p[i] += h; var plus = net; plus.flat = p
                    p[i] -= 2 * h; var minus = net; minus.flat = p
                    let numeric = (FaceClassifierNet.loss(plus.forward(x, count: 3), labels: labels, classes: 3)
                        - FaceClassifierNet.loss(minus.forward(x, count: 3), labels: labels, classes: 3)) / (2 * h)
                    return abs(numeric - analytic[i]) / max(abs(numeric), abs(analytic[i]), 1e-4)
                }
                XCTAssertLessThan(errors.min()!, 1e-5, "\(input) group \(group) parameter \(i): \(analytic[i]), relative errors \(errors)")
                checked += 1
            }
            start += size
        }
        XCTAssertEqual(checked, 48)
        XCTAssertEqual(start, net.flat.count)
    }

    /// The exported .tflite run by facefx's CPU reference gives the network's own probabilities (fp32
    /// weights vs the Double reference: 1e-5), and names its labels; both inputs.
    func testExportRunsAsTheNetwork() throws {
        for input in FaceClassifierNet.Input.allCases {
            let net = FaceClassifierNet(classes: 3, seed: 5, input: input)
            let x = Self.images(1, seed: 2, input: input)
            let expected = net.forward(x, count: 1).probabilities
            let model = try TFLiteModel(bytes: net.tflite(labels: ["a", "b", "c"]), name: "trained.tflite")
            let graph = try Graph(model: model)
            XCTAssertEqual(graph.inputShapes, [[1, input.side, input.side, input.channels]])
            let out = try CPUReference().run(graph: graph, inputs: [Tensor(shape: [1, input.side, input.side, input.channels],
                                                                           data: x.map(Float.init))])[0].data
            for (a, b) in zip(out, expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-5, "\(input)") }
            XCTAssertNotNil(model.metadata["facefx.labels"])
        }
        XCTAssertEqual(FaceClassifierNet(classes: 3, seed: 1, input: .rgb128).flat.count, 6_131)
    }

    /// Top half bright vs bottom half bright (with noise), 8 crops: Adam learns it to 100 % in 40 steps,
    /// and the loss falls; the same seed gives the same network.
    func testSeparableTaskReachesFullAccuracy() {
        var rng = TrainingRNG(seed: 9)
        var x: [Double] = [], labels: [Int] = []
        for i in 0..<8 {
            let label = i % 2
            labels.append(label)
            for y in 0..<64 { for _ in 0..<64 { x.append((y < 32) == (label == 0) ? 0.7 + 0.2 * rng.uniform() : 0.1 + 0.2 * rng.uniform()) } }
        }
        func train(seed: UInt64) -> (FaceClassifierNet, [Double]) {
            var net = FaceClassifierNet(classes: 2, seed: seed)
            var adam = AdamOptimizer(parameters: net.flat.count, learningRate: 0.01)
            var losses: [Double] = []
            for _ in 0..<40 {
                let a = net.forward(x, count: 8)
                losses.append(FaceClassifierNet.loss(a, labels: labels, classes: 2))
                var p = net.flat
                adam.update(&p, gradients: net.gradients(a, labels: labels))
                net.flat = p
            }
            return (net, losses)
        }
        let (net, losses) = train(seed: 1)
        let p = net.forward(x, count: 8).probabilities
        let predicted = (0..<8).map { p[2 * $0 + 1] > p[2 * $0] ? 1 : 0 }
        XCTAssertEqual(predicted, labels)
        XCTAssertLessThan(losses.last!, losses.first! / 4, "\(losses)")
        XCTAssertEqual(train(seed: 1).0, net, "deterministic with a seed")
    }
}

/// Training as GLES passes (`GPUClassifierTrainer`) against the Double reference: the probabilities, the
/// gradient of every parameter and the Adam step (fp32 on the GPU: relative 1e-4 of each layer's largest
/// value), and the separable task learnt on the GPU alone.
final class GPUClassifierTrainerTests: XCTestCase {
    func testGradientsAndStepMatchTheReference() throws {
        for input in FaceClassifierNet.Input.allCases { try checkAgainstReference(input) }
    }

    func checkAgainstReference(_ input: FaceClassifierNet.Input) throws {
        var net = FaceClassifierNet(classes: 3, seed: 21, input: input)
        net.convBiases = net.convBiases.map { $0.enumerated().map { Double($0.offset % 5) * 0.02 - 0.03 } }
        let x = FaceClassifierNetTests.images(4, seed: 5, input: input), labels = [2, 0, 1, 1]
        let trainer = try GPUClassifierTrainer(net: net, batch: 4, context: try gpuContext(), learningRate: 0.01)
        let reference = net.forward(x, count: 4)
        let probs = try trainer.predict(.values(x.map(Float.init)))
        for (a, b) in zip(probs, reference.probabilities) { XCTAssertEqual(Double(a), b, accuracy: 1e-5, "\(input) probabilities") }

        let expected = net.gradients(reference, labels: labels)
        let gpu = try trainer.gradient(.values(x.map(Float.init)), labels: labels)
        XCTAssertEqual(gpu.count, expected.count)
        let sizes = zip(net.convWeights, net.convBiases).map { $0.count + $1.count } + [net.denseWeights.count + net.denseBiases.count]
        var start = 0
        for (layer, size) in sizes.enumerated() {
            let ref = expected[start ..< start + size], got = gpu[start ..< start + size]
            let scale = ref.map(abs).max()!
            let worst = zip(ref, got).map { abs($0 - Double($1)) }.max()!
            XCTAssertLessThan(worst / scale, 1e-4, "\(input) layer \(layer): worst gradient error \(worst) of \(scale)")
            start += size
        }

        var adam = AdamOptimizer(parameters: net.flat.count, learningRate: 0.01)
        var p = net.flat
        adam.update(&p, gradients: expected)
        try trainer.step(.values(x.map(Float.init)), labels: labels)
        let stepped = try trainer.network().flat
        let worstStep = zip(p, stepped).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worstStep, 1e-5, "\(input): parameters after one Adam step (a step moves each by ~0.01)")
    }

    func testSeparableTaskOnTheGPU() throws {
        var rng = TrainingRNG(seed: 9)
        var x: [Float] = [], labels: [Int] = []
        for i in 0..<8 {
            let label = i % 2
            labels.append(label)
            for y in 0..<64 { for _ in 0..<64 { x.append(Float((y < 32) == (label == 0) ? 0.7 + 0.2 * rng.uniform() : 0.1 + 0.2 * rng.uniform())) } }
        }
        let trainer = try GPUClassifierTrainer(net: FaceClassifierNet(classes: 2, seed: 1), batch: 8, context: try gpuContext(), learningRate: 0.01)
        for _ in 0..<40 { try trainer.step(.values(x), labels: labels) }
        let p = try trainer.predict(.values(x))
        XCTAssertEqual((0..<8).map { p[2 * $0 + 1] > p[2 * $0] ? 1 : 0 }, labels)
        XCTAssertTrue(p.allSatisfy(\.isFinite))
    }

    /// Crops packed into the atlas from an RGBA crop target read back as their NHWC values, past a page
    /// (rgb128: 80 crops a page), and a batch gathered from the atlas gives exactly the probabilities of
    /// the same crops uploaded; both inputs.
    func testCropAtlasPacksReadsAndFeedsTheTrainer() throws {
        let c = try gpuContext()
        for input in FaceClassifierNet.Input.allCases {
            let side = input.side, channels = input.channels
            // Two crops of side × side RGBA texels, stacked; values exact in fp32.
            var rgba: [Float] = []
            for item in 0..<2 { for y in 0..<side { for x in 0..<side { for lane in 0..<4 {
                rgba.append(Float(item * 1000 + y * 7 + x * 3 + lane) / 4096 - 0.5)
            }}}}
            let target = try Texture(context: c, width: side, height: 2 * side, format: .rgba32f)
            try target.upload(floats: rgba)
            func expected(_ item: Int) -> [Float] {
                (0..<(side * side * channels)).map { k in
                    let p = k / channels
                    return rgba[((item * side + p / side) * side + p % side) * 4 + k % channels]
                }
            }
            let atlas = CropAtlas(context: c, input: input)
            let n = input == .rgb128 ? 82 : 6
            for i in 0..<n { XCTAssertEqual(try atlas.append(from: target, item: i % 2), i) }
            for i in [0, 1, n - 2, n - 1] { XCTAssertEqual(try atlas.read(i), expected(i % 2), "\(input) crop \(i)") }
            let trainer = try GPUClassifierTrainer(net: FaceClassifierNet(classes: 3, seed: 4, input: input), batch: 3, context: c)
            let indices = [n - 1, 0, 1]
            XCTAssertEqual(try trainer.predict(.atlas(atlas, indices)), try trainer.predict(.values(indices.flatMap { expected($0 % 2) })),
                           "\(input)")
        }
    }
}
