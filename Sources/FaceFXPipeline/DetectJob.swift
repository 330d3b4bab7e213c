import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import Foundation

public struct DetectOptions {
    public var input: String
    public var maxFaces: Int
    /// Smallest face (pixels) the detector tiles are laid out for (FaceSettings.Analysis.minFaceSize).
    public var minFaceSize: Double
    /// Vertical field of view (degrees) assumed for head pose.
    public var fieldOfView: Double = 63
    public var gpu: GPUDeviceSelection
    /// Renderer knobs (`GPUTuning(environment:)` at the command line).
    public var tuning = GPUTuning()
    /// The Models/ folder (found by the executable: ResourceLocator).
    public var modelsDirectory: URL?

    public init(input: String, maxFaces: Int = 8, minFaceSize: Double = 48, gpu: GPUDeviceSelection = .auto,
                modelsDirectory: URL? = nil) {
        self.input = input; self.maxFaces = maxFaces; self.minFaceSize = minFaceSize
        self.gpu = gpu; self.modelsDirectory = modelsDirectory
    }
}

public struct DetectReport {
    public var input: String
    public var width: Int
    public var height: Int
    public var faces: [FaceResult]
    public var timings: FaceAnalysisTimings
    public var renderer: String
}

/// `facefx detect IMAGE`: decode the first frame (FFmpeg, stills or video), upload and convert it
/// on the GPU like a rendered frame, run the face analysis once.
public final class DetectJob {
    public let options: DetectOptions

    public init(options: DetectOptions) { self.options = options }

    public func run() throws -> DetectReport {
        do { return try runUnmapped() } catch { throw PipelineError.from(error) }
    }

    private func runUnmapped() throws -> DetectReport {
        let o = options
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: o.input, isDirectory: &isDir) else {
            throw PipelineError.usage("\(o.input): no such file")
        }
        if isDir.boolValue { throw PipelineError.usage("\(o.input): is a folder, not an image") }
        let models = try FaceStage.models(o.modelsDirectory)

        let reader = try VideoReader(path: o.input)
        guard let frame = try reader.nextFrame() else {
            throw PipelineError.processing("\(o.input): no decodable picture")
        }
        let shared = try SharedGPU(device: o.gpu, tuning: o.tuning)
        let gpu = shared.context
        let colour = try FrameColorConverter(context: gpu, programs: shared.programs)
        var settings = FaceSettings()
        settings.tracker.maxFaces = o.maxFaces
        settings.analysis.minFaceSize = o.minFaceSize
        settings.pose.verticalFOVDegrees = o.fieldOfView
        let analyzer = try FaceStage.loadAnalyzer(shared: shared, settings: settings, modelsDirectory: models)
        let (y, u, v) = frame.gpuPlanes()
        let texture = try colour.upload(y: y, u: u, v: v, format: frame.gpuFormat)
        let faces = try analyzer.analyze(frameTexture: texture, width: frame.width, height: frame.height,
                                         frameIndex: 0, time: frame.timeSeconds)
        let report = DetectReport(input: o.input, width: frame.width, height: frame.height, faces: faces,
                                  timings: analyzer.lastTimings, renderer: gpu.renderer)
        withExtendedLifetime((reader, frame, analyzer, colour, gpu)) {}
        return report
    }
}

/// Text and JSON forms of a detect report.
public enum DetectOutput {
    /// One header line, then one row per face (none when there are no faces).
    public static func table(_ r: DetectReport) -> String {
        let name = (r.input as NSString).lastPathComponent
        var lines = ["\(name): \(r.width)x\(r.height), \(r.faces.count) face\(r.faces.count == 1 ? "" : "s")"]
        guard !r.faces.isEmpty else { return lines[0] }
        lines.append(pad("id", 4) + pad("box x,y wxh", 22) + pad("score", 7) + pad("yaw", 7) + pad("pitch", 7) + pad("roll", 7)
                     + pad("emotion", 15) + "top blendshapes")
        for f in r.faces {
            let box = String(format: "%.0f,%.0f %.0fx%.0f", f.box.minX, f.box.minY, f.box.width, f.box.height)
            let emo = f.topEmotion.map { e in String(format: "%@ %.2f", e, f.emotions.max() ?? 0) } ?? "-"
            let bs = f.topBlendshapes(3).map { String(format: "%@ %.2f", $0.name, $0.value) }.joined(separator: ", ")
            lines.append(pad(String(f.id), 4) + pad(box, 22) + pad(String(format: "%.3f", f.presence), 7)
                         + pad(String(format: "%.1f", f.pose.yaw), 7) + pad(String(format: "%.1f", f.pose.pitch), 7)
                         + pad(String(format: "%.1f", f.pose.roll), 7) + pad(emo, 15) + (bs.isEmpty ? "-" : bs))
        }
        return lines.joined(separator: "\n")
    }

    /// One line: tile count and seconds per stage of the analysis (model loading and decoding excluded).
    public static func timings(_ r: DetectReport) -> String {
        let t = r.timings
        return String(format: "facefx: %@: %d detector tiles; detector %.3f s, landmarks %.3f s, blendshapes %.3f s, emotion %.3f s; analysis %.3f s (%@)",
                      (r.input as NSString).lastPathComponent, t.tiles, t.detector, t.landmarks, t.blendshapes, t.emotion, t.total, r.renderer)
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }

    struct JSONReport: Encodable {
        var image: String
        var width: Int
        var height: Int
        var faces: [JSONFace]
    }
    struct JSONBox: Encodable { var x, y, width, height: Double }
    struct JSONPose: Encodable {
        var yaw, pitch, roll: Double
        /// cm, camera space (x right, y up, camera looking down −z).
        var translation: [Double]
        /// 4×4 canonical face model → camera space, column-major.
        var matrix: [Double]
    }
    struct JSONFace: Encodable {
        var id: Int
        var box: JSONBox
        var score: Double
        var detection_score: Double?
        var landmarks: [[Double]]
        var pose: JSONPose
        var blendshapes: [String: Double]
        var emotions: [String: Double]
        var top_emotion: String?
    }

    /// `{"image", "width", "height", "faces": [{id, box {x,y,width,height} (pixels, top-left origin),
    /// score (landmark presence), detection_score, landmarks [[x,y,z] × 478] (pixels; z relative depth in
    /// x's scale), pose {yaw, pitch, roll (degrees), translation (cm), matrix (column-major 4×4)},
    /// blendshapes {name: value}, emotions {label: probability}, top_emotion}]}`; keys sorted.
    public static func json(_ r: DetectReport) throws -> String {
        func q(_ v: Double, _ scale: Double = 1000) -> Double { (v * scale).rounded() / scale }
        let faces = r.faces.map { f in
            JSONFace(id: f.id,
                     box: JSONBox(x: q(f.box.minX, 100), y: q(f.box.minY, 100), width: q(f.box.width, 100), height: q(f.box.height, 100)),
                     score: q(f.presence, 1e6), detection_score: f.detectionScore.map { q($0, 1e6) },
                     landmarks: f.landmarks.map { [q($0.x), q($0.y), q($0.z)] },
                     pose: JSONPose(yaw: q(f.pose.yaw, 100), pitch: q(f.pose.pitch, 100), roll: q(f.pose.roll, 100),
                                    translation: [q(f.pose.translation.x), q(f.pose.translation.y), q(f.pose.translation.z)],
                                    matrix: f.pose.matrix.map { q(Double($0), 1e6) }),
                     blendshapes: Dictionary(uniqueKeysWithValues: zip(FaceLandmarks.blendshapeNames, f.blendshapes.map { q($0, 1e6) })),
                     emotions: Dictionary(uniqueKeysWithValues: zip(EmotionLabels.names, f.emotions.map { q($0, 1e6) })),
                     top_emotion: f.topEmotion)
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try enc.encode(JSONReport(image: r.input, width: r.width, height: r.height, faces: faces))
        return String(decoding: data, as: UTF8.self)
    }
}
