// Shared fixtures for overlay tests: one GPU context, the astronaut photo with MediaPipe's own
// landmarks/blendshapes/pose for it (Tests/Fixtures/goldens/pipeline_astronaut.json), renderers
// per filter list, image comparison helpers. FACEFX_DUMP=dir writes every render there as PNG.
import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import FaceFXOverlay
import FaceFXPipeline
import Foundation
import XCTest

enum Fixture {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    static let context: Result<GPUContext, Error> = Result { try GPUContext(device: .auto) }
    static func gpu() throws -> GPUContext { try context.get() }

    static let model: CanonicalFaceModel = try! CanonicalFaceModel.load(directory: root.appendingPathComponent("Models/facemesh"))

    static let astronaut: RGBAImage = {
        let (w, h, px) = try! PNGCodec.decodeRGBA(path: root.appendingPathComponent("samples/astronaut.png").path)
        return RGBAImage(width: w, height: h, pixels: px)
    }()

    /// MediaPipe's face for the astronaut, in pixels of the 512×512 image.
    static let astronautFace: OverlayFace = {
        let file = try! FaceDataFile.load(path: root.appendingPathComponent("Tests/Fixtures/goldens/pipeline_astronaut.json").path)
        var f = file.faces(at: 0, width: 512, height: 512)[0]
        f.emotions = OverlayFace.emotionDictionary([0.02, 0.01, 0.02, 0.85, 0.03, 0.02, 0.05])
        return f
    }()

    /// The same face moved by (dx, dy) px and given another id (a second, synthetic face).
    static func shifted(_ f: OverlayFace, dx: Double, dy: Double, id: Int) -> OverlayFace {
        var g = f
        g.id = id
        g.landmarks = f.landmarks.map { Point($0.x + dx, $0.y + dy, $0.z) }
        return g
    }

    static func library() -> FilterLibrary {
        FilterLibrary(folders: [root.appendingPathComponent("Filters")], decoder: FilterCatalog.pngDecoder)
    }

    static func renderer(_ names: [String], settings: OverlaySettings = OverlaySettings()) throws -> OverlayRenderer {
        try OverlayRenderer(context: gpu(), filters: library().load(names), model: model, settings: settings)
    }

    /// Renders `faces` over `image` and returns RGBA (row 0 = top).
    static func render(_ renderer: OverlayRenderer, image: RGBAImage = astronaut, faces: [OverlayFace], time: Double = 0,
                       dump: String? = nil) throws -> RGBAImage {
        let ctx = try gpu()
        let out = try ctx.sync { () throws -> RGBAImage in
            let t = try Texture(context: ctx, width: image.width, height: image.height, format: .rgba8)
            let fb = try Framebuffer(context: ctx, color: t)
            try t.upload(bytes: image.pixels)
            try renderer.render(into: fb, width: image.width, height: image.height, faces: faces, time: time)
            return RGBAImage(width: image.width, height: image.height, pixels: try fb.readRGBA8())
        }
        if let dump, let dir = ProcessInfo.processInfo.environment["FACEFX_DUMP"] {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try PNGCodec.writeRGBA(path: dir + "/" + dump + ".png", width: out.width, height: out.height, pixels: out.pixels)
        }
        return out
    }

    /// 2×2 box downscale (references are stored at half size to keep the repository small).
    static func half(_ im: RGBAImage) -> RGBAImage {
        let w = im.width / 2, h = im.height / 2
        var px = [UInt8](repeating: 0, count: w * h * 4)
        for y in 0..<h { for x in 0..<w { for c in 0..<4 {
            var s = 0
            for dy in 0..<2 { for dx in 0..<2 { s += Int(im.pixels[((2 * y + dy) * im.width + 2 * x + dx) * 4 + c]) } }
            px[(y * w + x) * 4 + c] = UInt8((s + 2) / 4)
        } } }
        return RGBAImage(width: w, height: h, pixels: px)
    }

    /// Root-mean-square difference over RGB, in 8-bit codes.
    static func rmse(_ a: RGBAImage, _ b: RGBAImage) -> Double {
        precondition(a.width == b.width && a.height == b.height)
        var s = 0.0, n = 0
        for i in stride(from: 0, to: a.pixels.count, by: 4) {
            for c in 0..<3 { let d = Double(a.pixels[i + c]) - Double(b.pixels[i + c]); s += d * d; n += 1 }
        }
        return (s / Double(n)).squareRoot()
    }

    /// Per pixel: did any RGB channel change by more than `threshold` codes?
    static func changed(_ a: RGBAImage, _ b: RGBAImage, threshold: Int = 10) -> [Bool] {
        var out = [Bool](repeating: false, count: a.width * a.height)
        for i in 0..<out.count {
            for c in 0..<3 {
                let d = Int(a.pixels[i * 4 + c]) - Int(b.pixels[i * 4 + c])
                if abs(d) > threshold { out[i] = true }
            }
        }
        return out
    }

    /// Inside test for a convex polygon (any orientation).
    static func inside(_ p: SIMD2<Double>, _ poly: [SIMD2<Double>]) -> Bool {
        var sign = 0.0
        for i in poly.indices {
            let a = poly[i], b = poly[(i + 1) % poly.count]
            let c = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
            if c != 0 { if sign == 0 { sign = c } else if (c > 0) != (sign > 0) { return false } }
        }
        return true
    }

    /// Convex hull of the face (pixels), optionally grown by `margin` px from its centroid.
    static func hull(_ f: OverlayFace, margin: Double = 0) -> [SIMD2<Double>] {
        let pts = f.landmarks.prefix(468).map { SIMD2($0.x, $0.y) }
        let idx = FaceLandmarks.convexHull(Array(pts))
        let poly = idx.map { pts[$0] }
        let c = poly.reduce(SIMD2<Double>.zero, +) / Double(poly.count)
        return poly.map { p in
            let d = p - c
            let l = (d * d).sum().squareRoot()
            return l > 0 ? p + d / l * margin : p
        }
    }
}

extension Fixture {
    /// A synthetic face: the canonical mesh under a pose, projected into a frame like MediaPipe's
    /// landmarks (z in pixel scale), the iris points copied from the eye corners, and the pose matrix.
    static func syntheticFace(id: Int, center: SIMD2<Double>, iod: Double, yaw: Double = 0, pitch: Double = 0, roll: Double = 0,
                              frame: (w: Double, h: Double) = (512, 512)) -> OverlayFace {
        let R = HeadPose.rotation(yaw: yaw, pitch: pitch, roll: roll)
        let (pts, t) = HeadPoseEstimator(model: model).syntheticFace(center: center, iod: iod, rotation: R,
                                                                      frameWidth: frame.w, frameHeight: frame.h)
        let m: [Float] = [
            R[0, 0], R[1, 0], R[2, 0], 0, R[0, 1], R[1, 1], R[2, 1], 0, R[0, 2], R[1, 2], R[2, 2], 0, t.x, t.y, t.z, 1,
        ].map { Float($0) }
        return OverlayFace(id: id, landmarks: pts, poseMatrix: m, yaw: yaw, pitch: pitch, roll: roll)
    }
}
