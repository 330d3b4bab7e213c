// CPU bookkeeping of face tracks (the GPU runs the networks). Per frame:
//   1. if tracker.needsDetection(frame:) run the detector → detections in frame pixels
//   2. let rois = tracker.rois(forFrame:time:detections:)   (tracked faces + new/returning faces)
//   3. run the landmark net on every ROI (crop with roi.roi.transform()) → LandmarkResult per ROI key
//   4. let faces = tracker.update(frame:time:landmarkResults:) → confirmed faces with stable ids
// Tracking follows MediaPipe's face landmarker: a face keeps being tracked from its own landmarks
// (ROI from landmarks 33/263, ×1.5) while presence ≥ 0.5; the detector only adds faces. Each run of
// a face is a tracklet with its own id: joining tracklets into one id per person is `TrackLinker`'s job,
// with the following frames in view.

import Foundation

/// A region the landmark network must run on this frame.
public struct TrackROI: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// From the track's landmarks of the previous frame (normal tracking).
        case landmarks
        /// From a detection: a new face.
        case detection
    }
    /// Key the landmark result must carry back (the track id the face will have).
    public var trackID: Int
    public var roi: FaceROI
    public var source: Source
}

/// The landmark network's answer for one ROI, mapped to frame pixels (RoiTransform.landmarksToFrame).
public struct LandmarkResult: Sendable {
    public var trackID: Int
    public var landmarks: [Point]
    public var presence: Double
    public init(trackID: Int, landmarks: [Point], presence: Double) {
        self.trackID = trackID; self.landmarks = landmarks; self.presence = presence
    }
}

/// A confirmed face on this frame.
public struct TrackedFace: Sendable {
    public var id: Int
    public var landmarks: FaceLandmarks
    public var presence: Double
    /// The ROI the landmarks were computed in.
    public var roi: FaceROI
    /// True on the first frame of a tracklet.
    public var isNew: Bool
}

public final class FaceTracker {
    public var settings: FaceSettings.Tracker
    public var roiSettings: FaceSettings.ROI

    struct Track {
        var id: Int
        var landmarks: [Point]
        var box: Rect
        var lastTime: Double
        var firstTime: Double
        /// ROI of the landmarks one frame before `landmarks`, and that frame's time (for prediction).
        var previousROI: FaceROI? = nil
        var previousTime: Double = 0
    }

    struct Pending {
        var id: Int
        var detection: FaceDetection
    }

    private(set) var active: [Track] = []
    private var pending: [Pending] = []
    private var nextID: Int
    /// Frame of the last detector run, and whether a track was lost on the last frame.
    private var lastKeyframe: Int?
    private var lostOnLastFrame = false

    public init(settings: FaceSettings.Tracker = .init(), roiSettings: FaceSettings.ROI = .init()) {
        self.settings = settings
        self.roiSettings = roiSettings
        nextID = settings.firstID
    }

    /// Forgets every track (a new clip): ids restart at `settings.firstID`.
    public func resetAll() {
        active = []; pending = []; lastKeyframe = nil; lostOnLastFrame = false
        nextID = settings.firstID
    }

    /// Ends every track (a shot cut: no face is followed from one shot into the next). Ids go on.
    public func endAll() {
        active = []; pending = []; lastKeyframe = nil; lostOnLastFrame = false
    }

    /// Ids of faces currently tracked.
    public var activeIDs: [Int] { active.map(\.id) }

    /// Whether the integrator should run the detector on this frame (a keyframe): the first frame,
    /// `detectEvery` frames after the last keyframe, and the frame after a track was lost. With
    /// `lookBack` off (`detectEvery` 1 or the single-frame `analyze`), also every frame while nothing is
    /// tracked, as MediaPipe does.
    public func needsDetection(frame: Int, lookBack: Bool = false) -> Bool {
        guard let last = lastKeyframe else { return true }
        if frame - last >= max(1, settings.detectEvery) { return true }
        if settings.detectAfterLoss && lostOnLastFrame { return true }
        return !lookBack && active.isEmpty
    }

    /// ROIs for this frame: one per tracked face (from its last landmarks), plus one per detection
    /// that is not an already tracked face (up to maxFaces in all). `detections`: nil when the detector
    /// did not run on this frame.
    public func rois(forFrame frame: Int, time: Double, detections: [FaceDetection]?) -> [TrackROI] {
        if detections != nil { lastKeyframe = frame }
        var out = active.map { TrackROI(trackID: $0.id, roi: trackedROI($0, time: time), source: .landmarks) }
        pending = []
        var claimedBoxes = active.map(\.box)
        // Best score first; ties left-to-right, top-to-bottom so ids are reproducible.
        let ordered = (detections ?? []).sorted {
            $0.score != $1.score ? $0.score > $1.score : ($0.box.minX != $1.box.minX ? $0.box.minX < $1.box.minX : $0.box.minY < $1.box.minY)
        }
        for d in ordered {
            if out.count >= settings.maxFaces { break }
            // Already tracked (or a duplicate of a face added this frame): the tracker's own ROI wins.
            if claimedBoxes.contains(where: { Self.sameFace($0, d.box, iou: settings.matchIoU) }) { continue }
            claimedBoxes.append(d.box)
            let id = nextID
            nextID += 1
            pending.append(Pending(id: id, detection: d))
            out.append(TrackROI(trackID: id, roi: FaceROI(detection: d, settings: roiSettings), source: .detection))
        }
        return out
    }

    /// Takes the landmark results for this frame's ROIs and returns the confirmed faces.
    @discardableResult
    public func update(frame: Int, time: Double, landmarkResults: [LandmarkResult]) -> [TrackedFace] {
        let byID = Dictionary(landmarkResults.map { ($0.trackID, $0) }, uniquingKeysWith: { a, _ in a })
        func accepted(_ id: Int) -> LandmarkResult? {
            guard let r = byID[id], r.presence >= settings.minPresence, r.landmarks.count >= FaceLandmarks.meshCount else { return nil }
            return r
        }
        var faces: [TrackedFace] = []
        var stillActive: [Track] = []
        lostOnLastFrame = false
        for var t in active {
            if let r = accepted(t.id) {
                let roi = FaceROI(landmarks: t.landmarks, settings: roiSettings)
                t.previousROI = roi
                t.previousTime = t.lastTime
                t.landmarks = r.landmarks
                t.box = Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount))
                t.lastTime = time
                stillActive.append(t)
                faces.append(TrackedFace(id: t.id, landmarks: FaceLandmarks(points: r.landmarks), presence: r.presence,
                                         roi: roi, isNew: false))
            } else {
                lostOnLastFrame = true
            }
        }
        var rejected = Set<Int>()
        for p in pending {
            guard let r = accepted(p.id) else {
                rejected.insert(p.id)
                continue
            }
            stillActive.append(Track(id: p.id, landmarks: r.landmarks, box: Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount)),
                                     lastTime: time, firstTime: time))
            faces.append(TrackedFace(id: p.id, landmarks: FaceLandmarks(points: r.landmarks), presence: r.presence,
                                     roi: FaceROI(detection: p.detection, settings: roiSettings), isNew: true))
        }
        // Give back ids of rejected candidates when they are the newest, keeping ids dense.
        while rejected.contains(nextID - 1) && !stillActive.contains(where: { $0.id == nextID - 1 }) {
            nextID -= 1
        }
        // Two tracks that converged on one face: keep the older one.
        stillActive.sort { $0.firstTime != $1.firstTime ? $0.firstTime < $1.firstTime : $0.id < $1.id }
        var kept: [Track] = []
        for t in stillActive where !kept.contains(where: { $0.box.iou(t.box) > 0.5 }) { kept.append(t) }
        let keptIDs = Set(kept.map(\.id))
        active = kept
        pending = []
        return faces.filter { keptIDs.contains($0.id) }.sorted { $0.id < $1.id }
    }

    /// Each tracked face's ROI on frames at these later times, extrapolated from its motion (constant
    /// velocity, as `predictROI` does for the next frame), for landmarks run on several frames at once.
    public func predictedROIs(times: [Double]) -> [(trackID: Int, rois: [FaceROI])] {
        active.map { t in
            (t.id, times.map { time in
                let steps = t.lastTime > t.previousTime ? (time - t.lastTime) / (t.lastTime - t.previousTime) : 1
                return trackedROI(t, time: time, maxSteps: max(1.5, steps + 0.5))
            })
        }
    }

    /// Hands out a fresh tracklet id (faces the analyzer finds outside `rois`/`update`).
    func makeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    /// The landmark ROI for a tracked face on the frame at `time`: from its last landmarks (MediaPipe), or,
    /// with `predictROI`, moved on by the ROI's change over the last frame interval (constant velocity,
    /// scaled to this interval), so a steadily moving face stays centred in its crop.
    func trackedROI(_ t: Track, time: Double, maxSteps: Double = 1.5) -> FaceROI {
        let last = FaceROI(landmarks: t.landmarks, settings: roiSettings)
        guard settings.predictROI, let prev = t.previousROI else { return last }
        let dt = t.lastTime - t.previousTime
        guard dt > 0 else { return last }
        let k = min(max((time - t.lastTime) / dt, 0), maxSteps)
        // Soft dead band: changes at the level of landmark noise (a still face) are not extrapolated,
        // which would double the ROI's jitter; real motion (a few % of the ROI per frame) passes whole.
        func pass(_ x: Double, _ noise: Double) -> Double { x * x / (x * x + noise * noise) }
        let shift = last.center - prev.center
        let c = last.center + shift * (k * pass(hypot(shift.x, shift.y) / max(last.size, 1e-9), 0.01))
        let grow = log(last.size / max(prev.size, 1e-9))
        let size = last.size * exp(grow * k * pass(grow, 0.01))
        let turn = normalizeRadians(last.rotation - prev.rotation)
        return FaceROI(center: c, size: size, rotation: normalizeRadians(last.rotation + turn * k * pass(turn, 0.02)))
    }

    static func sameFace(_ trackBox: Rect, _ det: Rect, iou: Double) -> Bool {
        if trackBox.iou(det) >= iou { return true }
        let c = det.center
        return c.x > trackBox.minX && c.x < trackBox.maxX && c.y > trackBox.minY && c.y < trackBox.maxY
    }
}
