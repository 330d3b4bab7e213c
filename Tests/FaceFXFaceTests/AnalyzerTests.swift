// FaceAnalyzer end to end on real faces, CPU-reference networks (exact, slow: a few seconds per
// test in debug). Compared with MediaPipe's own FaceLandmarker on the same images
// (Tests/Fixtures/goldens/pipeline_*.json).
import FaceFXGPU
import FaceFXNeural
import XCTest
@testable import FaceFXFace

final class AnalyzerTests: XCTestCase {
    func analyze(_ image: (pixels: [UInt8], width: Int, height: Int), analyzer: FaceAnalyzer) throws -> [FaceResult] {
        let frame = try GPUTestSupport.frameTexture(image)
        let faces = try analyzer.analyze(frameTexture: frame, width: image.width, height: image.height, frameIndex: 0, time: 0)
        let t = analyzer.lastTimings
        print(String(format: "analyze %dx%d: %d faces, %d tiles; detector %.2f s, landmarks %.2f s, blendshapes %.2f s, emotion %.2f s, total %.2f s",
                     image.width, image.height, faces.count, t.tiles, t.detector, t.landmarks, t.blendshapes, t.emotion, t.total))
        return faces
    }

    static func mediapipeFace(_ name: String) throws -> (landmarks: [Point], blendshapes: [Double], matrix: [[Double]])? {
        guard let u = TestSupport.golden("pipeline_\(name).json") else { return nil }
        let j = try TestSupport.json(u)
        let size = (j["image"] as! [String: Any])["size"] as! [Double]
        guard let f = (j["faces"] as! [[String: Any]]).first else { return nil }
        let lm = (f["landmarks_xyz"] as! [[Double]]).map { Point($0[0] * size[0], $0[1] * size[1], $0[2] * size[0]) }
        return (lm, f["blendshapes"] as! [Double], f["transformation_matrix_row_major"] as! [[Double]])
    }

    /// The whole pipeline on astronaut.png against MediaPipe: landmarks, blendshapes, pose; emotion happy.
    func testAstronautMatchesMediaPipe() throws { try astronautMatchesMediaPipe(cpu: false) }

    /// The same with the plain-Swift reference networks instead of the shader engine.
    func testAstronautMatchesMediaPipeWithCPUReference() throws { try astronautMatchesMediaPipe(cpu: true) }

    func astronautMatchesMediaPipe(cpu: Bool) throws {
        guard let mp = try Self.mediapipeFace("astronaut") else { throw MissingTestInput("golden pipeline_astronaut.json absent") }
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample("astronaut.png")], width: 512, height: 512)
        let faces = try analyze(img, analyzer: try GPUTestSupport.analyzer(cpu: cpu))
        XCTAssertEqual(faces.count, 1)
        let f = try XCTUnwrap(faces.first)
        XCTAssertEqual(f.landmarks.count, 478)
        let iod = FaceLandmarks.interOcularDistance(mp.landmarks)
        var sum = 0.0, worst = 0.0
        for (a, b) in zip(f.landmarks, mp.landmarks) {
            let d = hypot(a.x - b.x, a.y - b.y)
            sum += d; worst = max(worst, d)
        }
        let mean = sum / 478
        let bsErr = zip(f.blendshapes, mp.blendshapes).map { abs($0 - $1) }
        print(String(format: "astronaut vs MediaPipe: landmarks mean %.3f px (%.3f%% IOD), max %.3f px; blendshapes mean |Δ| %.4f max %.4f",
                     mean, 100 * mean / iod, worst, bsErr.reduce(0, +) / 52, bsErr.max()!))
        print("astronaut: presence \(f.presence), detection \(f.detectionScore ?? -1), box \(f.box), smile L/R \(f.blendshape("mouthSmileLeft")!) / \(f.blendshape("mouthSmileRight")!)")
        print("astronaut: emotions \(zip(EmotionLabels.names, f.emotions).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))")
        XCTAssertLessThan(mean, 0.01 * iod, "mean landmark error over 1% of the eye distance")
        XCTAssertLessThan(worst, 0.05 * iod)
        XCTAssertGreaterThan(f.presence, 0.9)
        XCTAssertGreaterThan(f.detectionScore ?? 0, 0.5)
        XCTAssertGreaterThan(try XCTUnwrap(f.blendshape("mouthSmileLeft")), 0.5)
        XCTAssertGreaterThan(try XCTUnwrap(f.blendshape("mouthSmileRight")), 0.5)
        XCTAssertLessThan(bsErr.reduce(0, +) / 52, 0.02)
        XCTAssertEqual(f.topEmotion, "happy")
        XCTAssertEqual(f.emotions.reduce(0, +), 1, accuracy: 1e-3)
        // Pose vs MediaPipe's facial transformation matrix (same canonical model, same 63° camera).
        let m = mp.matrix
        let R = Matrix3(rows: (0..<3).map { SIMD3(m[$0][0], m[$0][1], m[$0][2]) })
        let mpAngles = HeadPose.angles(R)
        print(String(format: "pose yaw/pitch/roll %.2f/%.2f/%.2f°, MediaPipe %.2f/%.2f/%.2f°; t (%.2f, %.2f, %.2f) cm, MediaPipe (%.2f, %.2f, %.2f)",
                     f.pose.yaw, f.pose.pitch, f.pose.roll, mpAngles.yaw, mpAngles.pitch, mpAngles.roll,
                     f.pose.translation.x, f.pose.translation.y, f.pose.translation.z, m[0][3], m[1][3], m[2][3]))
        XCTAssertEqual(f.pose.yaw, mpAngles.yaw, accuracy: 1.5)
        XCTAssertEqual(f.pose.pitch, mpAngles.pitch, accuracy: 1.5)
        XCTAssertEqual(f.pose.roll, mpAngles.roll, accuracy: 1.5)
        XCTAssertEqual(f.pose.translation.z, m[2][3], accuracy: abs(m[2][3]) * 0.03)
        // Box = bounds of the mesh, in frame pixels, top-left origin.
        XCTAssertEqual(f.box, Rect.bounding(f.landmarks.prefix(468)))
        XCTAssertTrue(Rect(x: 150, y: 50, width: 150, height: 150).contains(f.box), "\(f.box)")
    }

    func testNoFace() throws {
        let img = try GPUTestSupport.rgba([TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/noface.png")], width: 400, height: 400)
        XCTAssertEqual(try analyze(img, analyzer: try GPUTestSupport.analyzer()).count, 0)
    }

    /// camera.png (a small three-quarter face). With the whole-frame letterbox only (MediaPipe's
    /// detector input) we reproduce MediaPipe: detection 0.77, landmark presence 0.085 < 0.5, no face.
    /// With facefx's default multi-scale tiles the detector sees the face at a better scale (score
    /// 0.9), the ROI fits it better and the landmark network is sure of it (presence ≈ 0.999): one
    /// face. Documented difference from MediaPipe (README, "Face analysis").
    func testCameraman() throws {
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample("camera.png")], width: 512, height: 512)
        let frame = try GPUTestSupport.frameTexture(img)
        let mpLike = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 200 }
        let tiles = mpLike.detectionTiles(width: 512, height: 512)
        XCTAssertEqual(tiles.count, 1, "letterbox only")
        let dets = try mpLike.detect(frame: frame, width: 512, height: 512, tiles: tiles)
        XCTAssertEqual(dets.count, 1)
        XCTAssertEqual(dets.first?.score ?? 0, 0.766, accuracy: 0.002, "MediaPipe's score (detector_camera.json)")
        let rois = dets.map { TrackROI(trackID: 0, roi: FaceROI(detection: $0), source: .detection) }
        let presence = try mpLike.landmarks(frame: frame, rois: rois).first?.presence ?? 1
        print("camera.png, letterbox only: detection \(dets.first?.score ?? 0), presence \(presence)")
        XCTAssertEqual(presence, 0.0855, accuracy: 0.01, "MediaPipe's presence (landmarks_camera.json)")
        XCTAssertEqual(try analyze(img, analyzer: mpLike).count, 0)

        let faces = try analyze(img, analyzer: try GPUTestSupport.analyzer())
        print("camera.png, default tiles: \(faces.map { "presence \($0.presence), detection \($0.detectionScore ?? -1), box \($0.box)" })")
        XCTAssertEqual(faces.count, 1)
        XCTAssertGreaterThan(faces.first?.presence ?? 0, 0.9)
        XCTAssertTrue(Rect(x: 150, y: 90, width: 150, height: 150).contains(faces.first?.box ?? Rect(x: 0, y: 0, width: 512, height: 512)))
    }

    /// Two astronauts side by side (1024×512): the whole-frame letterbox sees 16 px faces, too small;
    /// the finer tiles find both. Distinct ids, left face first (ties broken left to right).
    func testTwoFacesDistinctIDs() throws {
        let a = GPUTestSupport.sample("astronaut.png")
        let img = try GPUTestSupport.rgba([a, a], filter: "hstack", width: 1024, height: 512)
        let faces = try analyze(img, analyzer: try GPUTestSupport.analyzer())
        XCTAssertEqual(faces.count, 2)
        guard faces.count == 2 else { return }
        XCTAssertNotEqual(faces[0].id, faces[1].id)
        let xs = faces.map(\.box.center.x).sorted()
        XCTAssertEqual(xs[0], 225, accuracy: 15)
        XCTAssertEqual(xs[1], 512 + 225, accuracy: 15)
        // The two copies are the same face: same landmarks up to the 512 px shift.
        let l = faces.min { $0.box.minX < $1.box.minX }!, r = faces.max { $0.box.minX < $1.box.minX }!
        let d = zip(l.landmarks, r.landmarks).map { hypot($1.x - 512 - $0.x, $1.y - $0.y) }.reduce(0, +) / 478
        XCTAssertLessThan(d, 1.5, "mean landmark difference between the copies")
        for f in faces { XCTAssertEqual(f.topEmotion, "happy") }
    }

    /// Astronaut shrunk so the face is ~64 px, in a black 1920×1080 frame: found by the finest tiles.
    func testSmallFaceInFullHD() throws {
        let a = GPUTestSupport.sample("astronaut.png")
        // 512 → 346 px: the 95 px detector box becomes ~64 px; placed at (1300, 600).
        let img = try GPUTestSupport.rgba([a], filter: "scale=346:346,pad=1920:1080:1300:600:black", width: 1920, height: 1080)
        let analyzer = try GPUTestSupport.analyzer()
        let faces = try analyze(img, analyzer: analyzer)
        XCTAssertEqual(faces.count, 1)
        let f = try XCTUnwrap(faces.first)
        XCTAssertEqual(f.box.center.x, 1300 + 225 * 346 / 512, accuracy: 10)
        XCTAssertEqual(f.box.center.y, 600 + 125 * 346 / 512, accuracy: 12)
        XCTAssertEqual(FaceLandmarks.interOcularDistance(f.landmarks), 60.1 * 346 / 512, accuracy: 3)
        // With the finest level switched off (minFaceSize 200) the letterbox alone misses it.
        let coarse = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 200 }
        XCTAssertLessThan(coarse.detectionTiles(width: 1920, height: 1080).count, analyzer.detectionTiles(width: 1920, height: 1080).count)
        XCTAssertEqual(try analyze(img, analyzer: coarse).count, 0)
    }
}

extension AnalyzerTests {
    /// Two frames of a clip: the face keeps its id on frame 1, where its ROI comes from frame 0's
    /// landmarks (tracking) while the detector still runs (detectEvery 1) and is matched, not duplicated.
    func testTrackingKeepsIDAcrossFrames() throws {
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample("astronaut.png")], filter: "crop=448:448:40:20", width: 448, height: 448)
        let analyzer = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 120 }   // letterbox only: fast
        let frame = try GPUTestSupport.frameTexture(img)
        let f0 = try analyzer.analyze(frameTexture: frame, width: 448, height: 448, frameIndex: 0, time: 0)
        let f1 = try analyzer.analyze(frameTexture: frame, width: 448, height: 448, frameIndex: 1, time: 1.0 / 30)
        XCTAssertEqual(f0.map(\.id), [1])
        XCTAssertEqual(f1.map(\.id), [1])
        guard let a = f0.first, let b = f1.first else { return }
        XCTAssertNotEqual(a.roi, b.roi, "frame 1's ROI is built from frame 0's landmarks")
        let d = zip(a.landmarks, b.landmarks).map { hypot($0.x - $1.x, $0.y - $1.y) }.reduce(0, +) / 478
        XCTAssertLessThan(d, 1.0, "same image, landmark ROI vs detection ROI: within a pixel")
        analyzer.reset()
        XCTAssertEqual(try analyzer.analyze(frameTexture: frame, width: 448, height: 448, frameIndex: 0, time: 0).map(\.id), [1])
    }
}

extension AnalyzerTests {
    /// `push` with a batch of frames (blendshapes and emotion of 3 frames in one run each) gives the
    /// same frames, in order, with the same results as `analyze` frame by frame — faces coming,
    /// going and coming back included — and `flush` completes the last partial batch.
    func testFrameBatchedPushEqualsAnalyze() throws {
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample("astronaut.png")], filter: "crop=448:448:40:20", width: 448, height: 448)
        let face = try GPUTestSupport.frameTexture(img)
        let blank = try GPUTestSupport.frameTexture((pixels: [UInt8](repeating: 30, count: 448 * 448 * 4), width: 448, height: 448))
        let clip = [face, face, blank, face, face, face, blank]
        let one = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 120; $0.analysis.frameBatch = 1 }
        let expected = try clip.enumerated().map { i, t in
            try one.analyze(frameTexture: t, width: 448, height: 448, frameIndex: i, time: Double(i) / 30)
        }
        let batched = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 120; $0.analysis.frameBatch = 3 }
        XCTAssertEqual(batched.frameBatch, 3)
        var got: [AnalyzedFrame] = []
        var releases: [Int] = []
        for (i, t) in clip.enumerated() {
            let done = try batched.push(frameTexture: t, width: 448, height: 448, frameIndex: i, time: Double(i) / 30)
            releases.append(done.count)
            got += done
        }
        got += try batched.flush()
        XCTAssertEqual(releases, [0, 0, 3, 0, 0, 3, 0])
        XCTAssertEqual(got.map(\.index), Array(clip.indices))
        XCTAssertEqual(expected.map(\.count), [1, 1, 0, 1, 1, 1, 0])
        for (e, g) in zip(expected, got) {
            XCTAssertEqual(g.faces.map(\.id), e.map(\.id), "frame \(g.index) ids")
            for (a, b) in zip(e, g.faces) {
                XCTAssertEqual(a.landmarks.map(\.x), b.landmarks.map(\.x), "frame \(g.index) landmarks")
                XCTAssertEqual(a.blendshapes, b.blendshapes, "frame \(g.index) blendshapes")
                XCTAssertEqual(a.emotions.count, 7)
                for (x, y) in zip(a.emotions, b.emotions) { XCTAssertEqual(x, y, accuracy: 1e-6, "frame \(g.index) emotion") }
                XCTAssertEqual(b.topEmotion, "happy")
            }
        }
    }
}

extension AnalyzerTests {
    /// Crops made by compute passes (the hardware GPUs' default) come back through a storage buffer
    /// (TexelGather) rather than glReadPixels: the same shot-cut thumbnails and colour crops, so the same
    /// analysis as with fragment-pass crops, to the bit.
    func testComputeCropsGiveTheSameAnalysis() throws {
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample("astronaut.png")], filter: "crop=448:448:40:20", width: 448, height: 448)
        let face = try GPUTestSupport.frameTexture(img)
        let blank = try GPUTestSupport.frameTexture((pixels: [UInt8](repeating: 30, count: 448 * 448 * 4), width: 448, height: 448))
        let clip = [face, face, blank, blank, face, face]
        var results: [[AnalyzedFrame]] = []
        for compute in [false, true] {
            let a = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 120; $0.analysis.frameBatch = 3 }
            a.crops.computePasses = compute
            var got: [AnalyzedFrame] = []
            for (i, t) in clip.enumerated() { got += try a.push(frameTexture: t, width: 448, height: 448, frameIndex: i, time: Double(i) / 30) }
            results.append(got + (try a.flush()))
        }
        XCTAssertEqual(results[1].map(\.index), Array(clip.indices))
        XCTAssertEqual(results[1].map(\.shot), results[0].map(\.shot))
        XCTAssertEqual(results[1].map { $0.faces.map(\.id) }, results[0].map { $0.faces.map(\.id) })
        XCTAssertEqual(results[1].flatMap { $0.faces.flatMap { $0.landmarks.map(\.x) } }, results[0].flatMap { $0.faces.flatMap { $0.landmarks.map(\.x) } })
    }

    /// Frames the caller keeps (`retained`, as a render keeps its frames on the GPU for the filters) give
    /// what ring copies give — a face entering between keyframes tracked back to its first frame included —
    /// and the analyzer then allocates no ring of its own.
    func testRetainedFramesEqualRingCopies() throws {
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample("astronaut.png")], filter: "crop=448:448:40:20", width: 448, height: 448)
        let face = try GPUTestSupport.frameTexture(img)
        let blank = try GPUTestSupport.frameTexture((pixels: [UInt8](repeating: 30, count: 448 * 448 * 4), width: 448, height: 448))
        // Keyframes 0, 4, 8: the face enters on frame 2 and is found on frame 4.
        let clip = [blank, blank, face, face, face, face, face, blank, blank, face]
        let context = try GPUTestSupport.sharedContext()
        func run(retained: Bool) throws -> (frames: [AnalyzedFrame], textures: Int, ring: Int) {
            let analyzer = try GPUTestSupport.analyzer { $0.analysis.minFaceSize = 120; $0.tracker.detectEvery = 4 }
            let before = context.debugCounters.texturesCreated
            var got: [AnalyzedFrame] = []
            for (i, t) in clip.enumerated() {
                got += try analyzer.push(frameTexture: t, width: 448, height: 448, frameIndex: i, time: Double(i) / 30,
                                         retained: retained)
            }
            got += try analyzer.flush()
            return (got, context.debugCounters.texturesCreated - before, analyzer.ringBytes(width: 448, height: 448) / (448 * 448 * 4))
        }
        let copied = try run(retained: false)
        let kept = try run(retained: true)
        XCTAssertGreaterThan(copied.ring, 1, "look-back keeps frames")
        XCTAssertEqual(copied.frames.map { $0.faces.count }, [0, 0, 1, 1, 1, 1, 1, 0, 0, 1], "found from its first frame")
        XCTAssertEqual(kept.frames.map(\.index), copied.frames.map(\.index))
        for (a, b) in zip(copied.frames, kept.frames) {
            XCTAssertEqual(a.faces.map(\.id), b.faces.map(\.id), "frame \(a.index) ids")
            XCTAssertEqual(a.shot, b.shot, "frame \(a.index) shot")
            for (x, y) in zip(a.faces, b.faces) {
                XCTAssertEqual(x.landmarks.map(\.x), y.landmarks.map(\.x), "frame \(a.index) landmarks")
                XCTAssertEqual(x.blendshapes, y.blendshapes, "frame \(a.index) blendshapes")
            }
        }
        XCTAssertLessThanOrEqual(kept.textures, copied.textures - copied.ring, "no ring textures when frames are retained")
    }
}
