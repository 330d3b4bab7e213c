// The overlay stage as the render loop and `facefx preview` use it: filters validated and GL
// objects created once (`prepare`), then one `draw` per frame on the GL thread.
import FaceFXFace
import FaceFXGPU
import FaceFXOverlay
import Foundation

public final class OverlayStage {
    public let renderer: OverlayRenderer
    public let context: GPUContext

    /// Loads and validates filters by name (before any frame), compiles programs, uploads art.
    /// `faceModel`: the canonical face mesh the mesh elements are painted on (`FaceStage.loadFaceModel`).
    public static func prepare(filters: [String], folders: [URL], shared: SharedGPU,
                               faceModel: CanonicalFaceModel, settings: OverlaySettings = OverlaySettings()) throws -> OverlayStage {
        let packs = try FilterCatalog.load(filters, folders: folders)
        do {
            return OverlayStage(renderer: try OverlayRenderer(context: shared.context, programs: shared.programs, filters: packs,
                                                              model: faceModel, settings: settings),
                                context: shared.context)
        } catch let e as OverlayError {
            throw PipelineError.processing(e.description)
        }
    }

    init(renderer: OverlayRenderer, context: GPUContext) {
        self.renderer = renderer
        self.context = context
    }

    /// Draws the filters over a converted frame (after `upload`, before `readI420`).
    public func draw(into target: Framebuffer, faces: [OverlayFace], time: Double) throws {
        try renderer.render(into: target, width: target.width, height: target.height, faces: faces, time: time)
    }

    /// Renders over an RGBA still (row 0 = top) and returns the result (tests, previews of pictures).
    /// Uses one texture/framebuffer per size, kept for the next call.
    public func renderStill(_ image: RGBAImage, faces: [OverlayFace], time: Double = 0) throws -> RGBAImage {
        try context.sync { () throws -> RGBAImage in
            if stillTarget?.width != image.width || stillTarget?.height != image.height {
                let t = try Texture(context: context, width: image.width, height: image.height, format: .rgba8)
                stillTarget = try Framebuffer(context: context, color: t)
            }
            let target = stillTarget!
            try target.color.upload(bytes: image.pixels)
            try renderer.render(into: target, width: image.width, height: image.height, faces: faces, time: time)
            return RGBAImage(width: image.width, height: image.height, pixels: try target.readRGBA8())
        }
    }
    private var stillTarget: Framebuffer?
}
