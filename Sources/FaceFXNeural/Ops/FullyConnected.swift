// FULLY_CONNECTED as a 1x1 convolution (Shaders/nn/conv2d.glsl): the rows of the flattened
// input are the pixels of a [1, 1, rows, K] view. Needs an input whose 4-D view is
// [1, 1, rows, K] (last axis = K): e.g. [1, K] or [1, rows, K]; others are rejected at compile.
import FaceFXGPU

enum FullyConnectedKernel: OpKernel {
    static let kinds: [OpKind] = [.fullyConnected]
    static let shader = "nn/conv2d.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard let wt = b.constant(node.inputs[1]) else { throw b.unsupported(node.op, "non-constant weights") }
        let (units, depth) = (wt.shape[0], wt.shape[1])
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        guard xl.n * xl.h == 1, xl.c == depth, ol.w == xl.w, ol.n * ol.h == 1 else {
            throw b.unsupported(node.op, "input \(xl.shape) must have its last axis = \(depth) and one leading row")
        }
        let biasTensor = node.inputs.count > 2 ? node.inputs[2] : nil
        let w = try b.weightTexture(from: [node.inputs[1], biasTensor, node.preluAlpha], layout: "conv2d \(units)x1x1x\(depth)") {
            Conv2DKernel.packWeights(filter: wt.data, oc: units, kh: 1, kw: 1, ic: depth,
                                     bias: try b.channelVector(biasTensor, channels: units),
                                     alpha: try b.channelVector(node.preluAlpha, channels: units))
        }
        let defines = ["KH": "1", "KW": "1", "IC4": "\((depth + 3) / 4)", "SY": "1", "SX": "1", "DY": "1", "DX": "1",
                       "ACT": "\(node.activation.rawValue)", "RESIDUAL": "0"]
        return PassSpec(label: "FULLY_CONNECTED \(depth)->\(units)", program: try b.program(shader, defines, output: node.output),
                        inputs: [("u_x", try b.source(x)), ("u_w", .texture(w))],
                        uniforms: ["u_xShape": xl.uniform, "u_outShape": ol.uniform, "u_pad": PassBuilder.ivec2(0, 0)],
                        output: node.output)
    }
}
