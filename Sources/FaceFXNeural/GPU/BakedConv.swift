// "Baked" CONV_2D / DEPTHWISE_CONV_2D passes: one fragment per output pixel computes up to 8 output
// channel slices (4 channels each) and writes them through multiple render targets into the layers of a
// PLANAR tensor (a 2-D array texture, layer = channel slice c4, each layer W x rows; see
// `TensorStorageLayout`). The weights, bias, PReLU alpha, shapes, strides and padding are compile-time
// literals of a program generated for that pass, so a fragment fetches only activations:
//   * the standard kernels fetch 8 weight texels per input slice per output slice (a 1x1 8->16 conv: 14
//     fetches per output texel), and uniform-array weights are no better on llvmpipe (reloaded per
//     fragment block); literals become immediates (llvmpipe) / constant-bank operands (NVIDIA);
//   * the input slices of a pixel are fetched once for all output slices of the group.
// llvmpipe, landmark net's 128x128 1x1 8->16 (+ADD+PRELU): 1.15 ms -> ~0.3 ms per pass.
// A node is baked only when every reader of its output is a baked node (planar input or residual) and
// the output is not a network input/output: no conversion passes. Inputs may be planar or standard.
import FaceFXGPU
import Foundation

/// How an activation tensor is stored.
enum TensorStorageLayout {
    /// Pixel-major atlas in a 2-D texture (TensorLayout, Shaders/nn/common.glsl).
    case standard
    /// 2-D array texture with C4 layers of W x (R*N*H) texels: layer s holds channels 4s..4s+3.
    case planar
}

enum BakedConvKernel {
    /// Most literal floats in one generated program (weights of one group of output slices).
    static let maxLiterals = 16384

    /// Output slices computed per draw for `node` (0 when the node cannot be baked).
    static func groupSize(_ node: PlanNode, _ b: PassBuilder) -> Int {
        let maxG = min(8, b.context.maxDrawBuffers)
        guard maxG >= 1, node.op.kind == .conv2D || node.op.kind == .depthwiseConv2D, node.inputs.count >= 2,
              !b.isConstant(node.inputs[0]), let f = b.constant(node.inputs[1]) else { return 0 }
        // Smallest output baked (`GPUTuning.bakeMinPixels`): below it the standard kernels cost little, and
        // each baked draw is a program of its own to compile (llvmpipe JIT, driver compile on a GPU).
        guard let ol = try? b.layout(node.output), ol.h * ol.w >= b.context.tuning.bakeMinPixels else { return 0 }
        switch node.op.options {
        case .conv2D:
            guard f.shape.count == 4 else { return 0 }
            let (oc, kh, kw, ic) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
            let perSlice = kh * kw * ((ic + 3) / 4) * 16
            let g = min(maxG, (oc + 3) / 4, maxLiterals / max(1, perSlice))
            return g
        case let .depthwiseConv2D(o):
            guard f.shape.count == 4, let xl = try? b.layout(node.inputs[0]), f.shape[3] == xl.c, o.depthMultiplier <= 1 else { return 0 }
            return min(maxG, (f.shape[3] + 3) / 4)
        default:
            return 0
        }
    }

    /// The draws of a baked node: one per group of output slices.
    static func makePasses(_ node: PlanNode, _ b: PassBuilder, planar: (Int) -> Bool) throws -> [PassSpec] {
        let g = groupSize(node, b)
        precondition(g > 0)
        guard let f = b.constant(node.inputs[1]) else { throw b.unsupported(node.op, "non-constant filter") }
        let isDepthwise = node.op.kind == .depthwiseConv2D
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        let original = try b.layout(node.op.inputs[0])
        let (kh, kw) = (f.shape[1], f.shape[2])
        let oc = isDepthwise ? f.shape[3] : f.shape[0]
        let ic = isDepthwise ? 1 : f.shape[3]
        let (sy, sx, dy, dx, padding): (Int, Int, Int, Int, Padding)
        switch node.op.options {
        case let .conv2D(o): (sy, sx, dy, dx, padding) = (o.strideH, o.strideW, o.dilationH, o.dilationW, o.padding)
        case let .depthwiseConv2D(o): (sy, sx, dy, dx, padding) = (o.strideH, o.strideW, o.dilationH, o.dilationW, o.padding)
        default: throw b.unsupported(node.op, "options")
        }
        let hy = Graph.window(original.h, filter: kh, stride: sy, dilation: dy, padding: padding)
        let wx = Graph.window(original.w, filter: kw, stride: sx, dilation: dx, padding: padding)
        let (py, px) = (hy.padBefore + node.padBefore.h, wx.padBefore + node.padBefore.w)
        let bias = try b.channelVector(node.inputs.count > 2 ? node.inputs[2] : nil, channels: oc)
        let alpha = try b.channelVector(node.preluAlpha, channels: oc)
        let oc4 = (oc + 3) / 4, ic4 = (ic + 3) / 4, xc4 = xl.slices
        let xPlanar = planar(x)
        let resPlanar = node.residual.map(planar) ?? false
        let resSlices = try node.residual.map { try b.layout($0).slices } ?? 0

        // Geometry, all literals.
        // Row counts (which depend on the batch) are read from the textures, so every batch shares the programs.
        let (xh, xw) = (xl.h, xl.w)
        let (oh, ow) = (ol.h, ol.w)
        func lit(_ v: Float) -> String {
            let c = max(-3.0e38, min(3.0e38, v.isNaN ? 0 : v))
            if c == 0 { return "0.0" }
            var s = String(format: "%.9g", Double(c))
            if !s.contains(".") && !s.contains("e") { s += ".0" }
            return s
        }
        func vec(_ v: [Float]) -> String {
            if v.allSatisfy({ $0 == 0 }) { return "vec4(0.0)" }
            if v.allSatisfy({ $0 == v[0] }) { return "vec4(\(lit(v[0])))" }
            return "vec4(" + v.map(lit).joined(separator: ", ") + ")"
        }
        func weight(_ o: Int, _ ky: Int, _ kx: Int, _ i: Int) -> Float {
            guard o < oc else { return 0 }
            if isDepthwise { return f.data[(ky * kw + kx) * oc + o] }
            guard i < ic else { return 0 }
            return f.data[((o * kh + ky) * kw + kx) * ic + i]
        }
        // Taps whose reads are always inside the input need no bounds test.
        func inside(_ k: Int, stride: Int, dil: Int, pad: Int, outN: Int, inN: Int) -> Bool {
            let lo = -pad + k * dil, hi = (outN - 1) * stride - pad + k * dil
            return lo >= 0 && hi < inN
        }
        let common = ProgramCache.librarySource("nn/common.glsl") ?? ""
        let xWidth = xPlanar ? xw : xw * xc4
        var specs: [PassSpec] = []
        for s0 in stride(from: 0, to: oc4, by: g) {
            let n = min(g, oc4 - s0)
            var src = "// generated: baked \(isDepthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D") slices \(s0)..<\(s0 + n)\n"
            src += "#define NN_CUSTOM_OUTPUTS 1\n" + common + "\n"
            src += "uniform highp \(xPlanar ? "sampler2DArray" : "sampler2D") u_x;\n"
            if node.residual != nil { src += "uniform highp \(resPlanar ? "sampler2DArray" : "sampler2D") u_res;\n" }
            for k in 0..<n { src += "layout(location = \(k)) out vec4 o_\(k);\n" }
            src += "void main() {\n"
            src += "    ivec2 p = ivec2(gl_FragCoord.xy);\n"
            src += "    int ox = p.x, nb = p.y / \(oh), oy = p.y - nb * \(oh);\n"
            src += "    int iy0 = oy * \(sy) - \(py), ix0 = ox * \(sx) - \(px), rb = nb * \(xh);\n"
            src += "    const float XIU = 1.0 / \(xWidth).0;\n    float XIV = 1.0 / float(textureSize(u_x, 0).y);\n"
            for k in 0..<n {
                let s = s0 + k
                src += "    vec4 a\(k) = \(vec(Array(bias[(s * 4)..<(s * 4 + 4)])));\n"
            }
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let inY = inside(ky, stride: sy, dil: dy, pad: py, outN: oh, inN: xh)
                    let inX = inside(kx, stride: sx, dil: dx, pad: px, outN: ow, inN: xw)
                    var conds: [String] = []
                    if !inY { conds.append("iy >= 0 && iy < \(xh)") }
                    if !inX { conds.append("ix >= 0 && ix < \(xw)") }
                    var body = ""
                    body += "        int iy = iy0 + \(ky * dy), ix = ix0 + \(kx * dx);\n"
                    body += "        float v = (float(rb + iy) + 0.5) * XIV;\n"
                    let slicesRead = isDepthwise ? Array(s0..<(s0 + n)) : Array(0..<ic4)
                    for i in slicesRead {
                        if xPlanar {
                            body += "        vec4 x\(i) = texture(u_x, vec3((float(ix) + 0.5) * XIU, v, \(i).0));\n"
                        } else {
                            body += "        vec4 x\(i) = texture(u_x, vec2((float(ix * \(xc4) + \(i)) + 0.5) * XIU, v));\n"
                        }
                    }
                    for k in 0..<n {
                        let s = s0 + k
                        if isDepthwise {
                            let w = (0..<4).map { weight(s * 4 + $0, ky, kx, 0) }
                            if w.contains(where: { $0 != 0 }) { body += "        a\(k) += \(vec(w)) * x\(s);\n" }
                        } else {
                            var terms: [String] = []
                            for i in 0..<ic4 {
                                for j in 0..<4 {
                                    let col = (0..<4).map { weight(s * 4 + $0, ky, kx, i * 4 + j) }
                                    if col.contains(where: { $0 != 0 }) { terms.append("\(vec(col)) * x\(i).\(["x", "y", "z", "w"][j])") }
                                }
                            }
                            // Sums of at most 8 terms per statement keep the compiler's expression trees shallow.
                            for c in stride(from: 0, to: terms.count, by: 8) {
                                body += "        a\(k) += " + terms[c..<min(terms.count, c + 8)].joined(separator: " + ") + ";\n"
                            }
                        }
                    }
                    if conds.isEmpty {
                        src += "    {\n" + body + "    }\n"
                    } else {
                        // iy / ix are declared in the block; test them there.
                        let decl = "        int iy = iy0 + \(ky * dy), ix = ix0 + \(kx * dx);\n"
                        src += "    {\n" + decl + "        if (\(conds.joined(separator: " && "))) {\n"
                            + body.replacingOccurrences(of: decl, with: "") + "        }\n    }\n"
                    }
                }
            }
            if node.residual != nil {
                let rw = try b.layout(node.residual!).w
                src += "    {\n        float rv = (float(p.y) + 0.5) / float(textureSize(u_res, 0).y);\n"
                for k in 0..<n where s0 + k < resSlices {
                    let s = s0 + k
                    if resPlanar {
                        src += "        a\(k) += texture(u_res, vec3((float(ox) + 0.5) / \(rw).0, rv, \(s).0));\n"
                    } else {
                        src += "        a\(k) += texture(u_res, vec2((float(ox * \(resSlices) + \(s)) + 0.5) / \(rw * resSlices).0, rv));\n"
                    }
                }
                src += "    }\n"
            }
            for k in 0..<n {
                let s = s0 + k
                src += "    o_\(k) = finish(activate(a\(k), \(vec(Array(alpha[(s * 4)..<(s * 4 + 4)])))), \(s), \(oc));\n"
            }
            src += "}\n"
            let defines = ["ACT": "\(node.activation.rawValue)"]
            let program = try b.generatedProgram(src, defines, output: node.output)
            var inputs: [(String, PassSource)] = [("u_x", try b.source(x))]
            if let r = node.residual { inputs.append(("u_res", try b.source(r))) }
            let label = isDepthwise ? "DEPTHWISE_CONV_2D \(kh)x\(kw)/\(sy) \(oc)" : "CONV_2D \(kh)x\(kw)/\(sy) \(ic)->\(oc)"
            specs.append(PassSpec(label: label + " [baked \(s0)..<\(s0 + n)]", program: program, inputs: inputs, uniforms: [:],
                                  output: node.output, layers: s0..<(s0 + n)))
        }
        return specs
    }
}
