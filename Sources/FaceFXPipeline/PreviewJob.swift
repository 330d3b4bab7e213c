// `facefx preview`: N frames spread evenly over the input, each rendered through the GPU colour
// stage and the overlay stage, shrunk into one contact-sheet PNG.
// Face data comes from a `FaceSource`: a JSON file (`--faces`) or the tracker on each shown frame.
import FaceFXGPU
import FaceFXMedia
import FaceFXOverlay
import Foundation

/// Where faces for a frame come from. Called on the preview's thread, frames in order.
public protocol FaceSource: AnyObject {
    /// Faces of one frame: `frame` is its RGBA8 texture, converted once for the tracker and the filters
    /// (called on the GL thread), `time` in seconds.
    func faces(frameIndex: Int, time: Double, frame: Texture) throws -> [OverlayFace]
}

/// Faces read from a JSON file (FaceDataFile layouts).
public final class FileFaceSource: FaceSource {
    let file: FaceDataFile
    public init(path: String) throws {
        do { file = try FaceDataFile.load(path: path) } catch let e as FilterError { throw PipelineError.usage(e.description) }
    }
    public func faces(frameIndex: Int, time: Double, frame: Texture) throws -> [OverlayFace] {
        file.faces(at: time, width: frame.width, height: frame.height)
    }
}

public struct PreviewOptions {
    public var input: String
    public var output: String
    public var filters: [String]
    /// Filter folders searched in order and the Models/ folder (found by the executable: ResourceLocator;
    /// the models nil when the job needs none).
    public var filterFolders: [URL] = []
    public var modelsDirectory: URL?
    public var frames: Int = 6
    public var facesFile: String?
    public var tileWidth: Int = 480
    public var overwrite = false
    public var gpu: GPUDeviceSelection = .auto
    /// Renderer knobs (`GPUTuning(environment:)` at the command line).
    public var tuning = GPUTuning()
    public var tracking = FaceTrackingOptions()
    public init(input: String, output: String, filters: [String]) {
        self.input = input; self.output = output; self.filters = filters
    }
}

public final class PreviewJob {
    public let options: PreviewOptions

    public init(options: PreviewOptions) { self.options = options }

    /// Writes the sheet; returns a one-line summary.
    public func run() throws -> String {
        do { return try runUnmapped() } catch { throw PipelineError.from(error) }
    }

    private func runUnmapped() throws -> String {
        let o = options
        guard o.output.lowercased().hasSuffix(".png") else { throw PipelineError.usage("\(o.output): the contact sheet is a PNG (use a .png name)") }
        guard (1...64).contains(o.frames) else { throw PipelineError.usage("--frames: expected 1…64, got \(o.frames)") }
        guard !o.filters.isEmpty else { throw PipelineError.usage("preview: name at least one --filter") }
        try RenderJob.checkPaths(input: o.input, output: o.output, overwrite: o.overwrite)
        let reader = try VideoReader(path: o.input)
        let info = reader.info
        let shared = try SharedGPU(device: o.gpu, tuning: o.tuning)
        let gpu = shared.context
        let models = try FaceStage.models(o.modelsDirectory)
        let stage = try OverlayStage.prepare(filters: o.filters, folders: o.filterFolders, shared: shared,   // validated before any frame
                                             faceModel: try FaceStage.loadFaceModel(modelsDirectory: models))
        let source: FaceSource
        let colour = try FrameColorConverter(context: gpu, programs: shared.programs)
        if let f = o.facesFile {
            source = try FileFaceSource(path: f)
        } else {
            source = try AnalyzerFaceSource(shared: shared, options: o.tracking, modelsDirectory: models)
        }

        let total = max(1, info.estimatedFrameCount ?? 1)   // stills report no count
        let n = min(o.frames, total)
        let wanted = Set((0..<n).map { Int((Double($0) + 0.5) * Double(total) / Double(n)) })
        let tileW = min(o.tileWidth, info.width), tileH = max(1, Int((Double(tileW) * Double(info.height) / Double(info.width)).rounded()))
        let cols = Int(Double(n).squareRoot().rounded(.up)), rows = (n + cols - 1) / cols
        let sheetTexture = try Texture(context: gpu, width: cols * tileW, height: rows * tileH, format: .rgba8)
        let sheet = try Framebuffer(context: gpu, color: sheetTexture)
        try sheet.clear(0.08, 0.08, 0.08, 1)
        let shrink = try shared.programs.program("overlay/downsample.glsl", defines: ["TAPS": "4"])
        let passes = PassRunner(context: gpu)
        let linear = Sampler(context: gpu, filter: .linear)

        var index = 0, placed = 0
        var lastFrame: VideoFrame?
        while placed < n, let frame = try reader.nextFrame() {
            defer { index += 1 }
            lastFrame = frame
            guard wanted.contains(index) else { continue }
            try renderTile(frame, index: index, slot: placed)
            placed += 1
        }
        // Stills and short files: fewer frames than estimated; use the last one if nothing was placed.
        if placed == 0, let f = lastFrame { try renderTile(f, index: index - 1, slot: 0); placed = 1 }
        guard placed > 0 else { throw PipelineError.processing("\(o.input): no frames decoded") }

        func renderTile(_ frame: VideoFrame, index: Int, slot: Int) throws {
            let (y, u, v) = frame.gpuPlanes()
            try gpu.sync { () throws in
                let texture = try colour.upload(y: y, u: u, v: v, format: frame.gpuFormat)
                let faces = try source.faces(frameIndex: index, time: frame.timeSeconds, frame: texture)
                guard let target = colour.frameTarget else { throw PipelineError.processing("internal: no frame target after upload") }
                try stage.draw(into: target, faces: faces, time: frame.timeSeconds)
                let x0 = (slot % cols) * tileW, y0 = (slot / cols) * tileH
                try passes.drawFullscreen(program: shrink, target: sheet, viewport: Viewport(x: x0, y: y0, width: tileW, height: tileH),
                                          inputs: [PassInput("u_src", texture, sampler: linear)],
                                          uniforms: ["u_rect": .vec4(0, 0, Float(frame.width), Float(frame.height)),
                                                     "u_outSize": .vec2(Float(tileW), Float(tileH)),
                                                     "u_frameSize": .vec2(Float(frame.width), Float(frame.height)),
                                                     "u_outOrigin": .vec2(Float(x0), Float(y0))])
            }
        }
        let pixels = try sheet.readRGBA8()
        try PNGCodec.writeRGBA(path: o.output, width: sheet.width, height: sheet.height, pixels: pixels)
        withExtendedLifetime((reader, stage, colour, passes, linear)) {}
        return "facefx: \(o.output): \(placed) frame\(placed == 1 ? "" : "s") of \(o.input), \(cols)×\(rows) tiles of \(tileW)×\(tileH)"
    }
}
