// Training `FaceClassifierNet` on the GPU, as GLES fragment passes (Shaders/train/): forward, the
// cross-entropy's gradient, backward through every layer and the Adam step, each a render-to-texture
// pass on fp32 textures (fp32 accumulation: gradients summed over a batch lose too much in fp16); only
// the probabilities come back per step. The same numbers as the Double reference within fp32 rounding
// (GPUClassifierTrainerTests). Texture layouts: Shaders/train/common.glsl (the convolutions' tensors and
// parameters four channels to an RGBA32F texel).
import FaceFXGPU
import Foundation

public final class GPUClassifierTrainer {
    public let context: GPUContext
    public let batch: Int
    public let classes: Int
    public var learningRate: Double
    private let programs: ProgramCache
    private let runner: PassRunner
    /// The network's shape (input, channels per stage, stage sides: `FaceClassifierNet`).
    private let shape: FaceClassifierNet

    /// Per layer (3 convolutions, then the dense layer): parameters and Adam moments, ping-ponged
    /// (a pass cannot read its target), and the gradient.
    private var params: [[Framebuffer]], m: [[Framebuffer]], v: [[Framebuffer]]
    private var current = 0
    private let gradients: [Framebuffer]
    /// Per-sample shares of each layer's gradient (one row per sample), summed into `gradients`.
    private let gradientShares: [Framebuffer]
    /// Activations: the images (uploaded), each convolution's output, the pooled features, the
    /// probabilities; and the gradients flowing back.
    private let images: Texture
    private let labels: Texture
    private let stages: [Framebuffer]
    private let pooled: Framebuffer, probabilities: Framebuffer, dLogits: Framebuffer
    /// Gradient at the output of convolution s (index s: 0, 1, 2), and the same through its ReLU.
    private let dStages: [Framebuffer]
    private let dReLU: [Framebuffer]
    private var step = 0

    /// A trainer for `batch` crops per step, starting from `net`'s parameters. `programs`: the job's
    /// cache (nil: its own).
    public init(net: FaceClassifierNet, batch: Int, context: GPUContext, learningRate: Double = 1e-3,
                programs: ProgramCache? = nil) throws {
        self.context = context
        self.batch = batch
        classes = net.classes
        self.learningRate = learningRate
        self.programs = programs ?? ProgramCache(context: context)
        runner = PassRunner(context: context)
        shape = net
        let c = net.channels
        precondition(c.dropFirst().allSatisfy { $0 % 4 == 0 }, "convolution widths pack four channels to a texel")
        func target(_ w: Int, _ h: Int, _ format: TextureFormat = .r32f) throws -> Framebuffer {
            try Framebuffer(context: context, color: Texture(context: context, width: w, height: h, format: format))
        }
        // Per layer: its parameter row's width and format (convolutions: four values a texel).
        var rows: [(width: Int, format: TextureFormat)] = (0..<3).map { s in ((c[s + 1] * 9 * c[s] + c[s + 1]) / 4, .rgba32f) }
        rows.append((net.classes * c[3] + net.classes, .r32f))
        params = try rows.map { [try target($0.width, 1, $0.format), try target($0.width, 1, $0.format)] }
        m = try rows.map { [try target($0.width, 1, $0.format), try target($0.width, 1, $0.format)] }
        v = try rows.map { [try target($0.width, 1, $0.format), try target($0.width, 1, $0.format)] }
        gradients = try rows.map { try target($0.width, 1, $0.format) }
        gradientShares = try rows.map { try target($0.width, batch, $0.format) }
        images = try Texture(context: context, width: net.side * c[0], height: batch * net.side, format: .r32f)
        labels = try Texture(context: context, width: 1, height: batch, format: .r32f)
        func activation(_ s: Int) throws -> Framebuffer { try target(net.size(s) * c[s] / 4, batch * net.size(s), .rgba32f) }
        stages = try (1...3).map(activation)
        dStages = try (1...3).map(activation)
        dReLU = try (1...3).map(activation)
        pooled = try target(c[3], batch)
        probabilities = try target(net.classes, batch)
        dLogits = try target(net.classes, batch)
        try load(net)
    }

    /// Replaces the parameters (and zeroes the optimiser's moments).
    public func load(_ net: FaceClassifierNet) throws {
        precondition(net.classes == classes)
        let layers = (0..<3).map { net.convWeights[$0] + net.convBiases[$0] } + [net.denseWeights + net.denseBiases]
        for (k, values) in layers.enumerated() {
            let order = rowOrder(layer: k)
            try params[k][current].color.upload(floats: order.map { Float(values[$0]) })
            for t in m[k] + v[k] { try t.clear() }
        }
        step = 0
    }

    /// The parameters now, as the reference network.
    public func network() throws -> FaceClassifierNet {
        var net = FaceClassifierNet(classes: classes, seed: 0, input: shape.input)
        net.flat = try layerValues(params.map { $0[current] }).map(Double.init)
        return net
    }

    /// Layer k's parameters in the order of its texture row: for each value there, its index in the
    /// layer's part of `FaceClassifierNet.flat` (convolutions: HWIO in the row, OHWI in the network; then
    /// the biases; the dense layer: the same order).
    private func rowOrder(layer k: Int) -> [Int] {
        let c = shape.channels
        guard k < 3 else { return Array(0 ..< classes * c[3] + classes) }
        let (cin, cout) = (c[k], c[k + 1])
        var order: [Int] = []
        order.reserveCapacity(9 * cin * cout + cout)
        for tap in 0..<9 { for i in 0..<cin { for o in 0..<cout { order.append((o * 9 + tap) * cin + i) } } }
        return order + (0..<cout).map { 9 * cin * cout + $0 }
    }

    /// The values of one texture row per layer (parameters or their gradient), in `FaceClassifierNet.flat` order.
    private func layerValues(_ rows: [Framebuffer]) throws -> [Float] {
        try rows.enumerated().flatMap { k, row -> [Float] in
            let stored = try Self.values(row), order = rowOrder(layer: k)
            var out = [Float](repeating: 0, count: order.count)
            for (position, index) in order.enumerated() { out[index] = stored[position] }
            return out
        }
    }

    /// A step's crops: values from the CPU (NHWC, `batch` crops of the network's input), or crops of an
    /// atlas on the GPU by index (copied on the GPU: `facefx train`).
    public enum Crops {
        case values([Float])
        case atlas(CropAtlas, [Int])
    }

    /// Forward pass of `batch` crops; returns the probabilities [batch, classes].
    public func predict(_ crops: Crops) throws -> [Float] {
        try forward(crops)
        return try Self.values(probabilities)
    }

    /// Forward, backward and one Adam step on a batch; returns the probabilities of the forward pass
    /// (for the loss and accuracy of the batch).
    @discardableResult
    public func step(_ crops: Crops, labels batchLabels: [Int]) throws -> [Float] {
        try backward(crops, labels: batchLabels)
        let out = try Self.values(probabilities)
        try adam()
        return out
    }

    /// The gradient of the mean cross-entropy for every parameter, in `FaceClassifierNet.flat` order
    /// (no step taken).
    public func gradient(_ crops: Crops, labels batchLabels: [Int]) throws -> [Float] {
        try backward(crops, labels: batchLabels)
        return try layerValues(gradients)
    }

    // MARK: passes

    private func program(_ name: String, _ defines: [String: Int]) throws -> Program {
        var d = defines.mapValues(String.init)
        d["TEXEL_FETCH"] = context.isSoftware ? "0" : "1"  // Shaders/train/common.glsl: which read is faster where
        return try programs.program("train/\(name).glsl", defines: d)
    }

    private func draw(_ name: String, _ defines: [String: Int], into target: Framebuffer, _ inputs: [(String, Texture)],
                      uniforms: [String: UniformValue] = [:]) throws {
        try runner.drawFullscreen(program: try program(name, defines), target: target,
                                  inputs: inputs.map { PassInput($0.0, $0.1) }, uniforms: uniforms)
    }

    /// Convolution s's shader defines (Shaders/train/conv_*.glsl): its channels, input side, and whether its
    /// input is a convolution's output (four channels a texel) or the images (scalars).
    private func convDefines(_ s: Int) -> [String: Int] {
        ["CIN": shape.channels[s], "COUT": shape.channels[s + 1], "SIN": shape.size(s), "X_PACKED": s > 0 ? 1 : 0]
    }

    private func forward(_ crops: Crops) throws {
        let c = shape.channels
        switch crops {
        case .values(let values):
            precondition(values.count == batch * shape.side * shape.side * c[0], "\(values.count) values for \(batch) crops")
            try images.upload(floats: values)
        case .atlas(let atlas, let indices):
            precondition(indices.count == batch && atlas.input == shape.input, "\(indices.count) \(atlas.input) crops for \(batch) \(shape.input)")
            try atlas.gather(indices, into: images)
        }
        var x = images
        for s in 0..<3 {
            try draw("conv_forward", convDefines(s), into: stages[s],
                     [("u_x", x), ("u_params", params[s][current].color)])
            x = stages[s].color
        }
        try draw("pool_forward", ["C": c[3], "S": shape.size(3)], into: pooled, [("u_x", x)])
        try draw("softmax_forward", ["C": c[3], "K": classes], into: probabilities,
                 [("u_features", pooled.color), ("u_params", params[3][current].color)])
    }

    private func backward(_ crops: Crops, labels batchLabels: [Int]) throws {
        precondition(batchLabels.count == batch && batchLabels.allSatisfy { (0..<classes).contains($0) })
        try forward(crops)
        let c = shape.channels
        try labels.upload(floats: batchLabels.map(Float.init))
        try draw("logit_gradient", ["N": batch], into: dLogits, [("u_probabilities", probabilities.color), ("u_labels", labels)])
        try draw("dense_gradient", ["C": c[3], "K": classes], into: gradientShares[3],
                 [("u_dlogits", dLogits.color), ("u_features", pooled.color)])
        try draw("sum_rows", ["ROWS": batch], into: gradients[3], [("u_rows", gradientShares[3].color)])
        try draw("pool_dense_backward", ["C": c[3], "K": classes, "S": shape.size(3)], into: dStages[2],
                 [("u_dlogits", dLogits.color), ("u_params", params[3][current].color)])
        for s in (0..<3).reversed() {
            let x = s == 0 ? images : stages[s - 1].color
            let defines = convDefines(s)
            try draw("relu_backward", [:], into: dReLU[s], [("u_y", stages[s].color), ("u_dy", dStages[s].color)])
            try draw("conv_param_gradient", defines, into: gradientShares[s], [("u_x", x), ("u_dz", dReLU[s].color)])
            try draw("sum_rows", ["ROWS": batch], into: gradients[s], [("u_rows", gradientShares[s].color)])
            if s > 0 {
                try draw("conv_input_gradient", defines, into: dStages[s - 1],
                         [("u_dz", dReLU[s].color), ("u_params", params[s][current].color)])
            }
        }
    }

    private func adam() throws {
        step += 1
        let (b1, b2) = (0.9, 0.999)
        let uniforms: [String: UniformValue] = [
            "u_rate": .float(Float(learningRate)), "u_beta": .vec2(Float(b1), Float(b2)),
            "u_bias": .vec2(Float(1 - Foundation.pow(b1, Double(step))), Float(1 - Foundation.pow(b2, Double(step)))),
            "u_epsilon": .float(1e-8),
        ]
        let next = 1 - current
        for k in 0..<4 {
            let g = ("u_gradient", gradients[k].color)
            try draw("adam", ["OUTPUT": 0], into: m[k][next], [g, ("u_m", m[k][current].color)], uniforms: uniforms)
            try draw("adam", ["OUTPUT": 1], into: v[k][next], [g, ("u_v", v[k][current].color)], uniforms: uniforms)
            try draw("adam", ["OUTPUT": 2], into: params[k][next],
                     [g, ("u_m", m[k][next].color), ("u_v", v[k][next].color), ("u_params", params[k][current].color)],
                     uniforms: uniforms)
        }
        current = next
    }

    /// A target's values: four a texel of an RGBA32F one, the first of an R32F one (readFloats gives RGBA per texel).
    private static func values(_ fb: Framebuffer) throws -> [Float] {
        let rgba = try fb.readFloats()
        guard fb.color.format == .r32f else { return rgba }
        return stride(from: 0, to: rgba.count, by: 4).map { rgba[$0] }
    }
}
