// `facefx bench smoothing`: the CPU cost of the offline smoothing every tracked run does (`FaceClipSmoother`,
// `WindowedClipSmoother`: landmarks, blendshapes, emotions, then box and head pose), on synthetic tracks with known motion (the
// canonical face projected with a slow head turn, 0.5 px landmark noise), no GPU: `analyze`'s one pass over
// the clip (its smoothing window holds up to 60 s) and the render's 30-frame windows with 30 frames of
// margin each side. ms per face-frame, best of 3; `--threads 1` keeps the smoother on one thread.
import FaceFXFace
import FaceFXNeural
import Foundation

func smoothingBench(_ o: Options, faceCounts: [Int], frames: Int) throws {
    let model = try CanonicalFaceModel.load(directory: modelsDirectory(o).appendingPathComponent("facemesh"))
    let estimator = HeadPoseEstimator(model: model)
    var settings = FaceSettings.Smoothing()
    settings.threads = o.threads
    print("\(frames) frames of 1080p, \(settings.threads.map { "\($0) thread(s)" } ?? "all \(ProcessInfo.processInfo.activeProcessorCount) cores"); ms per face-frame, best of 3\n")
    print("| faces | pass | ms per face-frame | s for the clip |")
    print("|---:|---|---:|---:|")
    for faces in faceCounts {
        try smoothingRows(estimator: estimator, settings: settings, faces: faces, frames: frames)
    }
}

private func smoothingRows(estimator: HeadPoseEstimator, settings: FaceSettings.Smoothing, faces: Int, frames: Int) throws {
    let (width, height) = (1920.0, 1080.0)
    var rng = TrainingRNG(seed: 1)
    func face(center: SIMD2<Double>, iod: Double, yaw: Double) -> [Point] {
        estimator.syntheticFace(center: center, iod: iod, rotation: HeadPose.rotation(yaw: yaw, pitch: 0, roll: 0),
                                frameWidth: width, frameHeight: height).landmarks
            .map { $0 + Point(rng.normal(), rng.normal(), rng.normal()) * 0.5 }
    }
    var clip: [[FaceResult]] = []
    for n in 0..<frames {
        let t = Double(n) / 30
        clip.append((0..<faces).map { k in
            let landmarks = face(center: SIMD2(300 + 420 * Double(k), 540 + 40 * sin(t + Double(k))), iod: 60 + 10 * Double(k),
                                 yaw: 20 * sin(2 * .pi * 0.3 * t + Double(k)))
            return FaceResult(id: k + 1, frameIndex: n, time: t, presence: 0.99, detectionScore: nil,
                              box: Rect.bounding(landmarks.prefix(FaceLandmarks.meshCount)), landmarks: landmarks,
                              blendshapes: (0..<52).map { _ in 0.3 + 0.05 * rng.normal() },
                              emotions: [0.1, 0, 0, 0.6, 0.1, 0, 0.2].map { max(0, $0 + 0.05 * rng.normal()) },
                              pose: estimator.estimate(landmarks: landmarks, frameWidth: width, frameHeight: height),
                              roi: FaceROI(landmarks: landmarks))
        })
    }
    func best(_ body: () -> Void) -> Double {
        (0..<3).map { _ in let t = Date(); body(); return Date().timeIntervalSince(t) }.min()!
    }
    let clipSmoother = FaceClipSmoother(poseEstimator: estimator, settings: settings)
    let whole = best { _ = clipSmoother.smooth(clip, frameWidth: Int(width), frameHeight: Int(height)) }
    let windowed = best {
        let w = WindowedClipSmoother(clipSmoother: clipSmoother, frameWidth: Int(width), frameHeight: Int(height), window: 30, margin: 30)
        for (n, f) in clip.enumerated() { _ = w.push(FaceFrame(index: n, time: Double(n) / 30, faces: f)) }
        _ = w.finish()
    }
    for (name, s) in [("analyze: the whole clip in one window", whole), ("render: windows of 30 frames, 30 of margin", windowed)] {
        print(String(format: "| %d | %@ | %.3f | %.2f |", faces, name, 1000 * s / Double(faces * frames), s))
    }
}
