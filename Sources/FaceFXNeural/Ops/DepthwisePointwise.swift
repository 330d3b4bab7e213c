// A DEPTHWISE_CONV_2D and the 1x1 CONV_2D that alone reads it, as one compute pass
// (Shaders/nn/depthwise_pointwise.glsl; the compiler's fusion E folds the pair). Weights are packed
// as the two kernels pack them (the same constant textures when both forms are compiled).
import FaceFXGPU

enum DepthwisePointwiseKernel {
    static let shader = "nn/depthwise_pointwise.glsl"
    /// Invocations per work group the layout aims at (LX lanes per pixel × LY pixels).
    static let groupInvocations = 64

    /// Lanes per pixel (LX) and pixels per group (LY) for `ic4` input and `oc4` output slices: one lane per
    /// slice up to 32, the rest of the 64 invocations spread over pixels.
    static func groupLayout(ic4: Int, oc4: Int) -> (lanes: Int, pixels: Int) {
        let lanes = min(max(ic4, oc4), 32)
        return (lanes, max(1, groupInvocations / lanes))
    }

    /// Whether the pair can run as one pass: a depthwise of multiplier 1, and its results for a group fitting the
    /// shared memory.
    static func fits(_ dw: PlanNode, _ conv: PlanNode, _ b: PassBuilder) -> Bool {
        guard case .depthwiseConv2D = dw.op.options, let f = b.constant(dw.op.inputs[1]), let xl = try? b.layout(dw.inputs[0]),
              f.shape[3] == xl.c, let cf = b.constant(conv.op.inputs[1]) else { return false }
        let ic4 = (xl.c + 3) / 4, oc4 = (cf.shape[0] + 3) / 4
        return groupLayout(ic4: ic4, oc4: oc4).pixels * ic4 * 16 <= PassBuilder.guaranteedSharedBytes
    }

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard let dw = node.depthwise, case let .depthwiseConv2D(d) = dw.op.options,
              let df = b.constant(dw.op.inputs[1]), let pf = b.constant(node.op.inputs[1]) else {
            throw b.unsupported(node.op, "folded depthwise without constant filters")
        }
        let x = node.inputs[0]
        let xl = try b.layout(x), ml = try b.layout(dw.output), ol = try b.layout(node.output)
        let (kh, kw, ic) = (df.shape[1], df.shape[2], df.shape[3])
        let oc = pf.shape[0]
        let (wd, pad) = try DepthwiseConv2DKernel.weightsAndPadding(dw.op, padBefore: dw.padBefore, preluAlpha: dw.preluAlpha, b)
        let wp = try Conv2DKernel.weights(node.op, preluAlpha: node.preluAlpha, b)
        let ic4 = (ic + 3) / 4, oc4 = (oc + 3) / 4
        let (lanes, pixels) = groupLayout(ic4: ic4, oc4: oc4)
        let defines = ["LX": "\(lanes)", "LY": "\(pixels)", "IC4": "\(ic4)", "OC4": "\(oc4)", "KH": "\(kh)", "KW": "\(kw)",
                       "SY": "\(d.strideH)", "SX": "\(d.strideW)", "DY": "\(d.dilationH)", "DX": "\(d.dilationW)",
                       "DACT": "\(dw.activation.rawValue)", "ACT": "\(node.activation.rawValue)",
                       "MID_FP16": b.storesHalf(dw.output) ? "1" : "0"].merging(node.residualDefines(b)) { $1 }
        var inputs: [(String, PassSource)] = [("u_x", try b.source(x)), ("u_wd", .texture(wd)), ("u_wp", .texture(wp))]
        let total = ol.replicas * ol.n * ol.h * ol.w
        var uniforms: [String: UniformValue] = [
            "u_xShape": xl.uniform, "u_outShape": ol.uniform, "u_pixels": .int(Int32(total)),
            "u_pad": pad,
        ]
        if let r = node.residual {
            inputs.append(("u_res", try b.source(r)))
            uniforms["u_resShape"] = try b.layout(r).uniform
        }
        precondition(ml.h == ol.h && ml.w == ol.w, "depthwise + 1x1: the 1x1 keeps the depthwise's pixels")
        // Groups over a 2-D grid: x at most 32768, y as many rows of that as the pixels need.
        let groups = (total + pixels - 1) / pixels
        let gx = min(groups, 32768)
        return PassSpec(label: "DEPTHWISE_CONV_2D \(kh)x\(kw)/\(d.strideH) \(ic) + CONV_2D 1x1/1 \(ic)->\(oc)",
                        program: try b.computeShader(shader, defines, output: node.output),
                        inputs: inputs, uniforms: uniforms, output: node.output, groups: (gx, (groups + gx - 1) / gx))
    }
}
