// CPU bookkeeping of face tracks (the GPU runs the networks). Per frame:
//   1. if tracker.needsDetection(frame:) run the detector → detections in frame pixels
//   2. let rois = tracker.rois(forFrame:time:detections:)   (tracked faces + new/returning faces)
//   3. run the landmark net on every ROI (crop with roi.roi.transform()) → LandmarkResult per ROI key
//   4. let faces = tracker.update(frame:time:landmarkResults:) → confirmed faces with stable ids
// Tracking follows MediaPipe's face landmarker: a face keeps being tracked from its own landmarks
// (ROI from landmarks 33/263, ×1.5) while presence ≥ 0.5; the detector only adds faces.

import Foundation

/// A region the landmark network must run on this frame.
public struct TrackROI: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// From the track's landmarks of the previous frame (normal tracking).
        case landmarks
        /// From a detection: a new face, or a parked face coming back (then `trackID` is its old id).
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
    /// True on the first frame of a track, and on the frame a parked id is given back.
    public var isNew: Bool
    public var reidentified: Bool
}

public final class FaceTracker {
    public var settings: FaceSettings.Tracker
    public var roiSettings: FaceSettings.ROI

    struct Track {
        var id: Int
        var landmarks: [Point]
        var box: Rect
        var descriptor: [Double]
        var lastTime: Double
        var firstTime: Double
        /// ROI of the landmarks one frame before `landmarks`, and that frame's time (for prediction).
        var previousROI: FaceROI? = nil
        var previousTime: Double = 0
    }

    struct Pending {
        var id: Int
        var detection: FaceDetection
        var reidFrom: Track?
    }

    private(set) var active: [Track] = []
    private(set) var parked: [Track] = []
    private var pending: [Pending] = []
    private var nextID: Int

    public init(settings: FaceSettings.Tracker = .init(), roiSettings: FaceSettings.ROI = .init()) {
        self.settings = settings
        self.roiSettings = roiSettings
        nextID = settings.firstID
    }

    /// Forgets every track (a new clip): ids restart at `settings.firstID`.
    public func resetAll() {
        active = []; parked = []; pending = []
        nextID = settings.firstID
    }

    /// Ids of faces currently tracked.
    public var activeIDs: [Int] { active.map(\.id) }

    /// Whether the integrator should run the detector on this frame: every `detectEvery` frames,
    /// and on every frame while nothing is tracked.
    public func needsDetection(frame: Int) -> Bool {
        active.isEmpty || frame % max(1, settings.detectEvery) == 0
    }

    /// ROIs for this frame: one per tracked face (from its last landmarks), plus one per detection
    /// that is not an already tracked face (up to maxFaces in all). Pass [] when not detecting.
    public func rois(forFrame frame: Int, time: Double, detections: [FaceDetection]) -> [TrackROI] {
        parked.removeAll { time - $0.lastTime > settings.reidWindow }
        var out = active.map { TrackROI(trackID: $0.id, roi: trackedROI($0, time: time), source: .landmarks) }
        pending = []
        var claimedBoxes = active.map(\.box)
        var usedParked = Set<Int>()
        // Best score first; ties left-to-right, top-to-bottom so ids are reproducible.
        let ordered = detections.sorted {
            $0.score != $1.score ? $0.score > $1.score : ($0.box.minX != $1.box.minX ? $0.box.minX < $1.box.minX : $0.box.minY < $1.box.minY)
        }
        for d in ordered {
            if out.count >= settings.maxFaces { break }
            // Already tracked (or a duplicate of a face added this frame): the tracker's own ROI wins.
            if claimedBoxes.contains(where: { Self.sameFace($0, d.box, iou: settings.matchIoU) }) { continue }
            claimedBoxes.append(d.box)
            let back = bestParked(for: d.box, excluding: usedParked)
            let id: Int
            if let p = back { id = p.id; usedParked.insert(p.id) } else { id = nextID; nextID += 1 }
            pending.append(Pending(id: id, detection: d, reidFrom: back))
            out.append(TrackROI(trackID: id, roi: FaceROI(detection: d, settings: roiSettings), source: .detection))
        }
        return out
    }

    /// Takes the landmark results for this frame's ROIs and returns the confirmed faces.
    @discardableResult
    public func update(frame: Int, time: Double, landmarkResults: [LandmarkResult]) -> [TrackedFace] {
        let byID = Dictionary(landmarkResults.map { ($0.trackID, $0) }, uniquingKeysWith: { a, _ in a })
        var faces: [TrackedFace] = []
        var stillActive: [Track] = []
        for var t in active {
            if let r = byID[t.id], r.presence >= settings.minPresence, r.landmarks.count >= FaceLandmarks.meshCount {
                let roi = FaceROI(landmarks: t.landmarks, settings: roiSettings)
                t.previousROI = roi
                t.previousTime = t.lastTime
                t.landmarks = r.landmarks
                t.box = Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount))
                t.descriptor = Self.blend(t.descriptor, FaceLandmarks(points: r.landmarks).shapeDescriptor)
                t.lastTime = time
                stillActive.append(t)
                faces.append(TrackedFace(id: t.id, landmarks: FaceLandmarks(points: r.landmarks), presence: r.presence,
                                         roi: roi, isNew: false, reidentified: false))
            } else {
                parked.append(t)   // lost: wait reidWindow for it to come back
            }
        }
        var rejected = Set<Int>()
        for p in pending {
            guard let r = byID[p.id], r.presence >= settings.minPresence, r.landmarks.count >= FaceLandmarks.meshCount else {
                rejected.insert(p.id)
                continue
            }
            let lms = FaceLandmarks(points: r.landmarks)
            var id = p.id
            var reid = false
            if let old = p.reidFrom {
                // Position/size matched; a clearly different face shape gets a fresh id instead.
                let dist = FaceLandmarks.descriptorDistance(old.descriptor, lms.shapeDescriptor)
                if dist.isFinite && dist > settings.reidMaxShapeDistance {
                    id = nextID; nextID += 1
                } else {
                    reid = true
                    parked.removeAll { $0.id == old.id }
                }
            }
            let t = Track(id: id, landmarks: r.landmarks, box: Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount)),
                          descriptor: lms.shapeDescriptor, lastTime: time, firstTime: reid ? p.reidFrom!.firstTime : time)
            stillActive.append(t)
            faces.append(TrackedFace(id: id, landmarks: lms, presence: r.presence,
                                     roi: FaceROI(detection: p.detection, settings: roiSettings),
                                     isNew: true, reidentified: reid))
        }
        // Give back ids of rejected brand-new candidates when they are the newest, keeping ids dense.
        while rejected.contains(nextID - 1) && !stillActive.contains(where: { $0.id == nextID - 1 })
                && !parked.contains(where: { $0.id == nextID - 1 }) {
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

    /// The landmark ROI for a tracked face on the frame at `time`: from its last landmarks (MediaPipe), or,
    /// with `predictROI`, moved on by the ROI's change over the last frame interval (constant velocity,
    /// scaled to this interval), so a steadily moving face stays centred in its crop.
    func trackedROI(_ t: Track, time: Double) -> FaceROI {
        let last = FaceROI(landmarks: t.landmarks, settings: roiSettings)
        guard settings.predictROI, let prev = t.previousROI else { return last }
        let dt = t.lastTime - t.previousTime
        guard dt > 0 else { return last }
        let k = min(max((time - t.lastTime) / dt, 0), 1.5)
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

    /// Parked track whose last box is close in position and size to `box`.
    private func bestParked(for box: Rect, excluding: Set<Int>) -> Track? {
        var best: (Track, Double)?
        for t in parked where !excluding.contains(t.id) {
            let size = max(t.box.width, t.box.height), s2 = max(box.width, box.height)
            let ratio = max(size, s2) / max(min(size, s2), 1e-9)
            // Detector boxes are smaller than landmark boxes (no forehead), hence a loose limit.
            if ratio > settings.reidMaxSizeRatio { continue }
            let d = hypot(t.box.center.x - box.center.x, t.box.center.y - box.center.y) / max(size, 1e-9)
            if d > settings.reidMaxCenterDistance { continue }
            if best == nil || d < best!.1 { best = (t, d) }
        }
        return best?.0
    }

    static func sameFace(_ trackBox: Rect, _ det: Rect, iou: Double) -> Bool {
        if trackBox.iou(det) >= iou { return true }
        let c = det.center
        return c.x > trackBox.minX && c.x < trackBox.maxX && c.y > trackBox.minY && c.y < trackBox.maxY
    }

    /// Slow running mean of the shape descriptor (expression changes average out).
    static func blend(_ old: [Double], _ new: [Double]) -> [Double] {
        guard old.count == new.count else { return new }
        return zip(old, new).map { 0.9 * $0 + 0.1 * $1 }
    }
}
