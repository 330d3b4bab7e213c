// RESIZE_BILINEAR (Shaders/nn/resize_bilinear.glsl): align_corners and half_pixel_centers as
// TFLite's float kernel.
import FaceFXGPU

enum ResizeBilinearKernel: OpKernel {
    static let kinds: [OpKind] = [.resizeBilinear]
    static let shader = "nn/resize_bilinear.glsl"

    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec {
        guard case let .resizeBilinear(o) = node.op.options else { throw b.unsupported(node.op, "options") }
        let x = node.inputs[0]
        let xl = try b.layout(x), ol = try b.layout(node.output)
        func scale(_ i: Int, _ out: Int) -> Float {
            o.alignCorners && out > 1 ? Float(i - 1) / Float(out - 1) : Float(i) / Float(out)
        }
        return PassSpec(label: "RESIZE_BILINEAR", program: try b.program(shader, ["HALF_PIXEL": o.halfPixelCenters ? "1" : "0"], output: node.output),
                        inputs: [("u_x", try b.source(x))],
                        uniforms: ["u_xShape": xl.uniform, "u_outShape": ol.uniform,
                                   "u_scale": .vec2(scale(xl.h, ol.h), scale(xl.w, ol.w))],
                        output: node.output)
    }
}
