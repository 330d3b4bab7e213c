// The network `facefx train` trains, as a plain-Swift reference in Double: forward, backward (the
// gradient of the mean cross-entropy for every parameter) and the Adam step, written from the layer
// definitions. It is what the shader passes of training are checked against (and the gradients here
// against finite differences), and it exports itself as a .tflite (`TFLiteWriter`) that facefx's
// engines and the TFLite interpreter run.
//
// Architecture (Jeeliz-style: a few convolutions on a small grey input): 64×64×1 → 3 × (CONV_2D 3×3
// stride 2 SAME + ReLU: 8, 16, 32 channels; 32×32, 16×16, 8×8) → AVERAGE_POOL_2D 8×8 (global) → 32 →
// FULLY_CONNECTED → K logits → SOFTMAX. 5,987 parameters for 3 classes. The `rgb128` input (128×128×3:
// colour, and twice the resolution, for triggers grey 64 px cannot see) has the same layers on 64×64,
// 32×32, 16×16 maps: 6,131 parameters, 4× the arithmetic.
import Foundation

public struct FaceClassifierNet: Equatable {
    /// The crop the network reads: the aligned face crop in grey at 64 px (the emotion network's) or in
    /// colour at 128 px.
    public enum Input: String, CaseIterable, Sendable {
        case grey64, rgb128
        public var side: Int { self == .grey64 ? 64 : 128 }
        public var channels: Int { self == .grey64 ? 1 : 3 }
    }

    /// The convolutions' output channels.
    public static let widths = [8, 16, 32]
    public static let kernel = 3

    public let input: Input
    /// Input side (pixels) and channels per stage (input first).
    public var side: Int { input.side }
    public var channels: [Int] { [input.channels] + Self.widths }
    public let classes: Int
    /// Convolution filters [out, 3, 3, in] (TFLite's OHWI) and biases, one per stage.
    public var convWeights: [[Double]]
    public var convBiases: [[Double]]
    /// Dense weights [classes, 32] and biases.
    public var denseWeights: [Double]
    public var denseBiases: [Double]

    /// He-initialised filters, zero biases, from a seeded generator (same seed, same network).
    public init(classes: Int, seed: UInt64, input: Input = .grey64) {
        precondition(classes >= 2)
        self.classes = classes
        self.input = input
        var rng = TrainingRNG(seed: seed)
        let c = [input.channels] + Self.widths, k = Self.kernel
        convWeights = (0..<3).map { s in
            let fanIn = Double(k * k * c[s])
            return (0..<(c[s + 1] * k * k * c[s])).map { _ in rng.normal() * (2 / fanIn).squareRoot() }
        }
        convBiases = (0..<3).map { [Double](repeating: 0, count: c[$0 + 1]) }
        denseWeights = (0..<(classes * c[3])).map { _ in rng.normal() * (1 / Double(c[3])).squareRoot() }
        denseBiases = [Double](repeating: 0, count: classes)
    }

    /// Every parameter as one flat list (conv 1 weights, bias, conv 2 …, dense weights, dense bias), the
    /// order of `Gradients.flat` and of the optimiser's state.
    public var flat: [Double] {
        get { zip(convWeights, convBiases).flatMap { $0 + $1 } + denseWeights + denseBiases }
        set {
            var at = 0
            func take(_ n: Int) -> [Double] { defer { at += n }; return Array(newValue[at ..< at + n]) }
            for s in 0..<3 { convWeights[s] = take(convWeights[s].count); convBiases[s] = take(convBiases[s].count) }
            denseWeights = take(denseWeights.count)
            denseBiases = take(denseBiases.count)
        }
    }

    // MARK: forward

    /// What one forward pass keeps for the backward pass: each stage's input and output (after ReLU),
    /// the pooled features and the probabilities. Images are [N, H, W, C] (NHWC).
    public struct Activations {
        public var stages: [[Double]]   // stage s's input (s = 0: the images); stages[3]: the last conv's output
        public var pooled: [Double]     // [N, 32]
        public var probabilities: [Double]  // [N, classes]
    }

    /// Side of stage s's input (64, 32, 16, 8 for grey64).
    public func size(_ s: Int) -> Int { side >> s }

    /// `images`: N crops of the input's side and channels, values as the crop shader writes them, NHWC.
    public func forward(_ images: [Double], count n: Int) -> Activations {
        precondition(images.count == n * side * side * input.channels)
        var stages = [images]
        for s in 0..<3 { stages.append(Self.convForward(stages[s], n: n, size: size(s), cin: channels[s],
                                                         cout: channels[s + 1], w: convWeights[s], b: convBiases[s])) }
        let c = channels[3], hw = size(3) * size(3)
        var pooled = [Double](repeating: 0, count: n * c)
        for i in 0..<n { for p in 0..<hw { for k in 0..<c { pooled[i * c + k] += stages[3][(i * hw + p) * c + k] / Double(hw) } } }
        var probs = [Double](repeating: 0, count: n * classes)
        for i in 0..<n {
            var logits = (0..<classes).map { k in denseBiases[k] + (0..<c).reduce(0) { $0 + denseWeights[k * c + $1] * pooled[i * c + $1] } }
            let m = logits.max()!
            logits = logits.map { Foundation.exp($0 - m) }
            let z = logits.reduce(0, +)
            for k in 0..<classes { probs[i * classes + k] = logits[k] / z }
        }
        return Activations(stages: stages, pooled: pooled, probabilities: probs)
    }

    /// CONV_2D 3×3 stride 2, TFLite SAME padding (even sizes: none before, one after) + ReLU.
    static func convForward(_ x: [Double], n: Int, size: Int, cin: Int, cout: Int, w: [Double], b: [Double]) -> [Double] {
        let out = size / 2, k = kernel
        var y = [Double](repeating: 0, count: n * out * out * cout)
        for i in 0..<n { for oy in 0..<out { for ox in 0..<out { for o in 0..<cout {
            var s = b[o]
            for ky in 0..<k { for kx in 0..<k {
                let iy = 2 * oy + ky, ix = 2 * ox + kx
                guard iy < size, ix < size else { continue }
                let xb = ((i * size + iy) * size + ix) * cin, wb = ((o * k + ky) * k + kx) * cin
                for c in 0..<cin { s += w[wb + c] * x[xb + c] }
            }}
            y[((i * out + oy) * out + ox) * cout + o] = max(s, 0)
        }}}}
        return y
    }

    // MARK: loss and backward

    /// Mean cross-entropy of the probabilities against `labels` (class indices).
    public static func loss(_ a: Activations, labels: [Int], classes: Int) -> Double {
        labels.enumerated().reduce(0) { $0 - Foundation.log(max(a.probabilities[$1.offset * classes + $1.element], 1e-300)) } / Double(labels.count)
    }

    /// The gradient of the mean cross-entropy for every parameter, in `flat` order.
    public func gradients(_ a: Activations, labels: [Int]) -> [Double] {
        let n = labels.count, c = channels[3], hw = size(3) * size(3)
        // d loss / d logits = (p − onehot) / N
        var dLogits = a.probabilities.map { $0 / Double(n) }
        for (i, l) in labels.enumerated() { dLogits[i * classes + l] -= 1 / Double(n) }
        var dDenseW = [Double](repeating: 0, count: classes * c), dDenseB = [Double](repeating: 0, count: classes)
        var dPooled = [Double](repeating: 0, count: n * c)
        for i in 0..<n { for k in 0..<classes {
            let g = dLogits[i * classes + k]
            dDenseB[k] += g
            for j in 0..<c { dDenseW[k * c + j] += g * a.pooled[i * c + j]; dPooled[i * c + j] += g * denseWeights[k * c + j] }
        }}
        // Average pool: every position gets 1/hw of its channel's gradient.
        var dOut = [Double](repeating: 0, count: n * hw * c)
        for i in 0..<n { for p in 0..<hw { for k in 0..<c { dOut[(i * hw + p) * c + k] = dPooled[i * c + k] / Double(hw) } } }
        var convGrads: [(w: [Double], b: [Double])] = Array(repeating: ([], []), count: 3)
        for s in (0..<3).reversed() {
            let g = Self.convBackward(x: a.stages[s], y: a.stages[s + 1], dY: dOut, n: n, size: size(s),
                                      cin: channels[s], cout: channels[s + 1], w: convWeights[s], needInput: s > 0)
            convGrads[s] = (g.dW, g.dB)
            dOut = g.dX
        }
        return convGrads.flatMap { $0.w + $0.b } + dDenseW + dDenseB
    }

    /// Backward of `convForward` given its input, output (after ReLU) and the output's gradient.
    static func convBackward(x: [Double], y: [Double], dY: [Double], n: Int, size: Int, cin: Int, cout: Int, w: [Double],
                             needInput: Bool) -> (dX: [Double], dW: [Double], dB: [Double]) {
        let out = size / 2, k = kernel
        var dX = [Double](repeating: 0, count: needInput ? x.count : 0)
        var dW = [Double](repeating: 0, count: w.count), dB = [Double](repeating: 0, count: cout)
        for i in 0..<n { for oy in 0..<out { for ox in 0..<out { for o in 0..<cout {
            let at = ((i * out + oy) * out + ox) * cout + o
            guard y[at] > 0 else { continue }   // ReLU: no gradient where the output was clamped
            let g = dY[at]
            dB[o] += g
            for ky in 0..<k { for kx in 0..<k {
                let iy = 2 * oy + ky, ix = 2 * ox + kx
                guard iy < size, ix < size else { continue }
                let xb = ((i * size + iy) * size + ix) * cin, wb = ((o * k + ky) * k + kx) * cin
                for c in 0..<cin {
                    dW[wb + c] += g * x[xb + c]
                    if needInput { dX[xb + c] += g * w[wb + c] }
                }
            }}
        }}}}
        return (dX, dW, dB)
    }

    // MARK: export

    /// The network as a float32 .tflite with `labels` in its metadata (`FaceClassifier` loads it).
    public func tflite(labels: [String]) -> [UInt8] {
        precondition(labels.count == classes)
        var w = TFLiteWriter()
        var x = w.addTensor("crop", shape: [1, side, side, input.channels])
        let input = x
        for s in 0..<3 {
            let (cin, cout, size) = (channels[s], channels[s + 1], size(s + 1))
            let f = w.addTensor("conv\(s + 1)/filter", shape: [cout, 3, 3, cin], data: convWeights[s].map(Float.init))
            let b = w.addTensor("conv\(s + 1)/bias", shape: [cout], data: convBiases[s].map(Float.init))
            let y = w.addTensor("conv\(s + 1)", shape: [1, size, size, cout])
            w.addOperator(.conv2D(strideH: 2, strideW: 2, padding: .same, activation: .relu), inputs: [x, f, b], outputs: [y])
            x = y
        }
        let c = channels[3], last = size(3)
        let pooled = w.addTensor("pool", shape: [1, 1, 1, c])
        w.addOperator(.averagePool2D(filterH: last, filterW: last, strideH: last, strideW: last, padding: .valid), inputs: [x], outputs: [pooled])
        let shape = w.addInt32Tensor("features/shape", values: [1, c])
        let features = w.addTensor("features", shape: [1, c])
        w.addOperator(.reshape(newShape: [1, c]), inputs: [pooled, shape], outputs: [features])
        let dw = w.addTensor("dense/weights", shape: [classes, c], data: denseWeights.map(Float.init))
        let db = w.addTensor("dense/bias", shape: [classes], data: denseBiases.map(Float.init))
        let logits = w.addTensor("logits", shape: [1, classes])
        w.addOperator(.fullyConnected(activation: .none), inputs: [features, dw, db], outputs: [logits])
        let probs = w.addTensor("probabilities", shape: [1, classes])
        w.addOperator(.softmax(beta: 1), inputs: [logits], outputs: [probs])
        return w.write(inputs: [input], outputs: [probs], description: "facefx train",
                       metadata: [("facefx.labels", Array(labels.joined(separator: "\n").utf8))])
    }
}

/// Adam (Kingma & Ba 2015) over a flat parameter list.
public struct AdamOptimizer {
    public var learningRate: Double
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    private var m: [Double], v: [Double]
    private var step = 0

    public init(parameters: Int, learningRate: Double = 1e-3) {
        self.learningRate = learningRate
        m = [Double](repeating: 0, count: parameters); v = m
    }

    public mutating func update(_ params: inout [Double], gradients g: [Double]) {
        precondition(g.count == params.count && g.count == m.count)
        step += 1
        let c1 = 1 - Foundation.pow(beta1, Double(step)), c2 = 1 - Foundation.pow(beta2, Double(step))
        for i in params.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            params[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}

/// SplitMix64 and Box–Muller normals: the same numbers on every machine for a seed (initialisation,
/// shuffling, augmentation).
public struct TrainingRNG {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    public mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}
