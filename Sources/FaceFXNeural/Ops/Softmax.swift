// SOFTMAX over the last axis with beta (Shaders/nn/softmax.glsl), max subtracted first.
import FaceFXGPU

enum SoftmaxKernel: OpKernel {
    static let kinds: [OpKind] = [.softmax]
    static let shader = "nn/softmax.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .softmax(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        let x = node.inputs[0]
        let ol = try b.layout(node.output)
        return PassSpec(label: "SOFTMAX", program: try b.program(shader, [:], output: node.output), inputs: [("u_x", try b.source(x))],
                        uniforms: ["u_outShape": ol.uniform, "u_beta": .float(o.beta)], output: node.output)
    }
}
