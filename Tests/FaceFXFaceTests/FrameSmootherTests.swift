// Stream smoothers of the video path: windowed offline smoothing must equal whole-clip smoothing
// while holding a bounded number of frames; the online (One Euro) smoother must reduce noise
// causally and restart after a gap. Synthetic faces, no networks.
import XCTest
@testable import FaceFXFace

final class FrameSmootherTests: XCTestCase {
    let est = HeadPoseEstimator(model: TestSupport.canonicalModel)

    func result(id: Int, frame: Int, time: Double, landmarks: [Point], blend: [Double]) -> FaceResult {
        FaceResult(id: id, frameIndex: frame, time: time, presence: 0.99, detectionScore: nil,
                   box: Rect.bounding(landmarks.prefix(468)), landmarks: landmarks, blendshapes: blend,
                   emotions: [0.1, 0, 0, 0.6, 0.1, 0, 0.2],
                   pose: est.estimate(landmarks: landmarks, frameWidth: 1280, frameHeight: 720),
                   roi: FaceROI(landmarks: landmarks))
    }

    /// 200 frames, a face moving and turning with 0.5 px noise, a second face with a gap, empty frames.
    func syntheticClip() -> [FaceFrame] { syntheticClipWithTruth().clip }

    /// The clip and the noise-free landmarks of every face (same order).
    func syntheticClipWithTruth() -> (clip: [FaceFrame], truth: [[[Point]]]) {
        var noise = TestSupport.Noise(seed: 11)
        var truth: [[[Point]]] = []
        let clip = (0..<200).map { f -> FaceFrame in
            var frameTruth: [[Point]] = []
            defer { truth.append(frameTruth) }
            let t = Double(f) / 30
            var faces: [FaceResult] = []
            if !(90..<95).contains(f) {
                let a = TestSupport.syntheticFace(center: Point2(500 + 100 * sin(t), 360), iod: 70, yaw: 15 * sin(1.3 * t))
                let na = a.map { $0 + Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * 0.5 }
                frameTruth.append(a)
                faces.append(result(id: 1, frame: f, time: t, landmarks: na, blend: (0..<52).map { _ in 0.3 + 0.03 * noise.gaussian() }))
            }
            if f >= 40 && !(120..<130).contains(f) {
                let b = TestSupport.syntheticFace(center: Point2(1000, 300 + 30 * cos(t)), iod: 50)
                let nb = b.map { $0 + Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * 0.5 }
                frameTruth.append(b)
                faces.append(result(id: 2, frame: f, time: t, landmarks: nb, blend: (0..<52).map { _ in 0.5 + 0.03 * noise.gaussian() }))
            }
            return FaceFrame(index: f, time: t, faces: faces)
        }
        return (clip, truth)
    }

    /// Windows of 50 frames with 30 context frames each side: as accurate as smoothing the whole
    /// clip at once (the only difference: each window estimates its own noise level, which moves
    /// where the adaptive pass relaxes), with at most 110 frames held.
    func testWindowedAsAccurateAsWholeClip() {
        let (clip, truth) = syntheticClipWithTruth()
        var settings = FaceSettings.Smoothing()
        let whole = FaceClipSmoother(poseEstimator: est, settings: settings).smooth(clip.map(\.faces), frameWidth: 1280, frameHeight: 720)
        settings.offlineWindowFrames = 50
        settings.offlineWindowMargin = 30
        let windowed = WindowedClipSmoother(poseEstimator: est, settings: settings, frameWidth: 1280, frameHeight: 720)
        var out: [FaceFrame] = []
        var maxHeld = 0
        for f in clip {
            out += windowed.push(f)
            maxHeld = max(maxHeld, windowed.bufferedFrames)
        }
        out += windowed.finish()
        XCTAssertEqual(out.map(\.index), Array(0..<200))
        XCTAssertLessThanOrEqual(maxHeld, 50 + 2 * 30)
        func error(_ frames: [[FaceResult]]) -> Double {
            var s = 0.0, n = 0.0
            for (faces, truths) in zip(frames, truth) {
                for (face, t) in zip(faces, truths) { for (p, q) in zip(face.landmarks, t) { s += hypot(p.x - q.x, p.y - q.y); n += 1 } }
            }
            return s / n
        }
        XCTAssertEqual(out.map { $0.faces.map(\.id) }, whole.map { $0.map(\.id) })
        let raw = error(clip.map(\.faces)), wholeErr = error(whole), windowedErr = error(out.map(\.faces))
        print(String(format: "landmark error vs truth: raw %.3f px, whole-clip smoothing %.3f px, windowed (50 + 2×30 frames) %.3f px",
                     raw, wholeErr, windowedErr))
        XCTAssertLessThan(wholeErr, 0.6 * raw)
        XCTAssertLessThan(windowedErr, 1.1 * wholeErr)

        // A clip shorter than the window is smoothed in one piece: identical to the whole-clip pass.
        let one = WindowedClipSmoother(poseEstimator: est, settings: FaceSettings.Smoothing(), frameWidth: 1280, frameHeight: 720)
        var single: [FaceFrame] = []
        for f in clip { single += one.push(f) }
        XCTAssertTrue(single.isEmpty)
        single = one.finish()
        for (w, f) in zip(single, whole) {
            for (a, b) in zip(w.faces, f) { XCTAssertEqual(a.landmarks, b.landmarks) }
        }
    }

    func testOnlineReducesNoiseAndRestartsAfterGap() {
        let clip = syntheticClip()
        let online = OnlineFaceSmoother(poseEstimator: est, settings: .init(), frameWidth: 1280, frameHeight: 720)
        let out = clip.map(online.smooth)
        XCTAssertEqual(out.map { $0.faces.map(\.id) }, clip.map { $0.faces.map(\.id) })
        // Still face (track 2) frame-to-frame motion, raw vs smoothed.
        func motion(_ frames: [FaceFrame]) -> Double {
            var s = 0.0, n = 0.0
            for k in 60..<119 {
                guard let a = frames[k].faces.first(where: { $0.id == 2 }), let b = frames[k + 1].faces.first(where: { $0.id == 2 }) else { continue }
                for (p, q) in zip(a.landmarks, b.landmarks) { s += hypot(p.x - q.x, p.y - q.y); n += 1 }
            }
            return s / n
        }
        print(String(format: "online One Euro: frame-to-frame motion %.3f → %.3f px", motion(clip), motion(out)))
        XCTAssertLessThan(motion(out), 0.5 * motion(clip))
        // First frame after a gap is passed through unchanged (filter restarted).
        let back = out[130].faces.first { $0.id == 2 }!, raw = clip[130].faces.first { $0.id == 2 }!
        XCTAssertEqual(back.landmarks, raw.landmarks)
        XCTAssertTrue(out.allSatisfy { $0.faces.allSatisfy { $0.blendshapes.allSatisfy { (0...1).contains($0) } } })
    }
}
