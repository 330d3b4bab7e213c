// Face analysis inside the render loop: what `--filter`, `--csv` and `--jsonl` need per frame.
// Shared by RenderJob and PreviewJob so both load models, analyse and map faces the same way.
import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import FaceFXOverlay
import Foundation

/// Tracking options shared by render, analyze and preview.
public struct FaceTrackingOptions {
    public var maxFaces: Int = 8
    public var detectEvery: Int = 1
    public var smoothing: AnalyzeSmoothing = .offline
    public var reidWindow: Double = 2
    public var minFaceSize: Double = 48
    /// Vertical field of view (degrees) assumed for head pose.
    public var fieldOfView: Double = 63
    public init() {}

    func settings(offlineWindow: (frames: Int, margin: Int)? = nil) -> FaceSettings {
        var o = AnalyzeOptions(input: "")
        o.maxFaces = maxFaces; o.detectEvery = detectEvery; o.reidWindow = reidWindow; o.minFaceSize = minFaceSize
        o.smoothingWindow = offlineWindow
        o.fieldOfView = fieldOfView
        return o.settings
    }
}

/// Loads the face models once and analyses frames on the GL thread.
final class FaceStage {
    let analyzer: FaceAnalyzer

    init(context: GPUContext, programs: ProgramCache, settings: FaceSettings, modelsDirectory: URL? = nil) throws {
        analyzer = try FaceStage.loadAnalyzer(context: context, programs: programs, settings: settings,
                                              modelsDirectory: modelsDirectory)
    }

    /// The face networks and canonical mesh from Models/ (one message naming the folder if they cannot load).
    static func loadAnalyzer(context: GPUContext, programs: ProgramCache, settings: FaceSettings,
                             modelsDirectory: URL? = nil) throws -> FaceAnalyzer {
        let models = try modelsDirectory ?? ResourceLocator.modelsDirectory()
        do {
            let networks = try FaceNetworks.make(.fromEnvironment, context: context, modelsDirectory: models, programs: programs)
            let model = try CanonicalFaceModel.load(directory: models.appendingPathComponent("facemesh"))
            return try FaceAnalyzer(context: context, networks: networks, faceModel: model, settings: settings,
                                    programs: programs)
        } catch let e as PipelineError {
            throw e
        } catch {
            throw PipelineError.processing("\(models.path): cannot load the face models (\(error))")
        }
    }

    /// The smoother a render or analysis uses: zero-lag over windows (offline), One Euro (online) or none.
    /// `push` returns the frames that are final; `finish` the rest.
    func makeSmoother(_ mode: AnalyzeSmoothing, settings: FaceSettings, width: Int, height: Int)
        -> (push: (FaceFrame) -> [FaceFrame], finish: () -> [FaceFrame]) {
        FaceStage.makeSmoother(mode, poseEstimator: analyzer.poseEstimator, settings: settings, width: width, height: height)
    }

    /// The same for any analyzer's pose estimator (analyze builds its analyzer without a FaceStage).
    static func makeSmoother(_ mode: AnalyzeSmoothing, poseEstimator: HeadPoseEstimator, settings: FaceSettings,
                             width: Int, height: Int) -> (push: (FaceFrame) -> [FaceFrame], finish: () -> [FaceFrame]) {
        switch mode {
        case .off:
            return ({ [$0] }, { [] })
        case .online:
            let s = OnlineFaceSmoother(poseEstimator: poseEstimator, settings: settings.smoothing,
                                       frameWidth: width, frameHeight: height)
            return ({ [s.smooth($0)] }, { [] })
        case .offline:
            let s = WindowedClipSmoother(poseEstimator: poseEstimator, settings: settings.smoothing,
                                         frameWidth: width, frameHeight: height)
            return ({ s.push($0) }, { s.finish() })
        }
    }
}

extension OverlayFace {
    /// A tracked face as the overlay renderer reads it.
    init(_ r: FaceResult) {
        var bs: [String: Float] = [:]
        for (i, n) in FaceLandmarks.blendshapeNames.enumerated() where i < r.blendshapes.count { bs[n] = Float(r.blendshapes[i]) }
        var emo: [String: Float] = [:]
        for (i, n) in EmotionLabels.names.enumerated() where i < r.emotions.count { emo[n] = Float(r.emotions[i]) }
        self.init(id: r.id, landmarks: r.landmarks, pose: r.pose, blendshapes: bs, emotions: emo)
    }
}

/// `facefx preview` without a --faces file: the tracker on each shown frame.
final class AnalyzerFaceSource: FaceSource {
    let stage: FaceStage
    init(context: GPUContext, programs: ProgramCache, options: FaceTrackingOptions) throws {
        stage = try FaceStage(context: context, programs: programs, settings: options.settings())
    }
    func faces(frameIndex: Int, time: Double, frame: VideoFrame, colour: FrameColorConverter) throws -> [OverlayFace] {
        let (y, u, v) = frame.gpuPlanes()
        return try colour.context.sync { () throws -> [OverlayFace] in
            let texture = try colour.upload(y: y, u: u, v: v, format: frame.gpuFormat)
            // Preview frames are far apart: each is a fresh detection, not a continuation of a track.
            stage.analyzer.reset()
            return try stage.analyzer.analyze(frameTexture: texture, width: frame.width, height: frame.height,
                                              frameIndex: frameIndex, time: time).map(OverlayFace.init)
        }
    }
}
