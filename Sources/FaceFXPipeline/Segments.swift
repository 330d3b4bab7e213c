// Analysis of a clip in segments at once: the clip is cut into segments, K of them are decoded side by
// side (one reader and thread each, seeking to its segment) and analysed at once, each lane on its own
// thread with its own analyzer (AnalyzeJob), their GL work taking turns on the one GL thread. Each segment
// is read from a few frames before it starts, so its tracks can be stitched to the previous segment's; the
// assembler puts the frames back in clip order with one tracklet id per face across segments, and
// smoothing and linking then run on the whole clip as they do for one segment.

import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import Foundation

/// How a clip is cut into segments: segment c covers frames [c·L, (c+1)·L), is read from `overlap` frames
/// earlier, and goes through lane c mod K; each lane runs its segments in turn.
struct SegmentPlan: Equatable {
    struct Segment: Equatable {
        /// First frame decoded (the overlap before `emitFrom` is analysed only to stitch tracks).
        var readFrom: Int
        /// First frame this segment hands out.
        var emitFrom: Int
        /// One past its last frame (Int.max for the last segment: whatever the file still has).
        var end: Int
        var lane: Int
    }
    let segments: [Segment]
    let lanes: Int

    /// Frames a segment is read before it starts: enough for a face's track to settle after the
    /// detector found it (landmarks on their own ROI, the refinement pass) and for the shot-cut detector's
    /// history.
    static let overlap = 10
    /// Shortest segment worth its overlap, and the longest (a segment's frames wait, as small face
    /// records, until the segments before it are written: 30 s at 30 fps).
    static let minLength = 50
    static let maxLength = 900

    /// The whole clip as one segment, read from start to end without seeking.
    static let whole = SegmentPlan(segments: [Segment(readFrom: 0, emitFrom: 0, end: .max, lane: 0)], lanes: 1)

    static func make(frames: Int, lanes: Int) -> SegmentPlan {
        guard lanes > 1, frames >= 2 * minLength else { return .whole }
        let length = min(max((frames + lanes - 1) / lanes, minLength), maxLength)
        let count = (frames + length - 1) / length
        let used = min(lanes, count)
        let segments = (0..<count).map { c in
            Segment(readFrom: max(0, c * length - overlap), emitFrom: c * length,
                    end: c == count - 1 ? .max : (c + 1) * length, lane: c % used)
        }
        return SegmentPlan(segments: segments, lanes: used)
    }
}

/// What a lane's decode thread hands its analysis thread: frames of its current segment, then the segment's end.
enum LaneItem {
    case frame(VideoFrame, index: Int)
    case segmentEnd
}

/// A lane's decoding: for each of its segments in turn, seek to it (`timestamps`: every frame's, from
/// `VideoReader.frameTimestamps`) and hand out its frames with their clip frame index, then `.segmentEnd`.
/// Not started; leaves `stages` when done.
func laneDecodeThread(_ reader: VideoReader, lane: Int, plan: SegmentPlan, timestamps: [Int64]?,
                      into queue: BoundedQueue<LaneItem>, stages: DispatchGroup, abort: @escaping (Error) -> Void) -> Thread {
    let thread = makeNamedThread("fx.decode.\(lane)") { [unowned reader] in
        defer { stages.leave() }
        do {
            var fresh = true
            for segment in plan.segments where segment.lane == lane {
                if !(fresh && segment.readFrom == 0) {
                    guard let timestamps, segment.readFrom < timestamps.count else {
                        throw PipelineError.processing("internal: segment at frame \(segment.readFrom) without its timestamp")
                    }
                    try reader.seek(toTimestamp: timestamps[segment.readFrom])
                }
                fresh = false
                var index = segment.readFrom
                while index < segment.end, let frame = try reader.nextFrame() {
                    if !queue.push(.frame(frame, index: index)) { return }
                    index += 1
                }
                if !queue.push(.segmentEnd) { return }
            }
            queue.close()
        } catch { abort(error) }
    }
    return thread
}

/// Puts the frames of the segments back in clip order (segments come interleaved; a segment's
/// frames wait until the one before it is complete), drops the overlap frames, and gives each tracklet
/// one id across segments: a tracklet of segment c that is on the last overlap frame where a tracklet of
/// segment c − 1 is (boxes overlapping by IoU > 0.5) continues it; any other gets an id of its own. Shot
/// numbers go on from the previous segment's.
final class SegmentAssembler {
    let plan: SegmentPlan
    private var buffers: [Int: [AnalyzedFrame]] = [:]
    private var complete: Set<Int> = []
    /// The segment being handed out, and its tracklet ids → clip ids (nil: not decided yet).
    private var current = 0
    private var ids: [Int: Int]?
    private var shotOffset = 0
    private var lastOut: AnalyzedFrame?

    init(plan: SegmentPlan) { self.plan = plan }

    /// Takes a frame of segment `segment`; returns the frames now final, in clip order.
    func add(_ frame: AnalyzedFrame, segment: Int) -> [AnalyzedFrame] {
        buffers[segment, default: []].append(frame)
        return drain()
    }

    /// Segment `segment` has no more frames.
    func end(segment: Int) -> [AnalyzedFrame] {
        complete.insert(segment)
        return drain()
    }

    private func drain() -> [AnalyzedFrame] {
        var out: [AnalyzedFrame] = []
        while current < plan.segments.count {
            let s = plan.segments[current]
            var frames = buffers.removeValue(forKey: current) ?? []
            if ids == nil {
                // Decided once every overlap frame is in: the first frame to hand out came, or the segment ended.
                guard complete.contains(current) || frames.contains(where: { $0.index >= s.emitFrom }) else {
                    buffers[current] = frames
                    break
                }
                stitch(overlap: frames.last { $0.index == s.emitFrom - 1 }, segment: current)
                frames.removeAll { $0.index < s.emitFrom }
            }
            for var f in frames {
                f.shot += shotOffset
                for k in f.faces.indices { f.faces[k].id = clipID(f.faces[k].id) }
                out.append(f)
                lastOut = f
            }
            guard complete.contains(current) else { break }
            current += 1
            ids = nil
        }
        return out
    }

    /// Segment `segment`'s tracklets that continue the previous segment's, from the last overlap frame.
    private func stitch(overlap: AnalyzedFrame?, segment: Int) {
        var map: [Int: Int] = [:]
        shotOffset = 0
        if let overlap, let previous = lastOut, previous.index == overlap.index {
            shotOffset = previous.shot - overlap.shot
            var pairs: [(iou: Double, mine: Int, theirs: Int)] = []
            for a in overlap.faces {
                for b in previous.faces {
                    let iou = a.box.iou(b.box)
                    if iou > 0.5 { pairs.append((iou, a.id, b.id)) }
                }
            }
            for p in pairs.sorted(by: { $0.iou > $1.iou }) where map[p.mine] == nil && !map.values.contains(p.theirs) {
                map[p.mine] = p.theirs
            }
        } else if let previous = lastOut {
            shotOffset = previous.shot + 1
        }
        ids = map
        idBase = segment * Self.idsPerSegment
    }

    /// Tracklet ids of segment c that continue nothing become c · idsPerSegment + their own id (unique
    /// across segments; the linker later turns tracklets into person ids 1, 2, …).
    static let idsPerSegment = 1_000_000
    private var idBase = 0

    private func clipID(_ id: Int) -> Int {
        if let known = ids?[id] { return known }
        let fresh = idBase + id
        ids?[id] = fresh
        return fresh
    }
}
