import XCTest
@testable import FaceFXFace

final class AnchorTests: XCTestCase {
    func testShortRangeAnchors() {
        let a = Anchors.generate(.blazeFaceShortRange)
        XCTAssertEqual(a.count, 896)
        XCTAssertEqual(a[0], Anchor(xCenter: 0.5 / 16, yCenter: 0.5 / 16, width: 1, height: 1))
        XCTAssertEqual(a[1], a[0])                                   // 2 anchors per 16×16 cell
        XCTAssertEqual(a[2].xCenter, 1.5 / 16, accuracy: 1e-12)
        XCTAssertEqual(a[511], Anchor(xCenter: 15.5 / 16, yCenter: 15.5 / 16, width: 1, height: 1))
        XCTAssertEqual(a[512], Anchor(xCenter: 0.5 / 8, yCenter: 0.5 / 8, width: 1, height: 1))
        XCTAssertEqual(a[517], a[512])                               // 6 anchors per 8×8 cell
        XCTAssertEqual(a[518].xCenter, 1.5 / 8, accuracy: 1e-12)
        XCTAssertEqual(a[895], Anchor(xCenter: 0.9375, yCenter: 0.9375, width: 1, height: 1))
    }

    func testFullRangeAnchors() {
        let a = Anchors.generate(.blazeFaceFullRange)
        XCTAssertEqual(a.count, 2304)
        XCTAssertEqual(a[0].xCenter, 0.5 / 48, accuracy: 1e-12)
        XCTAssertEqual(a[1].xCenter, 1.5 / 48, accuracy: 1e-12)
        XCTAssertEqual(a[2303].xCenter, 47.5 / 48, accuracy: 1e-12)
        XCTAssertEqual(a[2303].yCenter, 47.5 / 48, accuracy: 1e-12)
    }
}

final class DecoderTests: XCTestCase {
    /// Raw arrays with one anchor firing: box centre (cx, cy), size (w, h) in input pixels.
    func raw(anchor i: Int, decoder: DetectionDecoder, cx: Double, cy: Double, w: Double, h: Double,
             logit: Float = 5) -> ([Float], [Float]) {
        var reg = [Float](repeating: 0, count: 896 * 16)
        var sc = [Float](repeating: -10, count: 896)
        let a = decoder.anchors[i]
        reg[i * 16] = Float(cx - a.xCenter * 128); reg[i * 16 + 1] = Float(cy - a.yCenter * 128)
        reg[i * 16 + 2] = Float(w); reg[i * 16 + 3] = Float(h)
        for k in 0..<6 {
            reg[i * 16 + 4 + 2 * k] = Float(cx - 10 + Double(k) * 4 - a.xCenter * 128)
            reg[i * 16 + 5 + 2 * k] = Float(cy - a.yCenter * 128)
        }
        sc[i] = logit
        return (reg, sc)
    }

    func testSyntheticBoxDecodes() {
        let dec = DetectionDecoder()
        let (reg, sc) = raw(anchor: 300, decoder: dec, cx: 70, cy: 50, w: 40, h: 30)
        let d = dec.decode(regressors: reg, scores: sc)
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d[0].box.minX, 50.0 / 128, accuracy: 1e-6)
        XCTAssertEqual(d[0].box.maxX, 90.0 / 128, accuracy: 1e-6)
        XCTAssertEqual(d[0].box.minY, 35.0 / 128, accuracy: 1e-6)
        XCTAssertEqual(d[0].box.maxY, 65.0 / 128, accuracy: 1e-6)
        XCTAssertEqual(d[0].keypoints[2].x, 68.0 / 128, accuracy: 1e-6)
        XCTAssertEqual(d[0].score, 1 / (1 + exp(-5)), accuracy: 1e-9)
    }

    func testScoreClipAndThreshold() {
        let dec = DetectionDecoder()
        var (reg, sc) = raw(anchor: 10, decoder: dec, cx: 20, cy: 20, w: 10, h: 10, logit: 1000)
        XCTAssertEqual(dec.decode(regressors: reg, scores: sc).first?.score ?? 0, 1, accuracy: 1e-12)
        sc[10] = -0.1   // sigmoid 0.475 < 0.5
        XCTAssertTrue(dec.decode(regressors: reg, scores: sc).isEmpty)
        reg[10 * 16 + 2] = -5; sc[10] = 5   // negative width: invalid
        XCTAssertTrue(dec.decode(regressors: reg, scores: sc).isEmpty)
    }

    func testWeightedNMSMergesOverlaps() {
        let kp = [Point2](repeating: .zero, count: 6)
        let a = FaceDetection(box: Rect(minX: 0, minY: 0, maxX: 10, maxY: 10), keypoints: kp, score: 0.9)
        let b = FaceDetection(box: Rect(minX: 1, minY: 1, maxX: 11, maxY: 11), keypoints: kp.map { $0 + 1 }, score: 0.6)
        let far = FaceDetection(box: Rect(minX: 50, minY: 50, maxX: 60, maxY: 60), keypoints: kp, score: 0.7)
        let out = DetectionDecoder.weightedNMS([b, far, a], iouThreshold: 0.3)
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[0].score, 0.9)                                  // the best keeps its score
        XCTAssertEqual(out[0].box.minX, 0.6 / 1.5, accuracy: 1e-12)        // (0·0.9 + 1·0.6)/1.5
        XCTAssertEqual(out[0].keypoints[0].x, 0.4, accuracy: 1e-12)
        XCTAssertEqual(out[1].box.minX, far.box.minX, accuracy: 1e-9)
        XCTAssertEqual(out[1].box.maxY, far.box.maxY, accuracy: 1e-9)
    }

    func testAllNegativeScoresGiveNothing() {
        let dec = DetectionDecoder()
        let reg = [Float](repeating: 3, count: 896 * 16)
        XCTAssertTrue(dec.decode(regressors: reg, scores: [Float](repeating: -10, count: 896)).isEmpty)
    }

    /// Real BlazeFace output (TFLite interpreter) on astronaut.png letterboxed 512→128.
    /// Measured: one face, box (0.3468, 0.1619)–(0.5330, 0.3481) normalised = (177.6, 82.9)–(272.9, 178.2)
    /// px of the 512² image, score 0.9217 (golden's own decoding agrees).
    func testGoldenAstronautDetection() throws {
        guard let r = TestSupport.golden("detector_astronaut.out0.f32"),
              let s = TestSupport.golden("detector_astronaut.out1.f32") else {
            throw MissingTestInput("detector goldens absent")
        }
        let dec = DetectionDecoder()
        let dets = dec.decode(regressors: try TestSupport.readF32(r), scores: try TestSupport.readF32(s))
        XCTAssertEqual(dets.count, 1)
        let d = try XCTUnwrap(dets.first)
        XCTAssertGreaterThan(d.score, 0.9)
        XCTAssertEqual(d.box.minX, 0.34681, accuracy: 1e-4)
        XCTAssertEqual(d.box.minY, 0.16186, accuracy: 1e-4)
        XCTAssertEqual(d.box.maxX, 0.53303, accuracy: 1e-4)
        XCTAssertEqual(d.box.maxY, 0.34808, accuracy: 1e-4)
        // Keypoint 0 (subject's right eye) is on the viewer's left of keypoint 1.
        XCTAssertLessThan(d.keypoints[0].x, d.keypoints[1].x)
        XCTAssertEqual(d.keypoints[2].x, 0.43053, accuracy: 1e-4)
        // Into frame pixels through the letterbox (square image: plain ×4).
        let px = d.mapped(Letterbox(frameWidth: 512, frameHeight: 512).normalizedToFrame)
        XCTAssertEqual(px.box.minX, 177.57, accuracy: 0.05)
        XCTAssertEqual(px.box.maxY, 178.22, accuracy: 0.05)
    }
}

final class TilingTests: XCTestCase {
    func testLetterboxRoundTrip() {
        let lb = Letterbox(frameWidth: 1920, frameHeight: 1080)
        XCTAssertEqual(lb.scale, 128.0 / 1920, accuracy: 1e-12)
        XCTAssertEqual(lb.padY, (128 - 72) / 2, accuracy: 1e-9)
        let p = Point2(1000, 300)
        let q = lb.inputToFrame.apply(lb.frameToInput.apply(p))
        XCTAssertEqual(q.x, p.x, accuracy: 1e-9); XCTAssertEqual(q.y, p.y, accuracy: 1e-9)
        XCTAssertEqual(lb.normalizedToFrame.apply(Point2(0.5, 0.5)).y, 540, accuracy: 1e-9)
        XCTAssertEqual(lb.sourceRect.minY, -420, accuracy: 1e-9)
    }

    func testTilesCoverFrameAndSmallFaces() {
        let W = 1920.0, H = 1080.0
        let tiles = DetectionTiling.tiles(frameWidth: W, frameHeight: H)
        XCTAssertTrue(tiles.contains { $0.source.contains(Rect(x: 0, y: 0, width: W, height: H)) })
        // Every 60 px face, anywhere, lies wholly in a tile where it is ≥ 20 px of the 128 input.
        var worst = Double.infinity
        for y in stride(from: 0.0, through: H - 60, by: 7) {
            for x in stride(from: 0.0, through: W - 60, by: 7) {
                let face = Rect(x: x, y: y, width: 60, height: 60)
                let best = tiles.filter { $0.source.contains(face) }.map { 60 * 128 / $0.source.width }.max() ?? 0
                worst = min(worst, best)
            }
        }
        XCTAssertGreaterThanOrEqual(worst, 20, "smallest 60 px face in any tile input: \(worst)")
        // A 200 px face also lands whole in some tile at a usable size.
        for (x, y) in [(0.0, 0.0), (860.0, 440.0), (1720.0, 880.0), (333.0, 611.0)] {
            let face = Rect(x: x, y: y, width: 200, height: 200)
            let best = tiles.filter { $0.source.contains(face) }.map { 200 * 128 / $0.source.width }.max() ?? 0
            XCTAssertGreaterThanOrEqual(best, 20)
        }
        XCTAssertLessThan(tiles.count, 120, "tile budget")
        print("tiles for 1920×1080:", tiles.count, "levels:", Set(tiles.map(\.level)).count,
              "sides:", Set(tiles.map { Int($0.source.width) }).sorted(), "worst 60px face in input:", worst)
    }

    func testCrossTileMergeGivesOneDetection() {
        let W = 1920.0, H = 1080.0
        let tiles = DetectionTiling.tiles(frameWidth: W, frameHeight: H)
        let face = Rect(x: 700, y: 400, width: 60, height: 60)
        let kps = [Point2(715, 420), Point2(745, 420), Point2(730, 435), Point2(730, 448), Point2(702, 425), Point2(758, 425)]
        var perTile: [(tile: DetectionTile, detections: [FaceDetection])] = []
        var hits = 0
        for (i, t) in tiles.enumerated() {
            // Simulate the detector: it sees the face where the tile shows ≥ 15 px of it, cut or whole,
            // with a small tile-dependent error.
            guard let vis = t.source.intersection(face), vis.width * 128 / t.source.width >= 15 else { continue }
            let toNorm = t.normalizedToFrame.inverse
            let jitter = Double(i % 3) - 1
            let det = FaceDetection(box: Rect(minX: vis.minX + jitter, minY: vis.minY, maxX: vis.maxX + jitter, maxY: vis.maxY),
                                    keypoints: kps, score: 0.8 + 0.01 * Double(i % 5)).mapped(toNorm)
            perTile.append((t, [det])); hits += 1
        }
        XCTAssertGreaterThan(hits, 1)
        let merged = DetectionTiling.merge(tileDetections: perTile, frameWidth: W, frameHeight: H)
        XCTAssertEqual(merged.count, 1)
        XCTAssertEqual(merged[0].box.center.x, 730, accuracy: 2)
        XCTAssertEqual(merged[0].box.width, 60, accuracy: 2)
    }
}
