// Colour stage: decoder YUV planes -> RGBA8 frame texture (upload + convert), and the frame
// texture -> contiguous 8-bit I420 bytes for the encoder (pack + one readback per frame).
import CGLES
import Foundation

/// Y'CbCr matrix (non-constant luminance), by its luma coefficients Kr and Kb.
public enum YUVMatrix: String, CaseIterable {
    case bt601, bt709, bt2020

    public var kr: Double {
        switch self { case .bt601: return 0.299; case .bt709: return 0.2126; case .bt2020: return 0.2627 }
    }
    public var kb: Double {
        switch self { case .bt601: return 0.114; case .bt709: return 0.0722; case .bt2020: return 0.0593 }
    }
}

/// Horizontal siting of subsampled chroma (vertical siting is always centred between rows).
public enum ChromaLocation {
    /// Co-sited with even luma columns: MPEG-2/H.264/HEVC default ("left", chroma_sample_loc_type 0).
    case left
    /// Between two luma columns (JPEG/MPEG-1).
    case center
}

/// Layout and colour meaning of the decoder's planar frames.
public struct YUVFrameFormat: Equatable {
    /// 8, or 9...16 for UInt16 little-endian samples (e.g. yuv420p10le).
    public var bitDepth: Int
    /// log2 of the horizontal / vertical chroma subsampling: 420 = (1,1), 422 = (1,0), 444 = (0,0).
    public var chromaShiftX: Int
    public var chromaShiftY: Int
    public var matrix: YUVMatrix
    /// Full range (0...2^n-1, "pc"/"jpeg") instead of limited (Y 16-235, C 16-240, times 2^(n-8)).
    public var fullRange: Bool
    public var chromaLocation: ChromaLocation

    public init(bitDepth: Int = 8, chromaShiftX: Int = 1, chromaShiftY: Int = 1, matrix: YUVMatrix = .bt709,
                fullRange: Bool = false, chromaLocation: ChromaLocation = .left) {
        self.bitDepth = bitDepth
        self.chromaShiftX = chromaShiftX
        self.chromaShiftY = chromaShiftY
        self.matrix = matrix
        self.fullRange = fullRange
        self.chromaLocation = chromaLocation
    }

    public static func yuv420p(matrix: YUVMatrix = .bt709, fullRange: Bool = false, bitDepth: Int = 8) -> YUVFrameFormat {
        YUVFrameFormat(bitDepth: bitDepth, chromaShiftX: 1, chromaShiftY: 1, matrix: matrix, fullRange: fullRange)
    }

    public var bytesPerSample: Int { bitDepth > 8 ? 2 : 1 }

    public func chromaWidth(_ lumaWidth: Int) -> Int { (lumaWidth + (1 << chromaShiftX) - 1) >> chromaShiftX }
    public func chromaHeight(_ lumaHeight: Int) -> Int { (lumaHeight + (1 << chromaShiftY) - 1) >> chromaShiftY }
}

/// One plane as the decoder holds it (e.g. AVFrame.data[i] / linesize[i]).
public struct YUVPlane {
    public var base: UnsafeRawPointer
    public var bytesPerRow: Int
    public var width: Int
    public var height: Int
    public init(base: UnsafeRawPointer, bytesPerRow: Int, width: Int, height: Int) {
        self.base = base; self.bytesPerRow = bytesPerRow; self.width = width; self.height = height
    }
}

/// Contiguous 8-bit I420 buffer as the media writer expects it: Y stride S = (W+63)&~63 for H rows,
/// then U and V with stride S/2 for ceil(H/2) rows each. Always whole rows of S bytes.
public struct I420Layout: Equatable {
    public let width: Int
    public let height: Int
    /// Y stride S.
    public let stride: Int
    /// U and V stride, S/2.
    public let uvStride: Int
    public let uvWidth: Int
    public let uvHeight: Int
    public let uOffset: Int
    public let vOffset: Int
    /// Rows of S bytes in the whole buffer: H + ceil(H/2).
    public let rows: Int
    /// S * rows.
    public let byteCount: Int

    public static func forFrame(width: Int, height: Int) -> I420Layout { I420Layout(width: width, height: height) }

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "I420Layout needs a positive size")
        self.width = width
        self.height = height
        stride = (width + 63) & ~63
        uvStride = stride / 2
        uvWidth = (width + 1) / 2
        uvHeight = (height + 1) / 2
        uOffset = stride * height
        vOffset = uOffset + uvStride * uvHeight
        let total = vOffset + uvStride * uvHeight
        rows = (total + stride - 1) / stride
        byteCount = stride * rows
    }

    /// Width in RGBA8 texels of the packing target (4 bytes per texel).
    public var packedTexelWidth: Int { stride / 4 }
}

/// Converter tuning. Defaults are chosen per renderer in `init(context:)` and can be overridden.
public struct ColorConverterSettings: Equatable {
    /// Output: average chroma from NEAREST fetches in float (exact; on llvmpipe also ~10% cheaper
    /// than the alternative) instead of 2 bilinear fetches per sample through a LINEAR sampler
    /// (fewer fetches for hardware GPUs; the filter may round the average to 8 bits).
    public var exactChromaAverage = true
    /// Interleave U and V into one RG texture on the CPU during upload, so the convert pass reads
    /// both with one fetch per tap (4 NEAREST fetches instead of 2 textureGathers): about 20% less
    /// convert time on llvmpipe for ~0.2 ms of CPU per 720p frame. `nil`: on for software renderers.
    public var interleaveChroma: Bool? = nil
    /// Convert as a compute pass (the same shader, `imageStore` into the RGBA8 frame texture) instead
    /// of a fragment pass: data-centre GPUs run pixel shaders on a small part of the chip. `nil`: on for
    /// hardware GPUs, off for software renderers.
    public var computeConvert: Bool? = nil
    /// Pack as compute passes that store the I420 bytes as words of a storage buffer, read back by
    /// mapping it (the NVIDIA driver maps buffers fast but reads `imageStore`d textures slowly; pixel
    /// work runs on a small part of data-centre GPUs). `nil`: on for hardware GPUs, off for software
    /// renderers (the fragment pass into an RGBA8 target, read with glReadPixels).
    public var computePack: Bool? = nil
    /// Upload the planes through pixel-unpack buffers (UploadBuffer) instead of from the decoder's
    /// memory. `nil`: on for hardware GPUs (H100, 1080p: see README), off for software renderers
    /// (an extra copy there).
    public var stagedUpload: Bool? = nil
    /// Siting of the I420 output's chroma (the writer tags left by default).
    public var outputChromaLocation: ChromaLocation = .left
    public init() {}
}

/// Decoded planes → RGBA frame textures (upload + conversion), and RGBA → packed I420 for the encoder.
/// Uploads from one thread at a time (a second uploading thread needs its own converter; the programs can
/// be shared); the I420 pack may run on another thread meanwhile (a render draws on one thread while
/// the next frames are uploaded on another).
public final class FrameColorConverter {
    public let context: GPUContext
    public let programs: ProgramCache
    public let passes: PassRunner
    public var settings: ColorConverterSettings

    // Recreated only when size or format changes.
    private var planeTextures: [Texture] = []
    private var planeKey: (w: Int, h: Int, cw: Int, ch: Int, highBit: Bool, interleaved: Bool)?
    private var interleaveScratch: UnsafeMutableRawPointer?
    private lazy var uploadBuffers: [UploadBuffer] = (0..<3).map { _ in UploadBuffer(context: context) }
    private var interleaveScratchBytes = 0
    public private(set) var frameTexture: Texture?
    /// Render target over `frameTexture`: later stages (overlays) draw into it.
    public private(set) var frameTarget: Framebuffer?
    /// Where a pack writes: an RGBA8 target S/4 texels wide, or (computePack) a storage buffer
    /// holding the same bytes, one word per texel.
    fileprivate enum PackOutput {
        case framebuffer(Framebuffer)
        case buffer(StorageBuffer)
    }
    /// The packing targets, used in turn (`prepareOutput(slots:)`): packed frames wait in them for their
    /// readback. `packSlotsInUse` (under `packSlotLock`: packs happen on the GL thread, reads on the reader's)
    /// marks those not read yet.
    private var packOutputs: [PackOutput] = []
    private var packLayout: I420Layout?
    private var nextPackSlot = 0
    private var packSlotsInUse: [Bool] = []
    private let packSlotLock = NSLock()
    private var packsToBuffer: Bool { settings.computePack ?? !context.isSoftware }
    private let linearSampler: Sampler
    private let nearestSampler: Sampler
    /// Format of the last upload; `readI420` defaults to its matrix and range.
    public private(set) var lastFormat: YUVFrameFormat?

    public init(context: GPUContext, programs: ProgramCache? = nil, passes: PassRunner? = nil,
                settings: ColorConverterSettings = ColorConverterSettings()) throws {
        self.context = context
        self.programs = programs ?? ProgramCache(context: context)
        self.passes = passes ?? PassRunner(context: context)
        self.settings = settings
        linearSampler = Sampler(context: context, filter: .linear)
        nearestSampler = Sampler(context: context, filter: .nearest)
    }

    // MARK: input

    /// Allocates textures and compiles programs for this size and format now (load time), so the
    /// first frame does no GL allocation. `upload` calls it; a repeat call with the same shape is free.
    public func prepare(width: Int, height: Int, format: YUVFrameFormat) throws {
        guard [8, 9, 10, 12, 14, 16].contains(format.bitDepth) else {
            throw GPUError.invalidArgument("bit depth \(format.bitDepth)")
        }
        guard (0...1).contains(format.chromaShiftX), (0...1).contains(format.chromaShiftY) else {
            throw GPUError.invalidArgument("chroma shift \(format.chromaShiftX),\(format.chromaShiftY)")
        }
        let cw = format.chromaWidth(width), ch = format.chromaHeight(height)
        let highBit = format.bitDepth > 8
        let interleaved = interleavesChroma
        if let k = planeKey, k == (width, height, cw, ch, highBit, interleaved) {
        } else {
            // All NEAREST: chroma is filtered in the shader, in float (exact).
            let fmt: TextureFormat = highBit ? .r16ui : .r8
            if interleaved {
                planeTextures = try [
                    Texture(context: context, width: width, height: height, format: fmt),
                    Texture(context: context, width: cw, height: ch, format: highBit ? .rg16ui : .rg8),
                ]
                let bytes = cw * ch * 2 * format.bytesPerSample
                if bytes > interleaveScratchBytes {
                    interleaveScratch?.deallocate()
                    interleaveScratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                    interleaveScratchBytes = bytes
                }
            } else {
                planeTextures = try [
                    Texture(context: context, width: width, height: height, format: fmt),
                    Texture(context: context, width: cw, height: ch, format: fmt),
                    Texture(context: context, width: cw, height: ch, format: fmt),
                ]
            }
            planeKey = (width, height, cw, ch, highBit, interleaved)
        }
        if frameTexture?.width != width || frameTexture?.height != height {
            let t = try Texture(context: context, width: width, height: height, format: .rgba8)
            frameTarget = try Framebuffer(context: context, color: t)
            frameTexture = t
        }
        _ = try convertProgram(format)
        _ = try packPrograms()
    }

    private func convertProgram(_ f: YUVFrameFormat) throws -> Program {
        let defines = [
            "HIGH_BIT_DEPTH": f.bitDepth > 8 ? "1" : "0",
            "CHROMA_SHIFT_X": String(f.chromaShiftX),
            "CHROMA_SHIFT_Y": String(f.chromaShiftY),
            "CHROMA_RG": interleavesChroma ? "1" : "0",
        ]
        if settings.computeConvert ?? !context.isSoftware {
            return try programs.computeProgram("color/yuv_to_rgba.glsl", defines: defines, imageFormat: .rgba8)
        }
        return try programs.program("color/yuv_to_rgba.glsl", defines: defines, version: "310 es")  // textureGather
    }

    private func packPrograms() throws -> (luma: Program, chroma: Program) {
        let chromaDefines = ["CHROMA_LEFT": settings.outputChromaLocation == .left ? "1" : "0",
                             "EXACT_AVERAGE": settings.exactChromaAverage ? "1" : "0"]
        if packsToBuffer {
            return (try programs.computeProgramToWords("color/i420_pack_luma.glsl"),
                    try programs.computeProgramToWords("color/i420_pack_chroma.glsl", defines: chromaDefines))
        }
        return (try programs.program("color/i420_pack_luma.glsl"),
                try programs.program("color/i420_pack_chroma.glsl", defines: chromaDefines))
    }

    /// Copies the three planes into their textures (no conversion yet). Strides are honoured
    /// through GL_UNPACK_ROW_LENGTH, so the decoder's buffers are read directly.
    public func uploadPlanes(y: YUVPlane, u: YUVPlane, v: YUVPlane, format: YUVFrameFormat) throws {
        let cw = format.chromaWidth(y.width), ch = format.chromaHeight(y.height)
        for (name, p) in [("U", u), ("V", v)] where p.width < cw || p.height < ch {
            throw GPUError.invalidArgument("\(name) plane \(p.width)x\(p.height), expected \(cw)x\(ch) for \(y.width)x\(y.height)")
        }
        try prepare(width: y.width, height: y.height, format: format)
        let type: PixelDataType = format.bitDepth > 8 ? .unsignedShort : .unsignedByte
        let staged = settings.stagedUpload ?? !context.isSoftware
        if staged && !context.thread.isCurrent,
           try uploadPlanesMapped(y: y, u: u, v: v, chromaWidth: cw, chromaHeight: ch, format: format, type: type) {
            return
        }
        try context.sync { () throws in
            func via(_ k: Int) -> UploadBuffer? { staged ? uploadBuffers[k] : nil }
            try planeTextures[0].upload(y.base, bytesPerRow: y.bytesPerRow, dataType: type, through: via(0))
            if planeTextures.count == 2, let scratch = interleaveScratch {
                FrameColorConverter.interleave(u, v, width: cw, height: ch, bytesPerSample: format.bytesPerSample, into: scratch)
                try planeTextures[1].upload(scratch, bytesPerRow: cw * 2 * format.bytesPerSample, dataType: type, through: via(1))
            } else {
                try planeTextures[1].upload(u.base, bytesPerRow: u.bytesPerRow, dataType: type, width: cw, height: ch, through: via(1))
                try planeTextures[2].upload(v.base, bytesPerRow: v.bytesPerRow, dataType: type, width: cw, height: ch, through: via(2))
            }
            lastFormat = format
        }
    }

    /// `uploadPlanes` from a thread other than the GL thread: each plane's upload buffer is mapped there,
    /// filled here (the frame's copy, ~3 MB at 1080p, no longer takes the GL thread's time from the other
    /// streams), then unmapped and uploaded there. false when a buffer could not be mapped or kept
    /// (nothing uploaded: the caller uploads the usual way).
    private func uploadPlanesMapped(y: YUVPlane, u: YUVPlane, v: YUVPlane, chromaWidth cw: Int, chromaHeight ch: Int,
                                    format: YUVFrameFormat, type: PixelDataType) throws -> Bool {
        let bps = format.bytesPerSample
        typealias Plane = (texture: Texture, buffer: UploadBuffer, bytes: Int, fill: (UnsafeMutableRawPointer) -> Void)
        let luma = planeTextures[0]
        var planes: [Plane] = [(luma, uploadBuffers[0], luma.width * bps * luma.height, {
            UploadBuffer.copyRows(y.base, bytesPerRow: y.bytesPerRow, rowBytes: luma.width * bps, rows: luma.height, into: $0)
        })]
        if planeTextures.count == 2 {
            planes.append((planeTextures[1], uploadBuffers[1], cw * 2 * bps * ch, {
                FrameColorConverter.interleave(u, v, width: cw, height: ch, bytesPerSample: bps, into: $0)
            }))
        } else {
            for (k, p) in [(1, u), (2, v)] {
                planes.append((planeTextures[k], uploadBuffers[k], cw * bps * ch, {
                    UploadBuffer.copyRows(p.base, bytesPerRow: p.bytesPerRow, rowBytes: cw * bps, rows: ch, into: $0)
                }))
            }
        }
        let mapped = context.sync { planes.map { $0.buffer.map(bytes: $0.bytes) } }
        guard mapped.allSatisfy({ $0 != nil }) else {
            context.sync { for (p, m) in zip(planes, mapped) where m != nil { _ = p.buffer.unmap() }; glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0) }
            return false
        }
        for (p, m) in zip(planes, mapped) { p.fill(m!) }
        return try context.sync { () throws -> Bool in
            var all = true
            for p in planes {
                if p.buffer.unmap() {
                    try p.texture.uploadFromBoundUnpackBuffer(dataType: type, width: p.texture.width, height: p.texture.height)
                } else {
                    all = false
                }
            }
            // On the GL thread, where a pack on another thread reads it (`readI420`'s default matrix).
            if all { lastFormat = format }
            return all
        }
    }

    /// Converts the uploaded planes into the frame texture (RGBA8, gamma-encoded, alpha 1), or into
    /// `destination` (an RGBA8 target of the frame's size: a frame kept for later, see FaceAnalyzer.frameSlot).
    @discardableResult
    public func convertPlanes(into destination: Framebuffer? = nil) throws -> Texture {
        guard let f = lastFormat, let target = destination ?? frameTarget, let own = frameTexture else {
            throw GPUError.invalidArgument("convertPlanes() before uploadPlanes()")
        }
        guard target.color.format == .rgba8, target.width == own.width, target.height == own.height else {
            throw GPUError.invalidArgument("convert into a \(target.width)x\(target.height) \(target.color.format) target for a \(own.width)x\(own.height) frame")
        }
        let frame = target.color
        let program = try convertProgram(f)
        let m = FrameColorConverter.yuvToRGBMatrix(f)
        let chroma = planeTextures[1]
        // Chroma texel coordinate of luma pixel p: left-sited columns p/2, centred p/2 - 1/4;
        // rows (always centred) p/2 - 1/4; no subsampling: p.
        let mx: Float = f.chromaShiftX == 1 ? 0.5 : 1, my: Float = f.chromaShiftY == 1 ? 0.5 : 1
        let ox: Float = f.chromaShiftX == 1 && f.chromaLocation == .center ? -0.25 : 0
        let oy: Float = f.chromaShiftY == 1 ? -0.25 : 0
        let inputs = planeTextures.count == 2
            ? [PassInput("u_y", planeTextures[0]), PassInput("u_uv", chroma)]
            : [PassInput("u_y", planeTextures[0]), PassInput("u_u", chroma), PassInput("u_v", planeTextures[2])]
        let uniforms: [String: UniformValue] = ["u_yuvToRgb": .mat4(m),
                                                "u_lumaInvSize": .vec2(1 / Float(target.width), 1 / Float(target.height)),
                                                "u_chromaMap": .vec4(mx, my, ox, oy),
                                                "u_chromaInvSize": .vec2(1 / Float(chroma.width), 1 / Float(chroma.height))]
        if program.isCompute {
            try passes.dispatch(program: program, target: frame, inputs: inputs, uniforms: uniforms)
        } else {
            try passes.drawFullscreen(program: program, target: target, inputs: inputs, uniforms: uniforms)
        }
        return frame
    }

    /// Upload + convert: returns the frame texture (the same object every frame of this size), or
    /// `destination`'s texture when one is given.
    @discardableResult
    public func upload(y: YUVPlane, u: YUVPlane, v: YUVPlane, format: YUVFrameFormat, into destination: Framebuffer? = nil) throws -> Texture {
        try uploadPlanes(y: y, u: u, v: v, format: format)
        return try context.sync { () throws -> Texture in try convertPlanes(into: destination) }
    }

    private var interleavesChroma: Bool { settings.interleaveChroma ?? context.isSoftware }

    /// U, V planes -> one tight UVUV... buffer (rows of `width` pairs).
    static func interleave(_ u: YUVPlane, _ v: YUVPlane, width: Int, height: Int, bytesPerSample: Int,
                           into out: UnsafeMutableRawPointer) {
        if bytesPerSample == 1 {
            for r in 0..<height {
                let su = (u.base + r * u.bytesPerRow).assumingMemoryBound(to: UInt8.self)
                let sv = (v.base + r * v.bytesPerRow).assumingMemoryBound(to: UInt8.self)
                // Two bytes as one UInt16 store (little-endian: U first).
                let d = (out + r * width * 2).assumingMemoryBound(to: UInt16.self)
                for c in 0..<width { d[c] = UInt16(su[c]) | UInt16(sv[c]) << 8 }
            }
        } else {
            for r in 0..<height {
                let su = (u.base + r * u.bytesPerRow).assumingMemoryBound(to: UInt16.self)
                let sv = (v.base + r * v.bytesPerRow).assumingMemoryBound(to: UInt16.self)
                let d = (out + r * width * 4).assumingMemoryBound(to: UInt32.self)
                for c in 0..<width { d[c] = UInt32(su[c]) | UInt32(sv[c]) << 16 }
            }
        }
    }

    deinit { interleaveScratch?.deallocate() }

    // MARK: output

    /// A frame packed into one of the converter's output slots, waiting for its readback: made by the
    /// caller, filled by `pack` on the GL thread (often queued, so the caller goes on), read by `read`.
    public final class PackedI420 {
        public let layout: I420Layout
        /// Passes once the pack is done on the GPU; settled with the error when the pack (or the work
        /// queued with it) failed.
        public let ready = GPUFence()
        /// The slot packed into, and its target (read without touching the converter's list).
        fileprivate var slot: Int?
        fileprivate var output: PackOutput?
        public init(layout: I420Layout) { self.layout = layout }
    }

    /// GL thread: packs the I420 bytes of `frame` into the next output slot for `packed` (no readback
    /// yet) and arms its fence. Matrix and range default to those of the last upload, so an unfiltered
    /// frame round-trips. A failure also settles the fence, so a reader waiting for it gets the error.
    public func pack(_ frame: Texture, into packed: PackedI420, matrix: YUVMatrix? = nil, fullRange: Bool? = nil) throws {
        do {
            let layout = packed.layout
            guard frame.width == layout.width, frame.height == layout.height else {
                throw GPUError.invalidArgument("layout \(layout.width)x\(layout.height) for a \(frame.width)x\(frame.height) frame")
            }
            try prepareOutputStorage(layout, slots: max(packOutputs.count, 1))
            let slot = nextPackSlot
            try packSlotLock.withLock { () throws in
                // The caller reads packed frames in order, at most `slots` in flight (RenderJob).
                guard !packSlotsInUse[slot] else {
                    throw GPUError.invalidArgument("more than \(packOutputs.count) packed frames waiting for their readback")
                }
                packSlotsInUse[slot] = true
            }
            packed.slot = slot
            packed.output = packOutputs[slot]
            nextPackSlot = (slot + 1) % packOutputs.count
            try packI420(from: frame, into: packOutputs[slot], layout: layout, matrix: matrix, fullRange: fullRange)
            context.thread.arm(packed.ready)
        } catch {
            packed.ready.settle(error)
            throw error
        }
    }

    /// Any thread: waits for `packed` (its own pack, not work queued since) and copies its
    /// `layout.byteCount` bytes into `destination`; frees its slot. Throws the pack's error if it failed.
    public func read(_ packed: PackedI420, into destination: UnsafeMutableRawPointer) throws {
        defer {
            if let slot = packed.slot { packSlotLock.withLock { packSlotsInUse[slot] = false } }
            packed.slot = nil
            packed.output = nil
        }
        try context.wait(packed.ready)
        guard let output = packed.output else { throw GPUError.invalidArgument("read of a frame that was never packed") }
        let layout = packed.layout
        switch output {
        case .buffer(let buffer):
            try buffer.read(offset: 0, bytes: layout.byteCount, into: UnsafeMutableRawBufferPointer(start: destination, count: layout.byteCount),
                            after: packed.ready)
        case .framebuffer(let fb):
            try fb.readRGBA8(into: destination, width: layout.packedTexelWidth, height: layout.rows)
        }
    }

    /// Pack + readback: writes the frame as I420 (`layout.byteCount` bytes) into `destination`.
    public func readI420(from frame: Texture, layout: I420Layout, into destination: UnsafeMutableRawPointer,
                         matrix: YUVMatrix? = nil, fullRange: Bool? = nil) throws {
        let packed = PackedI420(layout: layout)
        try context.sync { () throws in try pack(frame, into: packed, matrix: matrix, fullRange: fullRange) }
        // A caller off the GL thread waits for the GPU on its own thread (the GL thread serves others).
        try read(packed, into: destination)
    }

    /// Renders the I420 bytes of `frame` into `target`.
    private func packI420(from frame: Texture, into target: PackOutput, layout: I420Layout, matrix: YUVMatrix?, fullRange: Bool?) throws {
        let m = matrix ?? lastFormat?.matrix ?? .bt709
        let full = fullRange ?? lastFormat?.fullRange ?? false
        let (luma, chroma) = try packPrograms()
        let rows = FrameColorConverter.rgbToYUVRows(matrix: m, fullRange: full)
        let common: [String: UniformValue] = [
            "u_invSize": .vec2(1 / Float(layout.width), 1 / Float(layout.height)),
            "u_size": .ivec2(Int32(layout.width), Int32(layout.height)),
        ]
        let chromaUniforms = common.merging([
            "u_stride": .int(Int32(layout.stride)),
            "u_chromaSize": .ivec2(Int32(layout.uvWidth), Int32(layout.uvHeight)),
            "u_uOffset": .int(Int32(layout.uOffset)),
            "u_vOffset": .int(Int32(layout.vOffset)),
            "u_uRow": .vec4(rows[4], rows[5], rows[6], rows[7]),
            "u_vRow": .vec4(rows[8], rows[9], rows[10], rows[11]),
        ]) { a, _ in a }
        let lumaUniforms = common.merging(["u_yRow": .vec4(rows[0], rows[1], rows[2], rows[3])]) { a, _ in a }
        let chromaSampler = settings.exactChromaAverage ? nearestSampler : linearSampler
        // Two passes over disjoint row bands, so neither shader branches on the plane.
        let lumaBand = Viewport(x: 0, y: 0, width: layout.packedTexelWidth, height: layout.height)
        let chromaBand = Viewport(x: 0, y: layout.height, width: layout.packedTexelWidth, height: layout.rows - layout.height)
        switch target {
        case .buffer(let buffer):
            let g = context.tuning.computeGroup
            for (program, band, sampler, uniforms) in [(luma, lumaBand, nearestSampler, lumaUniforms), (chroma, chromaBand, chromaSampler, chromaUniforms)] {
                var u = uniforms
                u["u_passRegion"] = .ivec4(Int32(band.x), Int32(band.y), Int32(band.width), Int32(band.height))
                u["u_passRowWords"] = .int(Int32(layout.packedTexelWidth))
                try passes.dispatch(program: program, groups: ((band.width + g.x - 1) / g.x, (band.height + g.y - 1) / g.y, 1),
                                    buffer: buffer, inputs: [PassInput("u_frame", frame, sampler: sampler)], uniforms: u)
            }
        case .framebuffer(let fb):
            try passes.drawFullscreen(program: luma, target: fb, viewport: lumaBand,
                                      inputs: [PassInput("u_frame", frame, sampler: nearestSampler)], uniforms: lumaUniforms)
            try passes.drawFullscreen(program: chroma, target: fb, viewport: chromaBand,
                                      inputs: [PassInput("u_frame", frame, sampler: chromaSampler)], uniforms: chromaUniforms)
        }
    }

    /// `slots` packing targets for this layout (made once; more slots are added, never fewer kept).
    private func prepareOutputStorage(_ layout: I420Layout, slots: Int) throws {
        if packLayout != layout {
            try packSlotLock.withLock { () throws in
                guard !packSlotsInUse.contains(true) else {
                    throw GPUError.invalidArgument("output size changed while packed frames wait for their readback")
                }
                packSlotsInUse = []
            }
            packOutputs = []
            nextPackSlot = 0
            packLayout = layout
        }
        while packOutputs.count < slots {
            if packsToBuffer {
                packOutputs.append(.buffer(try StorageBuffer(context: context, bytes: layout.byteCount)))
            } else {
                let tex = try Texture(context: context, width: layout.packedTexelWidth, height: layout.rows, format: .rgba8)
                packOutputs.append(.framebuffer(try Framebuffer(context: context, color: tex)))
            }
            packSlotLock.withLock { packSlotsInUse.append(false) }
        }
    }

    /// Creates the packing targets now (load time) for this output size: `slots` frames may wait for
    /// their readback at once (`pack` / `read`).
    public func prepareOutput(layout: I420Layout, slots: Int = 1) throws {
        precondition(slots >= 1)
        try context.sync { () throws in try prepareOutputStorage(layout, slots: slots) }
    }

    // MARK: matrices

    /// Column-major 4x4 mapping sampled values (8-bit: code/255, >8-bit: integer code) plus 1 to RGB.
    static func yuvToRGBMatrix(_ f: YUVFrameFormat) -> [Float] {
        let kr = f.matrix.kr, kb = f.matrix.kb, kg = 1 - kr - kb
        let n = Double(f.bitDepth)
        let sample = f.bitDepth > 8 ? 1.0 : 255.0  // sampled value -> code
        let maxCode = pow2(n) - 1
        // normalised y' = sy*code + oy, c' = sc*code + oc
        let sy, oy, sc, oc: Double
        if f.fullRange {
            sy = 1 / maxCode; oy = 0
            sc = 1 / maxCode; oc = -pow2(n - 1) / maxCode
        } else {
            let k = pow2(n - 8)
            sy = 1 / (219 * k); oy = -16.0 / 219
            sc = 1 / (224 * k); oc = -128.0 / 224
        }
        // rgb = A * (y', cb', cr')
        let a: [[Double]] = [
            [1, 0, 2 * (1 - kr)],
            [1, -2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg],
            [1, 2 * (1 - kb), 0],
        ]
        var m = [Float](repeating: 0, count: 16)
        for r in 0..<3 {
            m[0 * 4 + r] = Float(a[r][0] * sy * sample)
            m[1 * 4 + r] = Float(a[r][1] * sc * sample)
            m[2 * 4 + r] = Float(a[r][2] * sc * sample)
            m[3 * 4 + r] = Float(a[r][0] * oy + a[r][1] * oc + a[r][2] * oc)
        }
        m[15] = 1
        return m
    }

    /// Three rows (Y, Cb, Cr) of 4 floats mapping (R, G, B, 1) in 0...1 to 8-bit codes.
    static func rgbToYUVRows(matrix: YUVMatrix, fullRange: Bool) -> [Float] {
        let kr = matrix.kr, kb = matrix.kb, kg = 1 - kr - kb
        let ys = fullRange ? 255.0 : 219.0, yo = fullRange ? 0.0 : 16.0
        let cs = fullRange ? 255.0 : 224.0
        let y = [kr, kg, kb]
        let cb = [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5]
        let cr = [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))]
        return [y.map { Float($0 * ys) } + [Float(yo)],
                cb.map { Float($0 * cs) } + [128],
                cr.map { Float($0 * cs) } + [128]].flatMap { $0 }
    }
}

@inline(__always) private func pow2(_ e: Double) -> Double { Double(1 << Int(e)) }
