// CONCATENATION of 2..4 inputs along any axis (Shaders/nn/concatenation.glsl); constant
// inputs are shared by all replicas; fused activation; inputs read through a folded RESHAPE.
import FaceFXGPU

enum ConcatenationKernel: OpKernel {
    static let kinds: [OpKind] = [.concatenation]
    static let shader = "nn/concatenation.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .concatenation(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        let ins = node.inputs
        guard (1...4).contains(ins.count) else { throw b.unsupported(node.op, "\(ins.count) inputs (at most 4)") }
        let ol = try b.layout(node.output)
        let axis = o.axis + 4 - ol.shape.count
        var inputs: [(String, PassSource)] = []
        var uniforms: [String: UniformValue] = ["u_outShape": ol.uniform, "u_axis": .int(Int32(axis))]
        var start = [0, 0, 0, 0], rep = [1, 1, 1, 1]
        var pos = 0
        for k in 0..<4 {
            let t = ins[min(k, ins.count - 1)]
            let stored = try b.layout(t)
            let l = try node.inputViews[min(k, ins.count - 1)].map(b.layout) ?? stored
            inputs.append(("u_x\(k)", try b.source(t)))
            uniforms["u_s\(k)"] = stored.uniform
            uniforms["u_v\(k)"] = l.uniform
            if k < ins.count {
                start[k] = pos
                rep[k] = l.replicas
                pos += l.shape4[axis]
            } else {
                start[k] = Int(Int32.max)
            }
        }
        uniforms["u_start"] = PassBuilder.ivec4(start)
        uniforms["u_rep"] = PassBuilder.ivec4(rep)
        let defines = ["NIN": "\(max(2, ins.count))", "ACT": "\(node.activation.rawValue)"]
        return PassSpec(label: "CONCATENATION axis \(o.axis)", program: try b.program(shader, defines, output: node.output),
                        inputs: inputs, uniforms: uniforms, output: node.output)
    }
}
