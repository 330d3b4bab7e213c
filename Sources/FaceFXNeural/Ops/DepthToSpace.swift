// DEPTH_TO_SPACE (Shaders/nn/depth_to_space.glsl).
import FaceFXGPU

enum DepthToSpaceKernel: OpKernel {
    static let kinds: [OpKind] = [.depthToSpace]
    static let shader = "nn/depth_to_space.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .depthToSpace(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        let x = node.inputs[0]
        return PassSpec(label: "DEPTH_TO_SPACE \(o.blockSize)", program: try b.program(shader, [:], output: node.output),
                        inputs: [("u_x", try b.source(x))],
                        uniforms: ["u_xShape": try b.layout(x).uniform, "u_outShape": try b.layout(node.output).uniform,
                                   "u_block": .int(Int32(o.blockSize))],
                        output: node.output)
    }
}
