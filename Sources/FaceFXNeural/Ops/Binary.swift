// ADD, SUB, MUL, DIV, SQUARED_DIFFERENCE and PRELU (Shaders/nn/binary.glsl): numpy
// broadcasting, constant operands as small textures uploaded once, fused activation (the op's
// own or a following RELU/PRELU).
import FaceFXGPU

enum BinaryKernel: OpKernel {
    static let kinds: [OpKind] = [.add, .sub, .mul, .div, .squaredDifference, .prelu]
    static let shader = "nn/binary.glsl"

    static func opCode(_ k: OpKind) -> Int {
        switch k {
        case .add: return 1
        case .sub: return 2
        case .mul: return 3
        case .div: return 4
        case .squaredDifference: return 5
        default: return 6  // PRELU: a >= 0 ? a : a * alpha
        }
    }

    /// 1 same layout, 2 constant per-channel vector, 3 scalar, 0 general broadcast.
    static func mode(_ l: TensorLayout, constant: Bool, out: TensorLayout) -> Int {
        if l.shape4 == out.shape4 && l.replicas == out.replicas { return 1 }
        if l.elementCount == 1 && l.replicas == 1 { return 3 }
        if constant && l.n == 1 && l.h == 1 && l.w == 1 && l.c == out.c { return 2 }
        return 0
    }

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        let (a, c) = (node.inputs[0], node.inputs[1])
        let al = try b.layout(a), cl = try b.layout(c), ol = try b.layout(node.output)
        var defines = ["OP": "\(opCode(node.op.kind))", "ACT": "\(node.activation.rawValue)",
                       "A_MODE": "\(mode(al, constant: b.isConstant(a), out: ol))",
                       "B_MODE": "\(mode(cl, constant: b.isConstant(c), out: ol))"]
        var inputs: [(String, PassSource)] = [("u_a", try b.source(a)), ("u_b", try b.source(c))]
        if node.activation == .prelu {
            let alpha = try b.weightTexture(from: [node.preluAlpha], layout: "channels \(ol.c)") {
                (ol.slices, 1, try b.channelVector(node.preluAlpha, channels: ol.c))
            }
            inputs.append(("u_alpha", .texture(alpha)))
        }
        defines["ACT"] = "\(node.activation.rawValue)"
        return PassSpec(label: node.op.kind.rawValue, program: try b.program(shader, defines, output: node.output), inputs: inputs,
                        uniforms: ["u_aShape": al.uniform, "u_aRep": .int(Int32(al.replicas)),
                                   "u_bShape": cl.uniform, "u_bRep": .int(Int32(cl.replicas)), "u_outShape": ol.uniform],
                        output: node.output)
    }
}
