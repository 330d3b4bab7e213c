// RESHAPE (when the texels move), TRANSPOSE, STRIDED_SLICE and PAD as one affine gather
// (Shaders/nn/gather.glsl): output element -> virtual index v -> input index A v + offset.
// A RESHAPE whose layouts coincide is an alias and never reaches this kernel; a spatial PAD
// before a convolution and a channel PAD into a residual ADD are folded by the compiler.
import FaceFXGPU

enum GatherKernel: OpKernel {
    static let kinds: [OpKind] = [.reshape, .transpose, .stridedSlice, .pad]
    static let shader = "nn/gather.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        let shift = 4 - xl.shape.count
        var a = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
        var offset = [0, 0, 0, 0]
        var v = ol.shape4
        switch node.op.options {
        case .reshape:
            v = xl.shape4
        case let .transpose(o):
            // Output axis k reads input axis p[k]: input index i[p[k]] = v[k].
            let p = (0..<shift).map { $0 } + o.perm.map { $0 + shift }
            a = [[Int]](repeating: [0, 0, 0, 0], count: 4)
            for k in 0..<4 { a[p[k]][k] = 1 }
        case let .stridedSlice(o):
            let axes = o.resolve(shape: xl.shape)
            v = [Int](repeating: 1, count: shift) + axes.map(\.size)
            for (d, ax) in axes.enumerated() {
                a[d + shift][d + shift] = ax.stride
                offset[d + shift] = ax.start
            }
        case let .pad(o):
            for d in 0..<o.before.count { offset[d + shift] = -o.before[d] }
        default:
            throw b.unsupported(node.op, "options")
        }
        guard v.reduce(1, *) == ol.elementCount else { throw b.unsupported(node.op, "element count mismatch") }
        return PassSpec(label: node.op.kind.rawValue, program: try b.program(shader, [:], output: node.output),
                        inputs: [("u_x", try b.source(x))],
                        uniforms: ["u_xShape": xl.uniform, "u_vShape": PassBuilder.ivec4(v),
                                   "u_a0": PassBuilder.ivec4(a[0]), "u_a1": PassBuilder.ivec4(a[1]),
                                   "u_a2": PassBuilder.ivec4(a[2]), "u_a3": PassBuilder.ivec4(a[3]),
                                   "u_offset": PassBuilder.ivec4(offset), "u_outShape": ol.uniform],
                        output: node.output)
    }
}
