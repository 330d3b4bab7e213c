// RGBA8 render targets for frames that wait on the GPU: a render converts each frame once, the
// analyzer reads it there, and the filters are drawn into the same target when its faces are final.

/// Reusable RGBA8 frame targets of one size. `take` hands out a spare target or makes a new one; `give`
/// returns it once its picture is no longer needed. A new frame size drops the spares of the old one.
public final class FrameTargetPool {
    public let context: GPUContext
    private var spares: [Framebuffer] = []

    public init(context: GPUContext) { self.context = context }

    public func take(width: Int, height: Int) throws -> Framebuffer {
        spares.removeAll { $0.width != width || $0.height != height }
        return try spares.popLast()
            ?? Framebuffer(context: context, color: Texture(context: context, width: width, height: height, format: .rgba8))
    }

    public func give(_ target: Framebuffer) {
        spares.append(target)
    }
}
