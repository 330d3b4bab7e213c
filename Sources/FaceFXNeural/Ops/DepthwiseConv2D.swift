// DEPTHWISE_CONV_2D on the GPU (Shaders/nn/depthwise_conv2d.glsl), any depth multiplier;
// bias, activation / following PRELU and a preceding spatial PAD fused.
import FaceFXGPU

enum DepthwiseConv2DKernel: OpKernel {
    static let kinds: [OpKind] = [.depthwiseConv2D]
    static let shader = "nn/depthwise_conv2d.glsl"

    /// The size of `packWeights`' block: the KH·KW taps, the bias and the alpha texel; a row per 4 channels.
    static func packedSize(kh: Int, kw: Int, oc: Int) -> (width: Int, height: Int) { (kh * kw + 2, (oc + 3) / 4) }

    /// Packs a filter [1, KH, KW, OC]: row oc4 holds texel ky*KW + kx = the taps of channels oc4*4..,
    /// then the bias texel and the PReLU alpha texel. Returns (width, height, texels).
    static func packWeights(filter f: [Float], kh: Int, kw: Int, oc: Int, bias: [Float], alpha: [Float]) -> (Int, Int, [Float]) {
        let (width, oc4) = packedSize(kh: kh, kw: kw, oc: oc)
        var t = [Float](repeating: 0, count: width * oc4 * 4)
        for c in 0..<oc {
            let row = c / 4, q = c % 4
            for k in 0..<(kh * kw) { t[(row * width + k) * 4 + q] = f[k * oc + c] }
            t[(row * width + kh * kw) * 4 + q] = bias[c]
            t[(row * width + kh * kw + 1) * 4 + q] = alpha[c]
        }
        return (width, oc4, t)
    }

    /// The weight texture of a depthwise `op` (with its fused PReLU alpha) and its `u_pad`: SAME padding
    /// computed on the op's own input, plus a folded PAD's. Also for DepthwisePointwiseKernel.
    static func weightsAndPadding(_ op: GraphOp, padBefore: (h: Int, w: Int), preluAlpha: Int?,
                                  _ b: PassBuilder) throws -> (weights: Texture, pad: UniformValue) {
        guard case let .depthwiseConv2D(o) = op.options else { throw b.unsupported(op, "options") }
        guard let f = b.constant(op.inputs[1]) else { throw b.unsupported(op, "non-constant filter") }
        let (kh, kw, oc) = (f.shape[1], f.shape[2], f.shape[3])
        let original = try b.layout(op.inputs[0])
        let hy = Graph.window(original.h, filter: kh, stride: o.strideH, dilation: o.dilationH, padding: o.padding)
        let wx = Graph.window(original.w, filter: kw, stride: o.strideW, dilation: o.dilationW, padding: o.padding)
        let biasTensor = op.inputs.count > 2 ? op.inputs[2] : nil
        let weights = try b.weightTexture(from: [op.inputs[1], biasTensor, preluAlpha], layout: "depthwise \(kh)x\(kw)x\(oc)") {
            packWeights(filter: f.data, kh: kh, kw: kw, oc: oc, bias: try b.channelVector(biasTensor, channels: oc),
                        alpha: try b.channelVector(preluAlpha, channels: oc))
        }
        return (weights, PassBuilder.ivec2(wx.padBefore + padBefore.w, hy.padBefore + padBefore.h))
    }

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .depthwiseConv2D(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        guard let f = b.constant(node.inputs[1]) else { throw b.unsupported(node.op, "non-constant filter") }
        let (kh, kw, oc) = (f.shape[1], f.shape[2], f.shape[3])
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        let (w, pad) = try weightsAndPadding(node.op, padBefore: node.padBefore, preluAlpha: node.preluAlpha, b)
        let defines = ["KH": "\(kh)", "KW": "\(kw)", "SY": "\(o.strideH)", "SX": "\(o.strideW)",
                       "DY": "\(o.dilationH)", "DX": "\(o.dilationW)", "MULT": "\(max(1, oc / max(1, xl.c)))",
                       "ACT": "\(node.activation.rawValue)", "X_PLANAR": b.isPlanar(x) ? "1" : "0"]
        return PassSpec(label: "DEPTHWISE_CONV_2D \(kh)x\(kw)/\(o.strideH) \(oc)", program: try b.program(shader, defines, output: node.output),
                        inputs: [("u_x", try b.source(x)), ("u_w", .texture(w))],
                        uniforms: ["u_xShape": xl.uniform, "u_outShape": ol.uniform, "u_pad": pad],
                        output: node.output)
    }
}
