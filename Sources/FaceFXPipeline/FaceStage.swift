// Face analysis inside the render loop: what `--filter`, `--csv` and `--jsonl` need per frame.
// Shared by RenderJob and PreviewJob so both load models, analyse and map faces the same way.
import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import FaceFXOverlay
import Foundation

/// Face-tracking options of every command that tracks faces (render, analyze, preview, batch): the
/// one place their defaults live. `settings(frameRate:)` turns them into the face module's settings.
public struct FaceTrackingOptions: Sendable {
    public var maxFaces: Int = 8
    /// Detector keyframes every N frames (1 = every frame); nil: every `keyframeSeconds` of the clip.
    public var detectEvery: Int? = nil
    public var smoothing: AnalyzeSmoothing = .offline
    /// Seconds a person who left the picture keeps their id waiting to come back; nil: the whole clip.
    public var reidWindow: Double? = nil
    /// Smallest face (pixels) the detector tiles are laid out for.
    public var minFaceSize: Double = 48
    /// Vertical field of view (degrees) assumed for head pose (MediaPipe: 63).
    public var fieldOfView: Double = 63
    /// Second landmark pass on faces whose ROI moved a lot (FaceSettings.Analysis.refineROIShift).
    public var refineROIs = true
    public init() {}

    /// Default time between detector keyframes. Chosen by benchmark (README): the detector is most of the
    /// cost of a frame on llvmpipe, and look-back keeps recall at any interval.
    public static let keyframeSeconds = 0.4
    /// ROI change (fraction of its side) that triggers the second landmark pass.
    static let refineROIShift = 0.04

    /// Frames between keyframes for a clip of this frame rate (30 fps: 12).
    public func keyframeInterval(frameRate: Double?) -> Int {
        if let n = detectEvery { return max(1, n) }
        guard let r = frameRate, r.isFinite, r > 0 else { return 12 }
        return max(1, Int((r * Self.keyframeSeconds).rounded()))
    }

    /// The face module's settings for a clip of this frame rate; `offlineWindow`: the offline smoother's
    /// window and context (frames), nil for its defaults.
    public func settings(frameRate: Double?, offlineWindow: (frames: Int, margin: Int)? = nil) -> FaceSettings {
        var s = FaceSettings()
        s.pose.verticalFOVDegrees = fieldOfView
        s.tracker.maxFaces = maxFaces
        s.tracker.detectEvery = keyframeInterval(frameRate: frameRate)
        s.tracker.predictROI = true
        s.linking.reidWindow = reidWindow
        s.analysis.minFaceSize = minFaceSize
        s.analysis.refineROIShift = refineROIs ? Self.refineROIShift : 0
        if let w = offlineWindow {
            s.smoothing.offlineWindowFrames = w.frames
            s.smoothing.offlineWindowMargin = w.margin
        }
        return s
    }
}

/// Loads the face models (and a `--classifier`) once; its analyzer analyses the frames.
public final class FaceStage {
    let analyzer: FaceAnalyzer

    init(shared: SharedGPU, settings: FaceSettings, modelsDirectory: URL,
         faceModel: CanonicalFaceModel? = nil, classifier: URL? = nil) throws {
        analyzer = try FaceStage.loadAnalyzer(shared: shared, settings: settings,
                                              modelsDirectory: modelsDirectory, faceModel: faceModel, classifier: classifier)
    }

    /// The classifier's labels (`FaceResult.classes` order); empty without one.
    var classLabels: [String] { analyzer.networks.classifier?.labels ?? [] }

    /// A `--classifier` file checked without a GPU (a batch does it once, before any file): a usage
    /// error naming it when it is missing or not a classifier facefx can run.
    public static func checkClassifier(_ url: URL) throws {
        do { _ = try FaceClassifier.inspect(url) } catch let e as FaceClassifierError { throw PipelineError.usage(e.description) }
    }

    /// The Models/ folder a job that tracks faces was given (the executable finds it: ResourceLocator).
    static func models(_ url: URL?) throws -> URL {
        guard let url else { throw PipelineError.processing("internal: face tracking without a Models/ folder") }
        return url
    }

    /// The canonical face mesh from Models/facemesh, loaded once per job for
    /// the analyzer (head pose) and the overlay (mesh filters).
    static func loadFaceModel(modelsDirectory models: URL) throws -> CanonicalFaceModel {
        do {
            return try CanonicalFaceModel.load(directory: models.appendingPathComponent("facemesh"))
        } catch {
            throw PipelineError.processing("\(models.appendingPathComponent("facemesh").path): cannot load the canonical face mesh (\(error))")
        }
    }

    /// An analyzer on the face networks from Models/ (lent by `shared`: give them back with
    /// `shared.giveBack(analyzer.networks)` when the job's threads are done) and the canonical mesh (given,
    /// or loaded from there); one message naming the folder if they cannot load.
    /// `classifier`: a user's face classifier (`FaceClassifier`); a file that is missing or not one is a usage
    /// error naming it.
    static func loadAnalyzer(shared: SharedGPU, settings: FaceSettings,
                             modelsDirectory models: URL, faceModel: CanonicalFaceModel? = nil,
                             classifier: URL? = nil) throws -> FaceAnalyzer {
        let (context, programs) = (shared.context, shared.programs)
        let model = try faceModel ?? loadFaceModel(modelsDirectory: models)
        var userClassifier: FaceClassifier?
        if let url = classifier {
            do {
                userClassifier = try FaceClassifier.load(url, context: context, programs: programs)
            } catch let e as FaceClassifierError {
                throw PipelineError.usage(e.description)
            }
        }
        do {
            var networks = try shared.lendNetworks {
                try FaceNetworks.make(context: context, modelsDirectory: models, programs: programs, warmUpBakedKernels: true)
            }
            networks.classifier = userClassifier
            return try FaceAnalyzer(context: context, networks: networks, faceModel: model, settings: settings,
                                    programs: programs)
        } catch let e as PipelineError {
            throw e
        } catch {
            throw PipelineError.processing("\(models.path): cannot load the face models (\(error))")
        }
    }
}

/// What a render or analysis does with the analyzer's frames, in order: smoothing (zero-lag over windows,
/// One Euro, or none; per tracklet, so never across a cut or a gap), then tracklets linked into one id per
/// person (`TrackLinker`). `push` returns the frames that are final; `finish` the rest.
final class FrameFinisher {
    private let smoothPush: (FaceFrame) -> [FaceFrame]
    private let smoothFinish: () -> [FaceFrame]
    let linker: TrackLinker

    init(_ mode: AnalyzeSmoothing, poseEstimator: HeadPoseEstimator, settings: FaceSettings, width: Int, height: Int) {
        switch mode {
        case .off:
            (smoothPush, smoothFinish) = ({ [$0] }, { [] })
        case .online:
            let s = OnlineFaceSmoother(poseEstimator: poseEstimator, settings: settings.smoothing,
                                       frameWidth: width, frameHeight: height)
            (smoothPush, smoothFinish) = ({ [s.smooth($0)] }, { [] })
        case .offline:
            let s = WindowedClipSmoother(poseEstimator: poseEstimator, settings: settings.smoothing,
                                         frameWidth: width, frameHeight: height)
            (smoothPush, smoothFinish) = ({ s.push($0) }, { s.finish() })
        }
        linker = TrackLinker(settings: settings.linking, poseEstimator: poseEstimator, frameWidth: width, frameHeight: height)
    }

    func push(_ frame: FaceFrame) -> [FaceFrame] { smoothPush(frame).flatMap(linker.push) }

    func finish() -> [FaceFrame] { smoothFinish().flatMap(linker.push) + linker.finish() }
}

extension OverlayFace {
    /// A tracked face as the overlay renderer reads it; `classLabels` name `r.classes` (`FaceStage.classLabels`).
    init(_ r: FaceResult, classLabels: [String]) {
        var bs: [String: Float] = [:]
        for (i, n) in FaceLandmarks.blendshapeNames.enumerated() where i < r.blendshapes.count { bs[n] = Float(r.blendshapes[i]) }
        var emo: [String: Float] = [:]
        for (i, n) in EmotionLabels.names.enumerated() where i < r.emotions.count { emo[n] = Float(r.emotions[i]) }
        self.init(id: r.id, landmarks: r.landmarks, pose: r.pose, blendshapes: bs, emotions: emo)
        for (i, n) in classLabels.enumerated() where i < r.classes.count { classes[n] = Float(r.classes[i]) }
    }
}

/// `facefx preview` without a --faces file: the tracker on each shown frame.
final class AnalyzerFaceSource: FaceSource {
    let stage: FaceStage
    init(shared: SharedGPU, options: FaceTrackingOptions, modelsDirectory: URL) throws {
        stage = try FaceStage(shared: shared, settings: options.settings(frameRate: nil), modelsDirectory: modelsDirectory)
    }
    func faces(frameIndex: Int, time: Double, frame: Texture) throws -> [OverlayFace] {
        // Preview frames are far apart: each is a fresh detection, not a continuation of a track.
        stage.analyzer.reset()
        return try stage.analyzer.analyze(frameTexture: frame, width: frame.width, height: frame.height,
                                          frameIndex: frameIndex, time: time).map { OverlayFace($0, classLabels: stage.classLabels) }
    }
}
