// Smoothing of a stream of analysed frames, for the video path (facefx analyze):
//  - WindowedClipSmoother: FaceClipSmoother (zero-lag, uses future frames) over overlapping windows,
//    so memory stays flat for any clip length while short clips are smoothed in one piece;
//  - OnlineFaceSmoother: causal One Euro per track (what a live tool could do), for comparison
//    and for pipelines that cannot wait for future frames.

import Foundation

/// The faces of one analysed frame. `index` counts decoded frames from 0; `time` is the frame's
/// presentation time in seconds (stream pts × time base, as FFmpeg reports it).
public struct FaceFrame: Sendable {
    public var index: Int
    public var time: Double
    /// Shot number (`AnalyzedFrame.shot`).
    public var shot: Int
    public var faces: [FaceResult]

    public init(index: Int, time: Double, shot: Int = 0, faces: [FaceResult]) {
        self.index = index; self.time = time; self.shot = shot; self.faces = faces
    }

    public init(_ analysed: AnalyzedFrame) {
        self.init(index: analysed.index, time: analysed.time, shot: analysed.shot, faces: analysed.faces)
    }
}

/// Offline smoothing of a frame stream in windows of `FaceSettings.Smoothing.offlineWindowFrames`,
/// each smoothed with `offlineWindowMargin` raw frames of context on both sides. `push` returns
/// the frames that are final (in order, possibly none); `finish` returns the rest.
/// Holds at most window + 2·margin frames.
public final class WindowedClipSmoother {
    public let clipSmoother: FaceClipSmoother
    public let frameWidth: Int
    public let frameHeight: Int
    public let window: Int
    public let margin: Int
    private var buffer: [FaceFrame] = []
    /// Frames at the front of `buffer` already returned: left context for the next window.
    private var emittedInBuffer = 0

    public init(clipSmoother: FaceClipSmoother, frameWidth: Int, frameHeight: Int,
                window: Int, margin: Int) {
        self.clipSmoother = clipSmoother
        self.frameWidth = frameWidth; self.frameHeight = frameHeight
        self.window = max(1, window); self.margin = max(0, margin)
    }

    public convenience init(poseEstimator: HeadPoseEstimator, settings: FaceSettings.Smoothing,
                            frameWidth: Int, frameHeight: Int) {
        self.init(clipSmoother: FaceClipSmoother(poseEstimator: poseEstimator, settings: settings),
                  frameWidth: frameWidth, frameHeight: frameHeight,
                  window: settings.offlineWindowFrames, margin: settings.offlineWindowMargin)
    }

    /// Frames held right now (for tests of the memory bound).
    public var bufferedFrames: Int { buffer.count }

    public func push(_ frame: FaceFrame) -> [FaceFrame] {
        buffer.append(frame)
        guard buffer.count - emittedInBuffer >= window + margin else { return [] }
        let emitEnd = buffer.count - margin
        let out = smoothBuffer(keeping: emittedInBuffer ..< emitEnd)
        // Keep `margin` returned frames (raw) as left context, and the unreturned tail.
        let keepFrom = max(0, emitEnd - margin)
        buffer.removeFirst(keepFrom)
        emittedInBuffer = emitEnd - keepFrom
        return out
    }

    public func finish() -> [FaceFrame] {
        defer { buffer = []; emittedInBuffer = 0 }
        guard buffer.count > emittedInBuffer else { return [] }
        return smoothBuffer(keeping: emittedInBuffer ..< buffer.count)
    }

    /// The buffer smoothed as one piece; only the frames of `keeping` are returned (the rest is context).
    private func smoothBuffer(keeping: Range<Int>) -> [FaceFrame] {
        let faces = clipSmoother.smooth(buffer.map(\.faces), frameWidth: frameWidth, frameHeight: frameHeight, keeping: keeping)
        return zip(buffer[keeping], faces).map { FaceFrame(index: $0.index, time: $0.time, shot: $0.shot, faces: $1) }
    }
}

/// Causal smoothing: One Euro per landmark coordinate (speeds in IODs/s), per blendshape and per
/// emotion probability, for each track; box and pose recomputed from the smoothed landmarks. A
/// track missing on the previous frame starts afresh (no smoothing across a gap).
public final class OnlineFaceSmoother {
    public let settings: FaceSettings.Smoothing
    public let poseEstimator: HeadPoseEstimator
    public let frameWidth: Int
    public let frameHeight: Int

    private struct TrackState {
        var landmarks: LandmarkOneEuroSmoother
        var blendshapes: [OneEuroFilter]
        var emotions: [OneEuroFilter]
        var lastIndex: Int
    }
    private var tracks: [Int: TrackState] = [:]

    public init(poseEstimator: HeadPoseEstimator, settings: FaceSettings.Smoothing, frameWidth: Int, frameHeight: Int) {
        self.poseEstimator = poseEstimator
        self.settings = settings
        self.frameWidth = frameWidth; self.frameHeight = frameHeight
    }

    public func smooth(_ frame: FaceFrame) -> FaceFrame {
        var out = frame
        var next: [Int: TrackState] = [:]
        for (k, face) in frame.faces.enumerated() {
            var st: TrackState
            if let old = tracks[face.id], old.lastIndex == frame.index - 1 {
                st = old
            } else {
                let scalar = OneEuroFilter(minCutoff: settings.oneEuroMinCutoff, beta: settings.oneEuroBeta,
                                           dCutoff: settings.oneEuroDCutoff)
                st = TrackState(landmarks: LandmarkOneEuroSmoother(settings: settings),
                                blendshapes: Array(repeating: scalar, count: face.blendshapes.count),
                                emotions: Array(repeating: scalar, count: face.emotions.count), lastIndex: frame.index)
            }
            var r = face
            r.landmarks = st.landmarks.smooth(face.landmarks, time: frame.time)
            if st.blendshapes.count == face.blendshapes.count {
                for i in face.blendshapes.indices {
                    r.blendshapes[i] = min(max(st.blendshapes[i].filter(face.blendshapes[i], time: frame.time), 0), 1)
                }
            }
            if st.emotions.count == face.emotions.count {
                for i in face.emotions.indices { r.emotions[i] = st.emotions[i].filter(face.emotions[i], time: frame.time) }
                r.emotions = FaceClipSmoother.normalised(r.emotions)
            }
            r.box = Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount))
            r.pose = poseEstimator.estimate(landmarks: r.landmarks, frameWidth: Double(frameWidth), frameHeight: Double(frameHeight))
            st.lastIndex = frame.index
            next[face.id] = st
            out.faces[k] = r
        }
        tracks = next
        return out
    }
}
