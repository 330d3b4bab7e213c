// facefx-gpubench chain: the complete per-frame GPU stage chain of `facefx IN OUT --filter ...`
// (upload + colour conversion, detection, landmarks, blendshapes, emotion, overlay, I420 packing and
// readback) on a synthetic frame with 1 or more real faces, without FFmpeg: the faces come from the
// committed 256×256 astronaut crop of the goldens (Tests/Fixtures/goldens/landmarks_astronaut.in.u8),
// scaled into a frame of the chosen size on the CPU, then converted to 8-bit 4:2:0 BT.709 limited.
// Filters used: ones without PNG art (the PNG decoder is FFmpeg's): anonymize + lipstick by default.
import FaceFXFace
import FaceFXGPU
import FaceFXNeural
import FaceFXOverlay
import Foundation

struct ChainOptions {
    var faces = [1, 4]
    var filters = ["lipstick", "anonymize"]
}

/// RGB frame with `count` copies of the crop (each `size` px), laid out on a grid over a grey background.
func syntheticFrame(width: Int, height: Int, crop: [UInt8], cropSize: Int, count: Int) -> [UInt8] {
    var rgb = [UInt8](repeating: 90, count: width * height * 3)
    let cols = count <= 1 ? 1 : 2, rows = (count + cols - 1) / cols
    let size = min(width / cols, height / rows) * 9 / 10
    for k in 0..<count {
        let cx = (k % cols) * (width / cols) + (width / cols - size) / 2
        let cy = (k / cols) * (height / rows) + (height / rows - size) / 2
        for y in 0..<size {
            let sy = y * cropSize / size
            for x in 0..<size {
                let sx = x * cropSize / size
                for c in 0..<3 { rgb[((cy + y) * width + cx + x) * 3 + c] = crop[(sy * cropSize + sx) * 3 + c] }
            }
        }
    }
    return rgb
}

/// BT.709 limited-range 4:2:0 planes of an RGB frame (even sizes).
func i420(_ rgb: [UInt8], width: Int, height: Int) -> (y: [UInt8], u: [UInt8], v: [UInt8]) {
    var y = [UInt8](repeating: 0, count: width * height)
    var u = [UInt8](repeating: 128, count: width * height / 4), v = u
    func at(_ x: Int, _ yy: Int) -> (Double, Double, Double) {
        let i = (yy * width + x) * 3
        return (Double(rgb[i]) / 255, Double(rgb[i + 1]) / 255, Double(rgb[i + 2]) / 255)
    }
    for yy in 0..<height {
        for x in 0..<width {
            let (r, g, b) = at(x, yy)
            y[yy * width + x] = UInt8(max(16, min(235, (16 + 219 * (0.2126 * r + 0.7152 * g + 0.0722 * b)).rounded())))
        }
    }
    for yy in 0..<(height / 2) {
        for x in 0..<(width / 2) {
            let (r, g, b) = at(2 * x, 2 * yy)
            let l = 0.2126 * r + 0.7152 * g + 0.0722 * b
            u[yy * (width / 2) + x] = UInt8(max(16, min(240, (128 + 224 * (b - l) / 1.8556).rounded())))
            v[yy * (width / 2) + x] = UInt8(max(16, min(240, (128 + 224 * (r - l) / 1.5748).rounded())))
        }
    }
    return (y, u, v)
}

/// PNG assets pre-decoded by bench/gpu_assets.sh (this binary links no PNG decoder):
/// $FACEFX_RGBA_ASSETS/<filter>/<file>.png.rgba = "W H\n" + W*H*4 bytes.
func rawAssetDecoder(_ url: URL) throws -> RGBAImage {
    guard let root = ProcessInfo.processInfo.environment["FACEFX_RGBA_ASSETS"] else {
        throw FilterError.invalid(file: url.path, field: "", reason: "no PNG decoder in the GPU bench (set FACEFX_RGBA_ASSETS, see bench/gpu_assets.sh)")
    }
    let raw = URL(fileURLWithPath: root).appendingPathComponent(url.deletingLastPathComponent().lastPathComponent)
        .appendingPathComponent(url.lastPathComponent + ".rgba")
    let data = try Data(contentsOf: raw)
    guard let nl = data.firstIndex(of: 10),
          case let dims = String(decoding: data[..<nl], as: UTF8.self).split(separator: " ").compactMap({ Int($0) }),
          dims.count == 2, data.count - nl - 1 == dims[0] * dims[1] * 4 else {
        throw FilterError.invalid(file: raw.path, field: "", reason: "not a W H + RGBA file")
    }
    return RGBAImage(width: dims[0], height: dims[1], pixels: [UInt8](data[(nl + 1)...]))
}

func chain(_ o: Options, _ c: ChainOptions) throws {
    do {
        let modelsDir = try modelsDirectory(o)
        guard let cropURL = o.resources.goldens?.appendingPathComponent("landmarks_astronaut.in.u8"),
              FileManager.default.fileExists(atPath: cropURL.path) else {
            throw BenchError.usage("Tests/Fixtures/goldens/landmarks_astronaut.in.u8 not found (run from a checkout)")
        }
        let crop = [UInt8](try Data(contentsOf: cropURL))
        let gpu = try GPUContext(device: o.gpu, tuning: try tuning())
        let colour = try FrameColorConverter(context: gpu)
        let settings = FaceSettings()
        let networks = try FaceNetworks.make(context: gpu, modelsDirectory: modelsDir, programs: colour.programs)
        let model = try CanonicalFaceModel.load(directory: modelsDir.appendingPathComponent("facemesh"))
        let analyzer = try FaceAnalyzer(context: gpu, networks: networks, faceModel: model, settings: settings,
                                        programs: colour.programs)
        let library = FilterLibrary(folders: o.resources.filterFolders, decoder: GPUBench.imageDecoder ?? rawAssetDecoder)
        let packs = try library.load(c.filters)
        let overlay = try OverlayRenderer(context: gpu, filters: packs, model: model)
        let layout = I420Layout(width: o.width, height: o.height)
        try colour.prepareOutput(layout: layout)
        let out = UnsafeMutableRawPointer.allocate(byteCount: layout.byteCount + 64, alignment: 64)
        defer { out.deallocate() }
        print("renderer: \(gpu.renderer) | \(gpu.version) | \(gpu.displayDescription) | networks: \(gpu.tuning.networks.rawValue)")
        let fb = analyzer.frameBatch
        // Whole batches: the warm-up ends on a batch boundary and the timed frames are whole batches.
        let warmup = (o.warmup + fb - 1) / fb * fb, frames = (o.frames + fb - 1) / fb * fb
        print("frame \(o.width)x\(o.height); filters: \(c.filters.joined(separator: " + ")); \(frames) frames (+\(warmup) warm-up); " +
              (fb > 1 ? "blendshapes + emotion batched over \(fb) frames (FaceAnalyzer.push); ms per frame, mean (p90)\n"
                      : "ms per frame, median (p90)\n"))
        print("| faces | found | upload+convert | detector (tiles) | landmarks | blendshapes | emotion | overlay | pack+readback | total |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for count in c.faces {
            let rgb = syntheticFrame(width: o.width, height: o.height, crop: crop, cropSize: 256, count: count)
            let planes = i420(rgb, width: o.width, height: o.height)
            analyzer.reset()
            var t: [[Double]] = Array(repeating: [], count: 8)
            var found = 0, tiles = 0
            var lastFaces: [FaceResult] = []
            for n in 0..<(frames + warmup) {
                try planes.y.withUnsafeBytes { yp in try planes.u.withUnsafeBytes { up in try planes.v.withUnsafeBytes { vp in
                    try gpu.sync { () throws in
                        var t0 = DispatchTime.now().uptimeNanoseconds
                        func lap() -> Double {
                            gpu.finish()
                            let now = DispatchTime.now().uptimeNanoseconds
                            defer { t0 = now }
                            return Double(now - t0) / 1e6
                        }
                        let start = t0
                        let tex = try colour.upload(y: YUVPlane(base: yp.baseAddress!, bytesPerRow: o.width, width: o.width, height: o.height),
                                                    u: YUVPlane(base: up.baseAddress!, bytesPerRow: o.width / 2, width: o.width / 2, height: o.height / 2),
                                                    v: YUVPlane(base: vp.baseAddress!, bytesPerRow: o.width / 2, width: o.width / 2, height: o.height / 2),
                                                    format: .yuv420p(matrix: .bt709))
                        let upload = lap()
                        // As the render does: the overlay draws the faces of the frames the analyzer completed
                        // (with a frame batch, earlier frames; drawn here on this frame's texture).
                        let done = try analyzer.push(frameTexture: tex, width: o.width, height: o.height, frameIndex: n,
                                                     time: Double(n) / 30)
                        if let last = done.last { lastFaces = last.faces }
                        let faces = lastFaces
                        _ = lap()
                        let at = analyzer.lastTimings
                        try overlay.render(into: colour.frameTarget!, width: o.width, height: o.height,
                                           faces: faces.map { r in
                                               var bs: [String: Float] = [:]
                                               for (i, nm) in FaceLandmarks.blendshapeNames.enumerated() where i < r.blendshapes.count { bs[nm] = Float(r.blendshapes[i]) }
                                               return OverlayFace(id: r.id, landmarks: r.landmarks, pose: r.pose, blendshapes: bs)
                                           }, time: Double(n) / 30)
                        let ov = lap()
                        try colour.readI420(from: tex, layout: layout, into: out)
                        let pack = lap()
                        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                        if n >= warmup {
                            for (k, v) in [upload, at.detector * 1000, at.landmarks * 1000, at.blendshapes * 1000,
                                           at.emotion * 1000, ov, pack, total].enumerated() { t[k].append(v) }
                            found = faces.count; tiles = at.tiles
                        }
                    }
                } } }
            }
            func med(_ a: [Double]) -> String {
                let s = a.sorted()
                guard !s.isEmpty else { return "–" }
                let centre = fb > 1 ? s.reduce(0, +) / Double(s.count) : s[s.count / 2]
                return String(format: "%.2f (%.2f)", centre, s[min(s.count - 1, s.count * 9 / 10)])
            }
            print("| \(count) | \(found) | \(med(t[0])) | \(med(t[1])) (\(tiles)) | \(med(t[2])) | \(med(t[3])) | \(med(t[4])) | \(med(t[5])) | \(med(t[6])) | \(med(t[7])) |")
        }
    } catch {
        throw BenchError(message: "\(error)", usage: false)
    }
}
