// Offline post-pass over a whole clip's results: zero-lag smoothing per track (uses future
// frames, see OfflineSmoother), then box and head pose recomputed from the smoothed landmarks.

import Foundation

public struct FaceClipSmoother: Sendable {
    public var smoother: OfflineSmoother
    public var poseEstimator: HeadPoseEstimator
    /// Also smooth the 7 emotion probabilities (renormalised to sum 1): the per-frame classifier
    /// flickers between neighbouring labels on a steady face.
    public var smoothEmotions = true

    public init(poseEstimator: HeadPoseEstimator, settings: FaceSettings.Smoothing = .init()) {
        self.poseEstimator = poseEstimator
        smoother = OfflineSmoother(settings: settings)
    }

    /// `frames[k]` = the faces `FaceAnalyzer.analyze` returned for the k-th analysed frame, in
    /// order. Returns the same structure with landmarks, blendshapes (clamped to 0...1), emotions,
    /// boxes and poses of every track smoothed. A track with gaps is smoothed as one series over
    /// its own time stamps (the smoother's process noise grows with the gap). `keeping`: only these frames
    /// are returned (and get boxes and poses); the others are context.
    public func smooth(_ frames: [[FaceResult]], frameWidth: Int, frameHeight: Int, keeping: Range<Int>? = nil) -> [[FaceResult]] {
        let keep = keeping ?? frames.indices
        var out = frames
        // Track id → its (frame slot, face slot) positions in time order.
        var tracks: [Int: [(Int, Int)]] = [:]
        for (f, faces) in frames.enumerated() {
            for (k, face) in faces.enumerated() { tracks[face.id, default: []].append((f, k)) }
        }
        for (_, slots) in tracks.sorted(by: { $0.key < $1.key }) where slots.count > 2 {
            let faces = slots.map { frames[$0.0][$0.1] }
            let times = faces.map(\.time)
            guard zip(times, times.dropFirst()).allSatisfy({ $0 < $1 }) else { continue }
            let lms = smoother.smoothOffline(track: faces.map(\.landmarks), times: times)
            let bs = faces.allSatisfy({ $0.blendshapes.count == FaceLandmarks.blendshapeNames.count })
                ? smoother.smoothOffline(scalars: faces.map(\.blendshapes), times: times).map { $0.map { min(max($0, 0), 1) } }
                : faces.map(\.blendshapes)
            let emo = smoothEmotions && faces.allSatisfy({ $0.emotions.count == EmotionLabels.names.count })
                ? smoother.smoothOffline(scalars: faces.map(\.emotions), times: times).map { Self.normalised($0) }
                : faces.map(\.emotions)
            let kept = slots.indices.filter { keep.contains(slots[$0].0) }
            // Each kept frame's pose solved on its own, spread over the cores.
            var poses = [HeadPose?](repeating: nil, count: kept.count)
            poses.withUnsafeMutableBufferPointer { poses in
                OfflineSmoother.spread(kept.count, work: kept.count * 2_000, threads: smoother.settings.threads) { j in
                    poses[j] = poseEstimator.estimate(landmarks: lms[kept[j]], frameWidth: Double(frameWidth), frameHeight: Double(frameHeight))
                }
            }
            for (j, i) in kept.enumerated() {
                let (f, k) = slots[i]
                var r = out[f][k]
                r.landmarks = lms[i]
                r.blendshapes = bs[i]
                r.emotions = emo[i]
                r.box = Rect.bounding(lms[i].prefix(FaceLandmarks.meshCount))
                r.pose = poses[j]!
                out[f][k] = r
            }
        }
        return Array(out[keep])
    }

    static func normalised(_ p: [Double]) -> [Double] {
        let c = p.map { max($0, 0) }
        let s = c.reduce(0, +)
        return s > 0 ? c.map { $0 / s } : p
    }
}
