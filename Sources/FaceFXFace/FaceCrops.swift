// Network inputs rendered from the frame texture (Shaders/face/crop.glsl): detector tiles,
// rotated landmark ROIs and eye-aligned emotion boxes, each a batch of crops in one draw,
// written straight into the texture a network reads (see `ImageNetworkRunner.inputTarget`).
//
// Layout of every crop texture (FaceFXNeural's NHWC layout for C <= 4): RGBA16F/32F, width W,
// height ≥ H·N; tensor element [n, v, u, c] = texel (u, n·H + v), lane c, unused lanes 0;
// v = 0 is the crop's top row and lies in texture row n·H (memory order, as glReadPixels
// returns it).

import FaceFXGPU
import FaceFXNeural
import Foundation

/// What a crop pass produces: size, channels and value range of one network input.
public struct FaceCropKind: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// 3 (RGB) or 1 (grey, BT.601 weights as OpenCV's BGR2GRAY).
    public var channels: Int
    /// Value written = sample in 0...1 · scale + offset.
    public var valueScale: Float
    public var valueOffset: Float
    /// Taps outside the frame read 0 (letterbox padding) instead of the nearest edge pixel.
    public var zeroBorder: Bool

    public init(width: Int, height: Int, channels: Int, valueScale: Float, valueOffset: Float, zeroBorder: Bool) {
        self.width = width; self.height = height; self.channels = channels
        self.valueScale = valueScale; self.valueOffset = valueOffset; self.zeroBorder = zeroBorder
    }

    /// BlazeFace short range: 128×128 RGB in [-1, 1] (x/127.5 − 1), black outside the frame.
    public static let detector = FaceCropKind(width: 128, height: 128, channels: 3, valueScale: 2, valueOffset: -1, zeroBorder: true)
    /// Face landmarker: 256×256 RGB in [0, 1], replicated border (MediaPipe's BORDER_REPLICATE).
    public static let landmarks = FaceCropKind(width: 256, height: 256, channels: 3, valueScale: 1, valueOffset: 0, zeroBorder: false)
    /// FER emotion net: 64×64 grey in [-1, 1] ((x/255 − 0.5)·2, fer's preprocessing), replicated border.
    public static let emotion = FaceCropKind(width: 64, height: 64, channels: 1, valueScale: 2, valueOffset: -1, zeroBorder: false)
    /// A `facefx train` classifier's input: grey64 is the emotion crop; rgb128 the same box in colour at
    /// 128 px, values in [-1, 1] as well.
    public static func classifier(_ input: FaceClassifierNet.Input) -> FaceCropKind {
        input == .grey64 ? .emotion
            : FaceCropKind(width: input.side, height: input.side, channels: input.channels, valueScale: 2, valueOffset: -1, zeroBorder: false)
    }
}

/// Output pixel index → frame pixel-index position, per crop. Builders for the three crop types.
public enum CropMapping {
    /// A detector tile: the tile's source square goes to the input's corners (0,0)…(N,N), so a
    /// 512² frame letterboxed to 128² samples frame pixel (4u, 4v) (MediaPipe's convention).
    public static func tile(_ tile: DetectionTile) -> Affine2D {
        let n = Double(tile.inputSize)
        return Affine2D(rowMajor: [tile.source.width / n, 0, tile.source.minX,
                                   0, tile.source.height / n, tile.source.minY, 0, 0, 1])
    }

    /// A landmark ROI: `RoiTransform.cropToFrame` itself (the ROI's corners go to the crop's corners),
    /// which is also the map the network's landmark coordinates come back through.
    public static func roi(_ transform: RoiTransform) -> Affine2D { transform.cropToFrame }

    /// Pixel-centre resize convention (OpenCV `resize`, which fer trained with): output pixel
    /// centre (u+½, v+½) maps through `cropToFrame` to a source pixel centre.
    public static func pixelCentred(_ transform: RoiTransform) -> Affine2D {
        Affine2D.translation(-0.5, -0.5).concatenating(transform.cropToFrame).concatenating(.translation(0.5, 0.5))
    }
}

/// The emotion net's input box, from landmarks. fer crops an axis-aligned Haar face box grown by
/// 10 px per side (115 px for astronaut.png's 95 px box); measured on astronaut.png against
/// MediaPipe's landmarks that box is 1.91 × the outer-eye-corner distance wide, centred 0.19 ×
/// that distance below the eye midpoint. We use the same proportions in the eye-aligned frame
/// (roll removed), with the eye distance measured in 3-D (x, y, z of landmarks 33/263) so a
/// turned head does not shrink the box.
public struct EmotionBox: Equatable, Sendable {
    public var roi: FaceROI

    public init(landmarks p: [Point], sizeInEyeDistances: Double = 1.91, downInEyeDistances: Double = 0.19) {
        let a = p[FaceLandmarks.subjectRightEyeOuter], b = p[FaceLandmarks.subjectLeftEyeOuter]
        let rot = FaceROI.rotation(from: Point2(a.x, a.y), to: Point2(b.x, b.y))
        let d = max(length3(b - a), 1)
        // The face's "down" in the image: the eye line turned 90° clockwise on screen (y down).
        let down = Point2(-sin(rot), cos(rot))
        let mid = Point2((a.x + b.x) / 2, (a.y + b.y) / 2)
        roi = FaceROI(center: mid + down * (downInEyeDistances * d), size: sizeInEyeDistances * d, rotation: rot)
    }

    public func mapping(kind: FaceCropKind = .emotion) -> Affine2D {
        CropMapping.pixelCentred(roi.transform(cropSize: Double(kind.width)))
    }
}

@inline(__always) private func length3(_ v: Point) -> Double { (v * v).sum().squareRoot() }

/// Renders crop batches from a frame texture. Create once per GL context (program compiled on
/// first use per kind; the small per-crop parameter texture only grows).
public final class FaceCropRenderer {
    public let context: GPUContext
    public let programs: ProgramCache
    public let passes: PassRunner
    private var params: Texture?
    private var paramValues: [Float] = []
    /// What the callers know is ready on the GL thread (programs by key, parameter rows), and the first
    /// error of a render queued without waiting (`render`); under `lock`.
    private var readyPrograms: Set<String> = []
    private var readyRows = 0
    private var queuedError: Error?
    private let lock = NSLock()

    public init(context: GPUContext, programs: ProgramCache? = nil, passes: PassRunner? = nil) {
        self.context = context
        self.programs = programs ?? ProgramCache(context: context)
        self.passes = passes ?? PassRunner(context: context)
    }

    /// Crops as compute passes (imageStore into the network input) on hardware GPUs, where pixel
    /// shaders run on a small part of the chip; fragment passes on software renderers.
    /// `GPUTuning.cropPasses` (FACEFX_CROP_PASSES) overrides.
    public lazy var computePasses: Bool = context.tuning.cropPasses.map { $0 == .compute } ?? !context.isSoftware

    /// The crop program; `targetFormat`: the format of the texture it writes (compute passes store
    /// through an image of that format).
    public func program(_ kind: FaceCropKind, targetFormat: TextureFormat = .rgba16f) throws -> Program {
        let defines = [
            "CHANNELS": String(kind.channels),
            "BORDER_ZERO": kind.zeroBorder ? "1" : "0",
        ]
        if computePasses { return try programs.computeProgram("face/crop.glsl", defines: defines, imageFormat: targetFormat) }
        return try programs.program("face/crop.glsl", defines: defines)
    }

    /// Compiles the program and sizes the parameter texture now (load time).
    public func prepare(kind: FaceCropKind, maxItems: Int) throws {
        try context.sync { () throws in
            for f in computePasses ? [TextureFormat.rgba16f, .rgba32f] : [.rgba16f] { _ = try program(kind, targetFormat: f) }
            _ = try parameterTexture(items: maxItems)
        }
    }

    private func parameterTexture(items: Int) throws -> Texture {
        if let p = params, p.height >= items { return p }
        let t = try Texture(context: context, width: 2, height: max(items, params.map { $0.height * 2 } ?? 16), format: .rgba32f)
        params = t
        return t
    }

    /// Renders `mappings.count` crops of `frame` into items firstItem ..< firstItem + count, i.e.
    /// rows firstItem·kind.height ..< (firstItem + count)·kind.height of `target` (layout in the file
    /// header). `frame` is the RGBA8 frame texture (its filter does not matter: the shader fetches
    /// texels). Items before `firstItem` are left as they are, so crops of several frames can gather in
    /// one network input (FaceAnalyzer.push).
    /// Queued without waiting once its program and parameter rows exist (the caller's thread is not held
    /// for a GL-thread round trip, several per frame); the first render of a kind waits, so compile errors
    /// throw here. An error of a queued render is thrown by the next `render` or `throwQueuedError()`.
    public func render(frame: Texture, mappings: [Affine2D], kind: FaceCropKind, into target: Framebuffer, firstItem: Int = 0) throws {
        guard !mappings.isEmpty else { return }
        let end = firstItem + mappings.count
        guard firstItem >= 0, target.width >= kind.width, target.height >= kind.height * end else {
            throw GPUError.invalidArgument("crop target \(target.width)x\(target.height) too small for items \(firstItem)..<\(end) of \(kind.width)x\(kind.height)")
        }
        try throwQueuedError()
        let key = "\(kind.channels)|\(kind.zeroBorder)|\(target.color.format)"
        if lock.withLock({ readyPrograms.contains(key) && end <= readyRows }) {
            context.async { [self] in
                do { try draw(frame: frame, mappings: mappings, kind: kind, into: target, firstItem: firstItem) } catch {
                    lock.withLock { if queuedError == nil { queuedError = error } }
                }
            }
            return
        }
        let rows = try context.sync { () throws -> Int in
            try draw(frame: frame, mappings: mappings, kind: kind, into: target, firstItem: firstItem)
            return params?.height ?? 0
        }
        lock.withLock { readyPrograms.insert(key); readyRows = rows }
    }

    /// Throws (once) the error of a render that was queued without waiting. Readers of crop targets call
    /// it after their readback, when every earlier render has run.
    public func throwQueuedError() throws {
        if let e = lock.withLock({ () -> Error? in defer { queuedError = nil }; return queuedError }) { throw e }
    }

    /// GL thread: the crop pass of `render`.
    private func draw(frame: Texture, mappings: [Affine2D], kind: FaceCropKind, into target: Framebuffer, firstItem: Int) throws {
        let end = firstItem + mappings.count
        let program = try program(kind, targetFormat: target.color.format)
        let p = try parameterTexture(items: end)
        // Rows before firstItem keep the values of earlier calls (they are uploaded again unchanged).
        if paramValues.count < 8 * end { paramValues += [Float](repeating: 0, count: 8 * end - paramValues.count) }
        for (k, a) in mappings.enumerated() {
            let m = a.m, n = firstItem + k
            paramValues.replaceSubrange(8 * n ..< 8 * n + 8, with: [Float(m[0]), Float(m[1]), Float(m[2]), 0,
                                                                    Float(m[3]), Float(m[4]), Float(m[5]), 0])
        }
        try paramValues.withUnsafeBytes {
            try p.upload($0.baseAddress!, bytesPerRow: 2 * 16, dataType: .float, width: 2, height: end)
        }
        let region = Viewport(x: 0, y: kind.height * firstItem, width: kind.width, height: kind.height * mappings.count)
        let inputs = [PassInput("u_frame", frame), PassInput("u_params", p)]
        let uniforms: [String: UniformValue] = ["u_itemHeight": .int(Int32(kind.height)),
                                                "u_valueMap": .vec2(kind.valueScale, kind.valueOffset)]
        if program.isCompute {
            try passes.dispatch(program: program, target: target.color, region: region, inputs: inputs, uniforms: uniforms)
        } else {
            try passes.drawFullscreen(program: program, target: target, viewport: region, inputs: inputs, uniforms: uniforms)
        }
    }
}
