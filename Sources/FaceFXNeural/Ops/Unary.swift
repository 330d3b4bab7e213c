// RELU, RELU6, LOGISTIC, NEG, SQRT, RSQRT texel by texel (Shaders/nn/unary.glsl). Usually
// fused into the producer instead; this pass runs when the producer has other consumers.
import FaceFXGPU

enum UnaryKernel: OpKernel {
    static let kinds: [OpKind] = [.relu, .relu6, .logistic, .neg, .sqrt, .rsqrt]
    static let shader = "nn/unary.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        let code: Int
        switch node.op.kind {
        case .relu: code = 1
        case .relu6: code = 2
        case .logistic: code = 3
        case .neg: code = 4
        case .sqrt: code = 5
        default: code = 6
        }
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        guard xl.shape4 == ol.shape4, xl.replicas == ol.replicas else { throw b.unsupported(node.op, "shape change") }
        return PassSpec(label: node.op.kind.rawValue, program: try b.program(shader, ["OP": "\(code)"], output: node.output),
                        inputs: [("u_x", try b.source(x))], uniforms: ["u_outShape": ol.uniform], output: node.output)
    }
}
