// CONV_2D on the GPU (Shaders/nn/conv2d.glsl). Fusions handled here: bias, fused activation or
// a following PRELU/RELU, a following ADD (residual input, possibly with fewer channels when a
// channel PAD was folded), and a preceding spatial PAD (extra u_pad). A 1x1 convolution with a
// folded depthwise one runs as DepthwisePointwiseKernel.
import FaceFXGPU

enum Conv2DKernel: OpKernel {
    static let kinds: [OpKind] = [.conv2D]
    static let shader = "nn/conv2d.glsl"

    /// Packs a filter [OC, KH, KW, IC] into rows of mat4 columns (see conv2d.glsl), then the
    /// bias texel and the PReLU alpha texel. Returns (width, height, texels).
    static func packWeights(filter f: [Float], oc: Int, kh: Int, kw: Int, ic: Int,
                            bias: [Float], alpha: [Float]) -> (Int, Int, [Float]) {
        let ic4 = (ic + 3) / 4, oc4 = (oc + 3) / 4
        let ktex = kh * kw * ic4 * 4
        let width = ktex + 2
        var t = [Float](repeating: 0, count: width * oc4 * 4)
        for o in 0..<oc {
            let row = o / 4, q = o % 4
            for ky in 0..<kh { for kx in 0..<kw { for i in 0..<ic {
                let texel = ((ky * kw + kx) * ic4 + i / 4) * 4 + i % 4
                t[(row * width + texel) * 4 + q] = f[((o * kh + ky) * kw + kx) * ic + i]
            }}}
            t[(row * width + ktex) * 4 + q] = bias[o]
            t[(row * width + ktex + 1) * 4 + q] = alpha[o]
        }
        return (width, oc4, t)
    }

    /// The weight texture of a convolution `op` (bias and fused PReLU alpha included). Also for
    /// DepthwisePointwiseKernel's 1x1.
    static func weights(_ op: GraphOp, preluAlpha: Int?, _ b: PassBuilder) throws -> Texture {
        guard let f = b.constant(op.inputs[1]) else { throw b.unsupported(op, "non-constant filter") }
        let (oc, kh, kw, ic) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
        let biasTensor = op.inputs.count > 2 ? op.inputs[2] : nil
        return try b.weightTexture(from: [op.inputs[1], biasTensor, preluAlpha], layout: "conv2d \(oc)x\(kh)x\(kw)x\(ic)") {
            packWeights(filter: f.data, oc: oc, kh: kh, kw: kw, ic: ic, bias: try b.channelVector(biasTensor, channels: oc),
                        alpha: try b.channelVector(preluAlpha, channels: oc))
        }
    }

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        if node.depthwise != nil { return try DepthwisePointwiseKernel.makePass(node, b) }
        guard case let .conv2D(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        guard let f = b.constant(node.inputs[1]) else { throw b.unsupported(node.op, "non-constant filter") }
        let (oc, kh, kw, ic) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        // SAME padding is computed on the conv's own input (a folded PAD's output).
        let original = try b.layout(node.op.inputs[0])
        let hy = Graph.window(original.h, filter: kh, stride: o.strideH, dilation: o.dilationH, padding: o.padding)
        let wx = Graph.window(original.w, filter: kw, stride: o.strideW, dilation: o.dilationW, padding: o.padding)
        let w = try weights(node.op, preluAlpha: node.preluAlpha, b)
        let defines = ["KH": "\(kh)", "KW": "\(kw)", "IC4": "\((ic + 3) / 4)", "SY": "\(o.strideH)", "SX": "\(o.strideW)",
                       "DY": "\(o.dilationH)", "DX": "\(o.dilationW)", "ACT": "\(node.activation.rawValue)",
                       "RESIDUAL": node.residual == nil ? "0" : "1",
                       "X_PLANAR": b.isPlanar(x) ? "1" : "0", "RES_PLANAR": node.residual.map(b.isPlanar) == true ? "1" : "0"]
        var inputs: [(String, PassSource)] = [("u_x", try b.source(x)), ("u_w", .texture(w))]
        var uniforms: [String: UniformValue] = [
            "u_xShape": xl.uniform, "u_outShape": ol.uniform,
            "u_pad": PassBuilder.ivec2(wx.padBefore + node.padBefore.w, hy.padBefore + node.padBefore.h),
        ]
        if let r = node.residual {
            inputs.append(("u_res", try b.source(r)))
            uniforms["u_resShape"] = try b.layout(r).uniform
        }
        return PassSpec(label: "CONV_2D \(kh)x\(kw)/\(o.strideH) \(ic)->\(oc)", program: try b.program(shader, defines, output: node.output),
                        inputs: inputs, uniforms: uniforms, output: node.output)
    }
}
