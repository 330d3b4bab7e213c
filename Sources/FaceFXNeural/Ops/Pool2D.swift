// MAX_POOL_2D and AVERAGE_POOL_2D (Shaders/nn/pool2d.glsl), SAME/VALID, fused activation.
import FaceFXGPU

enum Pool2DKernel: OpKernel {
    static let kinds: [OpKind] = [.maxPool2D, .averagePool2D]
    static let shader = "nn/pool2d.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .pool2D(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        let hy = Graph.window(xl.h, filter: o.filterH, stride: o.strideH, dilation: 1, padding: o.padding)
        let wx = Graph.window(xl.w, filter: o.filterW, stride: o.strideW, dilation: 1, padding: o.padding)
        let defines = ["KH": "\(o.filterH)", "KW": "\(o.filterW)", "SY": "\(o.strideH)", "SX": "\(o.strideW)",
                       "IS_MAX": node.op.kind == .maxPool2D ? "1" : "0", "ACT": "\(node.activation.rawValue)",
                       "X_PLANAR": b.isPlanar(x) ? "1" : "0"]
        return PassSpec(label: "\(node.op.kind.rawValue) \(o.filterH)x\(o.filterW)/\(o.strideH)",
                        program: try b.program(shader, defines, output: node.output), inputs: [("u_x", try b.source(x))],
                        uniforms: ["u_xShape": xl.uniform, "u_outShape": ol.uniform,
                                   "u_pad": PassBuilder.ivec2(wx.padBefore, hy.padBefore)],
                        output: node.output)
    }
}
