// MEAN and SUM over any axes, keep_dims or not (Shaders/nn/reduce.glsl).
import FaceFXGPU

enum ReduceKernel: OpKernel {
    static let kinds: [OpKind] = [.mean, .sum]
    static let shader = "nn/reduce.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .reduce(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        let shift = 4 - xl.shape.count
        var kept = xl.shape4, extent = [1, 1, 1, 1]
        for a in o.axes {
            extent[a + shift] = kept[a + shift]
            kept[a + shift] = 1
        }
        return PassSpec(label: "\(node.op.kind.rawValue) \(o.axes)",
                        program: try b.program(shader, ["IS_MEAN": node.op.kind == .mean ? "1" : "0"], output: node.output),
                        inputs: [("u_x", try b.source(x))],
                        uniforms: ["u_xShape": xl.uniform, "u_keptShape": PassBuilder.ivec4(kept),
                                   "u_extent": PassBuilder.ivec4(extent), "u_outShape": ol.uniform],
                        output: node.output)
    }
}
