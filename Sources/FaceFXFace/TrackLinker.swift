// Tracklets → tracks, with the following frames in view. The analyzer hands out one id per tracklet
// (a face followed without a break within one shot); this stage, `lookahead` frames behind it:
//  - drops fragments shorter than `minTrackFrames` unless the face is really visible that briefly: a
//    confident face whose start and end are both explained (a shot or clip boundary, or the picture's
//    edge); a spurious face on a pedestrian or a helmet would flash for a frame;
//  - joins a tracklet that ends and one that starts within `maxGapFrames` in the same place (the face
//    dipped below the presence threshold) and fills the gap by interpolation;
//  - gives every tracklet the id of the earlier person who looks most alike (`FaceAppearance`), if close
//    enough and not on screen at the same time ("two faces in one frame are two people"), else a new
//    id: one id per person across exits of any length and across shot cuts.
// Decisions are made when a tracklet's first frame leaves the window, from its first `lookahead`
// frames, so memory stays bounded and render can draw with final ids.

import Foundation

public final class TrackLinker {
    public let settings: FaceSettings.Linking
    /// Recomputes the head pose of interpolated faces (nil: the pose of the nearer end).
    let poseEstimator: HeadPoseEstimator?
    let frameWidth: Double, frameHeight: Double

    private struct Tracklet {
        let firstFrame: Int
        let firstTime: Double
        let shot: Int
        let firstFace: FaceResult
        var lastFrame: Int
        var lastBox: Rect
        var frames = 1
        var presenceSum: Double
        var appearance: FaceAppearance
        var person: Int?
        var dropped = false
    }

    private struct Person {
        let id: Int
        var appearance: FaceAppearance
        /// The tracklet carrying the person now (or last).
        var tracklet: Int
        var lastTime: Double
    }

    /// A gap being filled: `person`'s face interpolated from `from` to `to` over the frames between.
    private struct Fill {
        let person: Int
        let from: FaceResult
        let to: FaceResult
    }

    private var window: [FaceFrame] = []
    private var tracklets: [Int: Tracklet] = [:]
    private var persons: [Int: Person] = [:]
    private var fills: [Fill] = []
    private var nextPersonID = 1
    private var shotStarts: [Int: Int] = [:]
    private var finished = false

    public init(settings: FaceSettings.Linking = .init(), poseEstimator: HeadPoseEstimator? = nil,
                frameWidth: Int = 0, frameHeight: Int = 0) {
        self.settings = settings
        self.poseEstimator = poseEstimator
        self.frameWidth = Double(frameWidth); self.frameHeight = Double(frameHeight)
    }

    /// Distinct person ids handed out so far.
    public var personCount: Int { nextPersonID - 1 }

    /// Takes the next frame (ids = tracklet ids); returns the frames that are final (ids = person ids).
    public func push(_ frame: FaceFrame) -> [FaceFrame] {
        if shotStarts[frame.shot] == nil { shotStarts[frame.shot] = frame.index }
        for face in frame.faces {
            if var t = tracklets[face.id] {
                t.lastFrame = frame.index
                t.lastBox = face.box
                t.frames += 1
                t.presenceSum += face.presence
                t.appearance = t.appearance.merged(with: face.appearance)
                tracklets[face.id] = t
            } else {
                tracklets[face.id] = Tracklet(firstFrame: frame.index, firstTime: frame.time, shot: frame.shot, firstFace: face,
                                              lastFrame: frame.index, lastBox: face.box, presenceSum: face.presence, appearance: face.appearance)
            }
        }
        window.append(frame)
        var out: [FaceFrame] = []
        while window.count > max(settings.lookahead, settings.maxGapFrames + settings.minTrackFrames) {
            out.append(emit(window.removeFirst()))
        }
        return out
    }

    /// The frames still held (after the last `push`).
    public func finish() -> [FaceFrame] {
        finished = true
        defer { window = [] }
        var out: [FaceFrame] = []
        while !window.isEmpty { out.append(emit(window.removeFirst())) }
        return out
    }

    private func emit(_ frame: FaceFrame) -> FaceFrame {
        var faces: [FaceResult] = []
        for face in frame.faces {
            decide(face.id)
            guard let t = tracklets[face.id], !t.dropped, let pid = t.person else { continue }
            var r = face
            r.id = pid
            faces.append(r)
            persons[pid]?.lastTime = frame.time
        }
        // Gaps being filled on this frame.
        for fill in fills where fill.from.frameIndex < frame.index && frame.index < fill.to.frameIndex
            && !faces.contains(where: { $0.id == fill.person }) {
            faces.append(interpolate(fill, frame: frame))
        }
        fills.removeAll { $0.to.frameIndex <= frame.index + 1 }
        // Tracklets ending on this frame: look ahead for their continuation.
        for face in faces {
            guard let tid = persons[face.id]?.tracklet, let t = tracklets[tid], t.lastFrame == frame.index,
                  t.firstFrame <= frame.index else { continue }
            // A face that ended at the edge of the picture left it: nothing to fill.
            if let next = continuation(of: face, looks: persons[face.id]!.appearance, shot: frame.shot, after: frame.index),
               tracklets[next].map({ !atEdge(face.box) && !atEdge($0.firstFace.box) }) ?? false {
                tracklets[next]?.person = face.id
                persons[face.id]?.tracklet = next
                if let n = tracklets[next] {
                    let merged = persons[face.id]!.appearance.merged(with: n.appearance)
                    persons[face.id]!.appearance = merged
                    if n.firstFrame > frame.index + 1 { fills.append(Fill(person: face.id, from: face, to: n.firstFace)) }
                }
            }
        }
        // Tracklets that are over are no longer needed (the persons keep what identity needs).
        tracklets = tracklets.filter { $0.value.lastFrame >= frame.index || persons[$0.value.person ?? -1]?.tracklet == $0.key }
        return FaceFrame(index: frame.index, time: frame.time, shot: frame.shot, faces: faces.sorted { $0.id < $1.id })
    }

    /// Whether a face box touches the picture's edge (unknown frame size: never).
    private func atEdge(_ box: Rect) -> Bool {
        guard frameWidth > 0, frameHeight > 0 else { return false }
        return box.minX <= 1 || box.minY <= 1 || box.maxX >= frameWidth - 1 || box.maxY >= frameHeight - 1
    }

    /// The tracklet that continues `face` (which ends on frame `after`): starts within `maxGapFrames`,
    /// same shot, same place and size, looks alike, not yet decided.
    private func continuation(of face: FaceResult, looks: FaceAppearance, shot: Int, after: Int) -> Int? {
        let size = max(face.box.width, face.box.height, 1e-9)
        var best: (id: Int, gap: Int, distance: Double)?
        // In id order: dictionary order changes from run to run, and ties must not.
        for id in tracklets.keys.sorted() {
            let t = tracklets[id]!
            guard t.person == nil && !t.dropped && t.shot == shot
                    && t.firstFrame > after && t.firstFrame <= after + 1 + settings.maxGapFrames else { continue }
            let b = t.firstFace.box
            let s2 = max(b.width, b.height, 1e-9)
            let d = hypot(b.center.x - face.box.center.x, b.center.y - face.box.center.y) / size
            guard d <= settings.gapMaxCenterDistance, max(size, s2) / min(size, s2) <= settings.gapMaxSizeRatio,
                  FaceAppearance.distance(looks, t.appearance) <= settings.maxAppearanceDistance else { continue }
            let gap = t.firstFrame - after
            if best == nil || gap < best!.gap || (gap == best!.gap && d < best!.distance) { best = (id, gap, d) }
        }
        return best?.id
    }

    /// Keeps or drops a tracklet, and names its person, from what the window shows of it.
    private func decide(_ id: Int) {
        guard var t = tracklets[id], t.person == nil, !t.dropped else { return }
        defer { tracklets[id] = t }
        let newest = window.last?.index ?? t.lastFrame
        let running = !finished && t.lastFrame >= newest
        if !running && t.frames < settings.minTrackFrames {
            // Both ends explained: a face that appears at a clip start and vanishes mid-picture two frames
            // later was never there (a detector false positive on a patch of the picture).
            let starts = shotStarts[t.shot] == t.firstFrame || atEdge(t.firstFace.box)
            let nextFrame = window.first { $0.index == t.lastFrame + 1 }
            let ends = (nextFrame.map { $0.shot != t.shot } ?? finished) || atEdge(t.lastBox)
            if !(starts && ends && t.presenceSum / Double(t.frames) >= settings.boundaryMinPresence) {
                t.dropped = true
                return
            }
        }
        var best: (id: Int, distance: Double)?
        for pid in persons.keys.sorted() {
            let p = persons[pid]!
            // Two faces in one frame are two people: a person whose tracklet overlaps this one is excluded.
            if let current = tracklets[p.tracklet], current.lastFrame >= t.firstFrame { continue }
            if let w = settings.reidWindow, t.firstTime - p.lastTime > w { continue }
            let d = FaceAppearance.distance(p.appearance, t.appearance)
            if d <= settings.maxAppearanceDistance && (best == nil || d < best!.distance) { best = (p.id, d) }
        }
        if let b = best {
            t.person = b.id
            persons[b.id]!.tracklet = id
            let merged = persons[b.id]!.appearance.merged(with: t.appearance)
            persons[b.id]!.appearance = merged
        } else {
            let pid = nextPersonID
            nextPersonID += 1
            t.person = pid
            persons[pid] = Person(id: pid, appearance: t.appearance, tracklet: id, lastTime: t.firstTime)
        }
    }

    /// The face between the two ends of a gap, linearly interpolated (landmarks, box, scores), with its
    /// head pose recomputed from the interpolated landmarks.
    private func interpolate(_ fill: Fill, frame: FaceFrame) -> FaceResult {
        let a = fill.from, b = fill.to
        let w = Double(frame.index - a.frameIndex) / Double(max(1, b.frameIndex - a.frameIndex))
        func mix(_ x: [Double], _ y: [Double]) -> [Double] { x.count == y.count ? zip(x, y).map { $0 + ($1 - $0) * w } : x }
        var r = w < 0.5 ? a : b
        r.id = fill.person
        r.frameIndex = frame.index
        r.time = frame.time
        r.presence = min(a.presence, b.presence)
        r.detectionScore = nil
        if a.landmarks.count == b.landmarks.count {
            r.landmarks = zip(a.landmarks, b.landmarks).map { $0 + ($1 - $0) * w }
            r.box = Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount))
            if let poseEstimator, frameWidth > 0 {
                r.pose = poseEstimator.estimate(landmarks: r.landmarks, frameWidth: frameWidth, frameHeight: frameHeight)
            }
        }
        r.blendshapes = mix(a.blendshapes, b.blendshapes)
        r.emotions = mix(a.emotions, b.emotions)
        r.roi = FaceROI(center: a.roi.center + (b.roi.center - a.roi.center) * w, size: a.roi.size + (b.roi.size - a.roi.size) * w,
                        rotation: a.roi.rotation + normalizeRadians(b.roi.rotation - a.roi.rotation) * w)
        r.appearance = .empty
        return r
    }
}
