import XCTest
@testable import FaceFXFace

final class TrackerTests: XCTestCase {
    let fps = 30.0

    /// A BlazeFace-like detection from true landmarks: box around the inner face, 6 keypoints.
    func detection(_ lm: [Point]) -> FaceDetection {
        let box = Rect.bounding(lm.prefix(468))
        let c = box.center, s = 0.75 * max(box.width, box.height)
        func p(_ i: Int) -> Point2 { Point2(lm[i].x, lm[i].y) }
        return FaceDetection(box: Rect(center: c, width: s, height: s),
                             keypoints: [(p(33) + p(133)) / 2, (p(263) + p(362)) / 2, p(1), p(13), p(234), p(454)], score: 0.9)
    }

    /// Simulated landmark net: finds the true face inside the ROI (centre inside, size comparable).
    func landmarkNet(_ rois: [TrackROI], faces: [[Point]]) -> [LandmarkResult] {
        rois.map { r in
            for lm in faces {
                let b = Rect.bounding(lm.prefix(468))
                let inside = hypot(b.center.x - r.roi.center.x, b.center.y - r.roi.center.y) < r.roi.size / 3
                if inside && r.roi.size > max(b.width, b.height) && r.roi.size < 3 * max(b.width, b.height) {
                    return LandmarkResult(trackID: r.trackID, landmarks: lm, presence: 0.95)
                }
            }
            return LandmarkResult(trackID: r.trackID, landmarks: [], presence: 0.02)
        }
    }

    /// Runs the tracker over frames; `faces(frame)` gives the visible faces' landmarks tagged by a
    /// ground-truth label. Returns per frame the label → id map.
    func run(frames: Int, tracker: FaceTracker, faces: (Int) -> [(String, [Point])]) -> [[String: Int]] {
        var out: [[String: Int]] = []
        for f in 0..<frames {
            let t = Double(f) / fps
            let visible = faces(f)
            let dets = tracker.needsDetection(frame: f) ? visible.map { detection($0.1) } : []
            let rois = tracker.rois(forFrame: f, time: t, detections: dets)
            let res = landmarkNet(rois, faces: visible.map(\.1))
            let tracked = tracker.update(frame: f, time: t, landmarkResults: res)
            var map: [String: Int] = [:]
            for (label, lm) in visible {
                if let tf = tracked.first(where: { $0.landmarks.points[1] == lm[1] }) { map[label] = tf.id }
            }
            out.append(map)
        }
        return out
    }

    func face(_ x: Double, _ y: Double, iod: Double = 90, yaw: Double = 0) -> [Point] {
        TestSupport.syntheticFace(center: Point2(x, y), iod: iod, yaw: yaw)
    }

    func testTwoFacesKeepIDs() {
        let tracker = FaceTracker()
        let ids = run(frames: 100, tracker: tracker) { f in
            let t = Double(f) / 30
            return [("A", face(500 + 150 * sin(t), 500, yaw: 20 * sin(2 * t))),
                    ("B", face(1400, 400 + 100 * sin(1.3 * t), iod: 70))]
        }
        XCTAssertEqual(ids[0]["A"], 1); XCTAssertEqual(ids[0]["B"], 2)
        for (f, m) in ids.enumerated() {
            XCTAssertEqual(m["A"], 1, "frame \(f)"); XCTAssertEqual(m["B"], 2, "frame \(f)")
        }
        XCTAssertEqual(Set(tracker.activeIDs), [1, 2])
    }

    func testFaceReturnsWithinWindowGetsIDBack() {
        let tracker = FaceTracker()
        // A leaves for 1 s (frames 30..59) and comes back a little to the side; B stays.
        let ids = run(frames: 100, tracker: tracker) { f in
            var v = [("B", face(1400, 500, iod: 70))]
            if f < 30 { v.append(("A", face(500, 500))) }
            if f >= 60 { v.append(("A", face(540, 520))) }
            return v
        }
        let a = ids[10]["A"], b = ids[10]["B"]
        XCTAssertNotNil(a); XCTAssertNotNil(b); XCTAssertNotEqual(a, b)
        XCTAssertNil(ids[45]["A"])
        XCTAssertEqual(ids[60]["A"], a, "re-identified")
        XCTAssertEqual(ids[99]["A"], a)
        XCTAssertEqual(ids[99]["B"], b)
        XCTAssertEqual(Set(ids.flatMap(\.values)), [1, 2], "no third id handed out")
    }

    func testFaceReturnsAfterWindowGetsNewID() {
        let tracker = FaceTracker()
        let ids = run(frames: 150, tracker: tracker) { f in
            (f < 30 || f >= 30 + 75) ? [("A", face(500, 500))] : []   // gone 2.5 s > reidWindow 2 s
        }
        XCTAssertEqual(ids[0]["A"], 1)
        XCTAssertEqual(ids[110]["A"], 2)
    }

    func testNewFaceElsewhereGetsNewIDEvenWithinWindow() {
        let tracker = FaceTracker()
        let ids = run(frames: 60, tracker: tracker) { f in
            f < 20 ? [("A", face(400, 400))] : (f >= 30 ? [("C", face(1500, 700))] : [])
        }
        XCTAssertEqual(ids[10]["A"], 1)
        XCTAssertEqual(ids[40]["C"], 2)
    }

    func testDetectEveryNAndMaxFaces() {
        var s = FaceSettings.Tracker(); s.detectEvery = 5; s.maxFaces = 2
        let tracker = FaceTracker(settings: s)
        XCTAssertTrue(tracker.needsDetection(frame: 3))   // nothing tracked yet
        let ids = run(frames: 20, tracker: tracker) { _ in
            [("A", face(300, 300)), ("B", face(900, 300)), ("C", face(1500, 300))]
        }
        XCTAssertEqual(ids[19].count, 2)
        XCTAssertFalse(tracker.needsDetection(frame: 21))
        XCTAssertTrue(tracker.needsDetection(frame: 25))
    }

    func testFalseDetectionDoesNotBurnID() {
        let tracker = FaceTracker()
        // Frame 0: a detection where there is no face (landmark net says absent), then a real face.
        let fake = FaceDetection(box: Rect(x: 100, y: 100, width: 80, height: 80),
                                 keypoints: [Point2(120, 130), Point2(160, 130), Point2(140, 150), Point2(140, 165), Point2(100, 135), Point2(180, 135)], score: 0.6)
        let rois = tracker.rois(forFrame: 0, time: 0, detections: [fake])
        XCTAssertEqual(rois.count, 1)
        XCTAssertTrue(tracker.update(frame: 0, time: 0, landmarkResults: landmarkNet(rois, faces: [])).isEmpty)
        let ids = run(frames: 3, tracker: tracker) { _ in [("A", face(900, 500))] }
        XCTAssertEqual(ids[2]["A"], 1)
    }
}
