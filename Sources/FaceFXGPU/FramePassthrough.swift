// The no-filter frame path: 8-bit 4:2:0 planes go up to the GPU and come back as the encoder's
// I420 buffer in one copy pass and one readback, with no RGBA conversion (nothing draws into the
// frame, so converting there and back would only cost time — about 20 ms of CPU per 720p frame on
// llvmpipe — and rounding). Any stage that draws needs FrameColorConverter's RGBA frame instead.
import CGLES

public final class FramePassthrough {
    public let context: GPUContext
    public let programs: ProgramCache
    public let passes: PassRunner
    private var planes: [Texture] = []
    private var planeKey: (Int, Int)?
    private var target: Framebuffer?
    private var targetLayout: I420Layout?
    /// Upload through pixel-unpack buffers (UploadBuffer). `nil`: on for hardware GPUs.
    public var stagedUpload: Bool?
    private lazy var uploadBuffers: [UploadBuffer] = (0..<3).map { _ in UploadBuffer(context: context) }

    public init(context: GPUContext, programs: ProgramCache? = nil, passes: PassRunner? = nil) {
        self.context = context
        self.programs = programs ?? ProgramCache(context: context)
        self.passes = passes ?? PassRunner(context: context)
    }

    /// True for the formats this path copies: 8-bit 4:2:0 (any matrix and range: codes pass unchanged).
    public static func supports(_ format: YUVFrameFormat) -> Bool {
        format.bitDepth == 8 && format.chromaShiftX == 1 && format.chromaShiftY == 1
    }

    /// Textures, program and target for this size, made at load time.
    public func prepare(layout: I420Layout) throws {
        let w = layout.width, h = layout.height
        if planeKey == nil || planeKey! != (w, h) {
            let cw = (w + 1) / 2, ch = (h + 1) / 2
            planes = try [
                Texture(context: context, width: (w + 3) / 4, height: h, format: .rgba8),
                Texture(context: context, width: (cw + 3) / 4, height: ch, format: .rgba8),
                Texture(context: context, width: (cw + 3) / 4, height: ch, format: .rgba8),
            ]
            planeKey = (w, h)
        }
        if targetLayout != layout {
            let tex = try Texture(context: context, width: layout.packedTexelWidth, height: layout.rows, format: .rgba8)
            target = try Framebuffer(context: context, color: tex)
            targetLayout = layout
        }
        _ = try program()
    }

    private func program() throws -> Program { try programs.program("color/i420_copy.glsl") }

    /// Uploads the planes (4 samples per RGBA8 texel, strides honoured), copies them into the packed
    /// I420 layout and reads it back into `destination` (`layout.byteCount` bytes).
    public func copy(y: YUVPlane, u: YUVPlane, v: YUVPlane, format: YUVFrameFormat, layout: I420Layout,
                     into destination: UnsafeMutableRawPointer) throws {
        guard FramePassthrough.supports(format) else {
            throw GPUError.invalidArgument("passthrough needs 8-bit 4:2:0, got \(format.bitDepth)-bit shift \(format.chromaShiftX),\(format.chromaShiftY)")
        }
        guard y.width == layout.width, y.height == layout.height else {
            throw GPUError.invalidArgument("frame \(y.width)x\(y.height) for a \(layout.width)x\(layout.height) layout")
        }
        for p in [y, u, v] where p.bytesPerRow % 4 != 0 {
            throw GPUError.invalidArgument("plane stride \(p.bytesPerRow) is not a multiple of 4")
        }
        try context.sync { () throws in
            try prepare(layout: layout)
            let staged = stagedUpload ?? !context.isSoftware
            for (k, (texture, plane)) in zip(planes, [y, u, v]).enumerated() {
                // Whole texels only: the last one may reach into the row padding, which every decoder
                // allocates (strides are multiples of 16 or more).
                guard plane.bytesPerRow >= texture.width * 4 else {
                    throw GPUError.invalidArgument("plane stride \(plane.bytesPerRow) shorter than \(texture.width * 4)")
                }
                try texture.upload(plane.base, bytesPerRow: plane.bytesPerRow, dataType: .unsignedByte,
                                   width: texture.width, height: min(texture.height, plane.height),
                                   through: staged ? uploadBuffers[k] : nil)
            }
            guard let target else { throw GPUError.invalidArgument("passthrough target missing") }
            try passes.drawFullscreen(program: try program(), target: target,
                                      inputs: [PassInput("u_yq", planes[0]), PassInput("u_uq", planes[1]), PassInput("u_vq", planes[2])],
                                      uniforms: [
                                        "u_height": .int(Int32(layout.height)),
                                        "u_stride": .int(Int32(layout.stride)),
                                        "u_uOffset": .int(Int32(layout.uOffset)),
                                        "u_vOffset": .int(Int32(layout.vOffset)),
                                        "u_chromaRows": .int(Int32(layout.uvHeight)),
                                        "u_texelWidth": .ivec3(Int32(planes[0].width), Int32(planes[1].width), Int32(planes[2].width)),
                                      ])
        }
        // Outside the GL thread's turn: a caller on another thread waits for the GPU there.
        try target!.readRGBA8(into: destination, width: layout.packedTexelWidth, height: layout.rows)
    }
}
