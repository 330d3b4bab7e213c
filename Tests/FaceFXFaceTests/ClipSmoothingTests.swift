// The offline post-pass over a clip's FaceResults (FaceClipSmoother): per-track smoothing of
// landmarks / blendshapes / emotions with future frames, pose and box recomputed. Synthetic faces
// with known truth (no networks), so it is fast and exact.
import XCTest
@testable import FaceFXFace

final class ClipSmoothingTests: XCTestCase {
    let est = HeadPoseEstimator(model: TestSupport.canonicalModel)

    /// A face result from landmarks, as FaceAnalyzer would assemble it.
    func result(id: Int, frame: Int, time: Double, landmarks: [Point], blend: [Double], emotions: [Double]) -> FaceResult {
        FaceResult(id: id, frameIndex: frame, time: time, presence: 0.99, detectionScore: nil,
                   box: Rect.bounding(landmarks.prefix(468)), landmarks: landmarks, blendshapes: blend, emotions: emotions,
                   pose: est.estimate(landmarks: landmarks, frameWidth: 1920, frameHeight: 1080),
                   roi: FaceROI(landmarks: landmarks))
    }

    func testTwoTracksSmoothedSeparatelyPoseRecomputed() {
        var noise = TestSupport.Noise(seed: 7)
        let n = 60, fps = 30.0
        var frames: [[FaceResult]] = []
        var truthYaw: [Double] = []
        var rawErr = 0.0, count = 0.0
        var truths: [[Point]] = []
        for f in 0..<n {
            let t = Double(f) / fps
            let yaw = 20 * sin(2 * .pi * 0.3 * t)       // a slow head turn
            truthYaw.append(yaw)
            let a = TestSupport.syntheticFace(center: Point2(600, 500), iod: 80, yaw: yaw)
            let b = TestSupport.syntheticFace(center: Point2(1400, 520), iod: 60)
            truths.append(a)
            // 0.5 px landmark noise; blendshape noise around 0.3 (one channel pushed below 0 by noise).
            let na = a.map { $0 + Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * 0.5 }
            let nb = b.map { $0 + Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * 0.5 }
            for (p, q) in zip(na, a) { rawErr += hypot(p.x - q.x, p.y - q.y); count += 1 }
            let blend = (0..<52).map { k in k == 0 ? -0.01 + 0.005 * noise.gaussian() : 0.3 + 0.05 * noise.gaussian() }
            let emo = [0.1, 0, 0, 0.6, 0.1, 0, 0.2].map { max(0, $0 + 0.05 * noise.gaussian()) }
            var faces = [result(id: 1, frame: f, time: t, landmarks: na, blend: blend, emotions: emo)]
            // Track 2 is missing on frames 20..<25 (left and came back with its id).
            if !(20..<25).contains(f) { faces.append(result(id: 2, frame: f, time: t, landmarks: nb, blend: blend, emotions: emo)) }
            frames.append(faces)
        }
        let out = FaceClipSmoother(poseEstimator: est).smooth(frames, frameWidth: 1920, frameHeight: 1080)
        XCTAssertEqual(out.map(\.count), frames.map(\.count))
        var smErr = 0.0, yawErrRaw = 0.0, yawErrSm = 0.0
        for f in 0..<n {
            let a = out[f].first { $0.id == 1 }!
            for (p, q) in zip(a.landmarks, truths[f]) { smErr += hypot(p.x - q.x, p.y - q.y) }
            yawErrRaw += abs(frames[f][0].pose.yaw - truthYaw[f])
            yawErrSm += abs(a.pose.yaw - truthYaw[f])
            XCTAssertEqual(a.box, Rect.bounding(a.landmarks.prefix(468)))
            XCTAssertTrue(a.blendshapes.allSatisfy { (0...1).contains($0) })
            XCTAssertEqual(a.emotions.reduce(0, +), 1, accuracy: 1e-9)
            XCTAssertEqual(a.topEmotion, "happy")
        }
        print(String(format: "clip smoothing: landmark error %.3f → %.3f px, yaw error %.3f → %.3f°",
                     rawErr / count, smErr / count, yawErrRaw / Double(n), yawErrSm / Double(n)))
        XCTAssertLessThan(smErr, 0.5 * rawErr)
        XCTAssertLessThan(yawErrSm, 0.7 * yawErrRaw)
        // Track 2 kept its frames (with the gap) and stayed where it was.
        let t2 = out.flatMap { $0.filter { $0.id == 2 } }
        XCTAssertEqual(t2.count, n - 5)
        XCTAssertTrue(t2.allSatisfy { abs($0.box.center.x - 1400) < 40 })
    }

    /// The smoother spreads a face's series (and the poses) over threads: the same numbers on one thread
    /// and on several, and `keeping` returns exactly those frames of the whole result.
    func testSpreadOverThreadsGivesTheSameResults() {
        var noise = TestSupport.Noise(seed: 9)
        var frames: [[FaceResult]] = []
        for f in 0..<40 {
            let t = Double(f) / 30
            let lm = TestSupport.syntheticFace(center: Point2(700 + 3 * Double(f), 500), iod: 70, yaw: 15 * sin(t))
                .map { $0 + Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * 0.5 }
            frames.append([result(id: 1, frame: f, time: t, landmarks: lm, blend: (0..<52).map { _ in 0.3 + 0.05 * noise.gaussian() },
                                  emotions: [0.1, 0, 0, 0.6, 0.1, 0, 0.2])])
        }
        var one = FaceSettings.Smoothing(), many = one
        one.threads = 1
        many.threads = 4
        let a = FaceClipSmoother(poseEstimator: est, settings: one).smooth(frames, frameWidth: 1920, frameHeight: 1080)
        let b = FaceClipSmoother(poseEstimator: est, settings: many).smooth(frames, frameWidth: 1920, frameHeight: 1080)
        let kept = FaceClipSmoother(poseEstimator: est, settings: many).smooth(frames, frameWidth: 1920, frameHeight: 1080, keeping: 10..<25)
        XCTAssertEqual(kept.count, 15)
        for (x, y) in zip(a.flatMap { $0 }, b.flatMap { $0 }) {
            XCTAssertEqual(x.landmarks, y.landmarks)
            XCTAssertEqual(x.blendshapes, y.blendshapes)
            XCTAssertEqual(x.pose.yaw, y.pose.yaw)
        }
        for (x, y) in zip(a[10..<25].flatMap { $0 }, kept.flatMap { $0 }) {
            XCTAssertEqual(x.landmarks, y.landmarks)
            XCTAssertEqual(x.box, y.box)
            XCTAssertEqual(x.pose.roll, y.pose.roll)
        }
    }
}
