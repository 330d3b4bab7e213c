@testable import FaceFXFace
@testable import FaceFXPipeline
import Foundation
import XCTest

/// Segments without a GPU: how a clip is cut, and how the segments' frames are put back in
/// order with one tracklet id per face (the whole path through `facefx analyze`:
/// OfflineTrackingCLITests.testSegmentsAtOnceMatchOnePass).
final class SegmentTests: XCTestCase {
    /// Without --segments: 2 lanes for a clip of 600 frames or more on a hardware GPU, else 1 (llvmpipe is
    /// bound by its CPU; a short clip has too little to overlap for a lane's set-up).
    func testDefaultSegments() {
        XCTAssertEqual(AnalyzeJob.defaultSegments(software: false, frames: 900), 2)
        XCTAssertEqual(AnalyzeJob.defaultSegments(software: false, frames: 600), 2)
        XCTAssertEqual(AnalyzeJob.defaultSegments(software: false, frames: 599), 1)
        XCTAssertEqual(AnalyzeJob.defaultSegments(software: false, frames: nil), 1)
        XCTAssertEqual(AnalyzeJob.defaultSegments(software: true, frames: 900), 1)
    }

    func testPlanCutsTheClipIntoLanes() {
        XCTAssertEqual(SegmentPlan.make(frames: 300, lanes: 1), .whole)
        XCTAssertEqual(SegmentPlan.make(frames: 99, lanes: 4), .whole, "too short for two segments of 50")
        let p = SegmentPlan.make(frames: 300, lanes: 4)
        XCTAssertEqual(p.lanes, 4)
        XCTAssertEqual(p.segments.map(\.emitFrom), [0, 75, 150, 225])
        XCTAssertEqual(p.segments.map(\.readFrom), [0, 65, 140, 215], "each read 10 frames early")
        XCTAssertEqual(p.segments.map(\.end), [75, 150, 225, .max], "the last one reads to the end of the file")
        XCTAssertEqual(p.segments.map(\.lane), [0, 1, 2, 3])
        // Short clips: segments of at least 50 frames, so fewer lanes.
        let short = SegmentPlan.make(frames: 120, lanes: 8)
        XCTAssertEqual(short.lanes, 3)
        XCTAssertEqual(short.segments.map(\.emitFrom), [0, 50, 100])
        // Long clips: segments of at most 900 frames, each lane taking every 8th in turn.
        let long = SegmentPlan.make(frames: 30_000, lanes: 8)
        XCTAssertEqual(long.segments.count, 34)
        XCTAssertEqual(long.segments.map(\.lane), (0..<34).map { $0 % 8 })
    }

    func face(_ id: Int, x: Double) -> FaceResult {
        FaceResult(id: id, frameIndex: 0, time: 0, presence: 0.9, detectionScore: nil,
                   box: Rect(x: x, y: 10, width: 50, height: 60), landmarks: [], blendshapes: [], emotions: [],
                   pose: HeadPose(yaw: 0, pitch: 0, roll: 0, translation: [0, 0, -50], scale: 1, rotation: HeadPose.rotation(yaw: 0, pitch: 0, roll: 0),
                                  matrix: Array(repeating: 0, count: 16), rmsError: 0), roi: FaceROI(center: Point2(x, 40), size: 80, rotation: 0))
    }

    func frame(_ index: Int, shot: Int, _ faces: [FaceResult]) -> AnalyzedFrame {
        AnalyzedFrame(index: index, time: Double(index) / 30, shot: shot, faces: faces)
    }

    func testAssemblerRestoresOrderAndStitchesTracklets() {
        // Two segments: 0–49 and 50–99, the second read from 40. Face A (x 100) all along, B (x 300) from
        // frame 70 on; a cut at frame 45, seen by both segments. Segment 1 numbers its tracklets and shots
        // from scratch: A is its tracklet 1, B its tracklet 2.
        let plan = SegmentPlan.make(frames: 100, lanes: 2)
        XCTAssertEqual(plan.segments.map(\.readFrom), [0, 40])
        let assembler = SegmentAssembler(plan: plan)
        var out: [AnalyzedFrame] = []
        for i in 0..<60 {
            // Interleaved: frame i of segment 0, then frame 40 + i of segment 1.
            if i < 50 { out += assembler.add(frame(i, shot: i < 45 ? 0 : 1, [face(7, x: 100)]), segment: 0) }
            if i == 50 { out += assembler.end(segment: 0) }
            let j = 40 + i
            let faces = j >= 70 ? [face(1, x: 101), face(2, x: 300)] : [face(1, x: 101)]
            out += assembler.add(frame(j, shot: j < 45 ? 0 : 1, faces), segment: 1)
            XCTAssertTrue(out.count <= 50 || i >= 50, "segment 1 waits for segment 0")
        }
        out += assembler.end(segment: 1)
        XCTAssertEqual(out.map(\.index), Array(0..<100), "every frame once, in order, overlap dropped")
        XCTAssertEqual(out.map(\.shot), (0..<100).map { $0 < 45 ? 0 : 1 })
        XCTAssertEqual(Set(out.flatMap { $0.faces.filter { $0.box.minX < 200 }.map(\.id) }), [7], "A keeps one id across segments")
        let b = Set(out.flatMap { $0.faces.filter { $0.box.minX > 200 }.map(\.id) })
        XCTAssertEqual(b.count, 1)
        XCTAssertFalse(b.contains(7), "B is not A")
    }
}
