// CONV_2D on the GPU (Shaders/nn/conv2d.glsl; with compute passes mostly the pixel-major
// Shaders/nn/conv2d_pixels.glsl). Fusions handled here: bias, fused activation or a following
// PRELU/RELU, a following ADD (residual input, possibly with fewer channels when a channel PAD was
// folded), and a preceding spatial PAD (extra u_pad). A 1x1 convolution with a folded depthwise one
// runs as DepthwisePointwiseKernel.
import FaceFXGPU

enum Conv2DKernel: OpKernel {
    static let kinds: [OpKind] = [.conv2D]
    static let shader = "nn/conv2d.glsl"
    static let pixelShader = "nn/conv2d_pixels.glsl"
    /// Output pixels per work group of `pixelShader`.
    static let pixelsPerGroup = 64

    /// Output slices each invocation of the pixel-major kernel (`pixelShader`) computes, or nil where the
    /// one-texel-per-invocation kernel runs: fragment passes, planar tensors, a pass writing a network output
    /// read back from a fragment pass, and weights of one slice beyond the shared memory GLES guarantees.
    /// The slices are split into as few even groups as give `NeuralEngine.pixelMajorInvocations` invocations (at
    /// batch 1 most layers end at one slice an invocation: their pixels alone don't fill a large GPU, and reading
    /// the weights from shared memory still pays).
    static func pixelMajorSlices(_ node: PlanNode, _ b: PassBuilder, kh: Int, kw: Int, ic4: Int, oc4: Int, pixels: Int) -> Int? {
        guard b.compute, b.pixelMajorConv, !(b.fragmentOutputs && b.isNetworkOutput(node.output)), !b.isPlanar(node.inputs[0]),
              node.residual.map(b.isPlanar) != true else { return nil }
        let perSlice = (kh * kw * ic4 * 4 + 2) * 16
        let most = min(oc4, 8, PassBuilder.guaranteedSharedBytes / perSlice)
        guard most >= 1, (pixels + pixelsPerGroup - 1) / pixelsPerGroup <= 65535 else { return nil }
        var groups = (oc4 + most - 1) / most
        while groups < oc4 && pixels * groups < b.pixelMajorInvocations { groups += 1 }
        return (oc4 + groups - 1) / groups
    }

    /// The size of `packWeights`' block: KH·KW·IC4 mat4 columns, the bias and the alpha texel; a row per 4 outputs.
    static func packedSize(oc: Int, kh: Int, kw: Int, ic: Int) -> (width: Int, height: Int) {
        (kh * kw * ((ic + 3) / 4) * 4 + 2, (oc + 3) / 4)
    }

    /// Packs a filter [OC, KH, KW, IC] into rows of mat4 columns (see conv2d.glsl), then the
    /// bias texel and the PReLU alpha texel. Returns (width, height, texels).
    static func packWeights(filter f: [Float], oc: Int, kh: Int, kw: Int, ic: Int,
                            bias: [Float], alpha: [Float]) -> (Int, Int, [Float]) {
        let ic4 = (ic + 3) / 4, (width, oc4) = packedSize(oc: oc, kh: kh, kw: kw, ic: ic)
        let ktex = width - 2
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
                       "X_PLANAR": b.isPlanar(x) ? "1" : "0", "RES_PLANAR": node.residual.map(b.isPlanar) == true ? "1" : "0"]
            .merging(node.residualDefines(b)) { $1 }
        var inputs: [(String, PassSource)] = [("u_x", try b.source(x)), ("u_w", .texture(w))]
        var uniforms: [String: UniformValue] = [
            "u_xShape": xl.uniform, "u_outShape": ol.uniform,
            "u_pad": PassBuilder.ivec2(wx.padBefore + node.padBefore.w, hy.padBefore + node.padBefore.h),
        ]
        if let r = node.residual {
            inputs.append(("u_res", try b.source(r)))
            uniforms["u_resShape"] = try b.layout(r).uniform
        }
        let oc4 = (oc + 3) / 4, ic4 = (ic + 3) / 4
        let pixels = ol.replicas * ol.n * ol.h * ol.w
        if let g = pixelMajorSlices(node, b, kh: kh, kw: kw, ic4: ic4, oc4: oc4, pixels: pixels) {
            var d = defines
            d["LX"] = "\(pixelsPerGroup)"; d["G"] = "\(g)"; d["OC4"] = "\(oc4)"
            uniforms["u_pixels"] = .int(Int32(pixels))
            return PassSpec(label: "CONV_2D \(kh)x\(kw)/\(o.strideH) \(ic)->\(oc) [pixels, \(g) slice\(g == 1 ? "" : "s")]",
                            program: try b.computeShader(pixelShader, d, output: node.output),
                            inputs: inputs, uniforms: uniforms, output: node.output,
                            groups: ((pixels + pixelsPerGroup - 1) / pixelsPerGroup, (oc4 + g - 1) / g))
        }
        return PassSpec(label: "CONV_2D \(kh)x\(kw)/\(o.strideH) \(ic)->\(oc)", program: try b.program(shader, defines, output: node.output),
                        inputs: inputs, uniforms: uniforms, output: node.output)
    }
}
