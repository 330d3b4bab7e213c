import XCTest
@testable import FaceFXFace

final class ROITests: XCTestCase {
    func detection(eyeAngleDegrees a: Double, center: Point2 = Point2(500, 400)) -> FaceDetection {
        // Eyes 60 px apart along angle a (y down: positive = clockwise on screen).
        let r = a * .pi / 180, h = Point2(cos(r), sin(r)) * 30
        return FaceDetection(box: Rect(center: center, width: 100, height: 110),
                             keypoints: [center - h, center + h, center, center, center, center], score: 0.9)
    }

    func testRotationFromEyes() {
        for a in [0.0, 45, -45, 30, 170] {
            let roi = FaceROI(detection: detection(eyeAngleDegrees: a))
            XCTAssertEqual(roi.rotation * 180 / .pi, a, accuracy: 1e-9, "eye line at \(a)°")
            XCTAssertEqual(roi.size, 165, accuracy: 1e-9)   // long side 110 × 1.5
        }
    }

    func testTransformRoundTripAndEyesLevelInCrop() {
        let d = detection(eyeAngleDegrees: 45)
        let t = FaceROI(detection: d).transform()
        let p = Point(37, 201, 5)
        let q = t.toCrop(t.toFrame(p))
        XCTAssertEqual(q.x, p.x, accuracy: 1e-9); XCTAssertEqual(q.y, p.y, accuracy: 1e-9); XCTAssertEqual(q.z, p.z, accuracy: 1e-9)
        // The eyes come out level in the crop, right eye (kp 0) on the left, about the centre.
        let e0 = t.frameToCrop.apply(d.keypoints[0]), e1 = t.frameToCrop.apply(d.keypoints[1])
        XCTAssertEqual(e0.y, e1.y, accuracy: 1e-9)
        XCTAssertLessThan(e0.x, e1.x)
        XCTAssertEqual((e0.x + e1.x) / 2, 128, accuracy: 1e-9)
        XCTAssertEqual(e1.x - e0.x, 60 * 256 / 165, accuracy: 1e-9)
        // Crop centre is the ROI centre; z scales with the ROI.
        let c = t.toFrame(Point(128, 128, 256))
        XCTAssertEqual(c.x, 500, accuracy: 1e-9); XCTAssertEqual(c.y, 400, accuracy: 1e-9); XCTAssertEqual(c.z, 165, accuracy: 1e-9)
        // Crop x axis points along the eye line (45° clockwise on screen).
        let ax = t.toFrame(Point(256, 128, 0))
        XCTAssertEqual(ax.x - 500, 82.5 * cos(.pi / 4), accuracy: 1e-9)
        XCTAssertEqual(ax.y - 400, 82.5 * sin(.pi / 4), accuracy: 1e-9)
    }

    func testROIFromLandmarks() {
        let face = TestSupport.syntheticFace(center: Point2(900, 500), iod: 120, roll: 20)
        let roi = FaceROI(landmarks: face)
        // roll > 0 is counter-clockwise on screen, so the eye line turns by −20° in y-down terms.
        XCTAssertEqual(roi.rotation * 180 / .pi, -20, accuracy: 0.5)
        let box = Rect.bounding(face.prefix(468))
        XCTAssertEqual(roi.size, max(box.width, box.height) * 1.5, accuracy: 1e-9)
        var s = FaceSettings.ROI(); s.landmarkBoxInRotatedFrame = true
        XCTAssertLessThan(FaceROI(landmarks: face, settings: s).size, roi.size)   // tighter when tilted
        // Landmarks expressed in the crop and mapped back land where they were.
        let t = roi.transform()
        for i in [1, 33, 263, 152] {
            let back = t.toFrame(t.toCrop(face[i]))
            XCTAssertEqual(back.x, face[i].x, accuracy: 1e-9); XCTAssertEqual(back.y, face[i].y, accuracy: 1e-9)
        }
    }

    /// The golden crop (landmarks_astronaut) was made from the astronaut detection the MediaPipe way.
    func testGoldenROIAndLandmarkProjection() throws {
        guard let r = TestSupport.golden("detector_astronaut.out0.f32"), let s = TestSupport.golden("detector_astronaut.out1.f32"),
              let lj = TestSupport.golden("landmarks_astronaut.json"), let lo = TestSupport.golden("landmarks_astronaut.out0.f32"),
              let pj = TestSupport.golden("pipeline_astronaut.json") else { throw MissingTestInput("golden pipeline_astronaut.json absent") }
        let det = try XCTUnwrap(DetectionDecoder().decode(regressors: try TestSupport.readF32(r), scores: try TestSupport.readF32(s)).first)
            .mapped(Letterbox(frameWidth: 512, frameHeight: 512).normalizedToFrame)
        let roi = FaceROI(detection: det)
        let g = try TestSupport.json(lj)["roi"] as! [String: Any]
        let gc = g["center_px"] as! [Double], gs = g["size_px"] as! [Double], grot = g["rotation_rad"] as! Double
        XCTAssertEqual(roi.center.x, gc[0], accuracy: 0.01); XCTAssertEqual(roi.center.y, gc[1], accuracy: 0.01)
        XCTAssertEqual(roi.size, gs[0], accuracy: 0.01)
        XCTAssertEqual(roi.rotation, grot, accuracy: 1e-4)
        let m = g["crop_to_image"] as! [[Double]]
        let t = roi.transform()
        for (i, v) in [m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]].enumerated() {
            XCTAssertEqual(t.cropToFrame.m[i], v, accuracy: 0.01)
        }
        // Raw landmark output → frame pixels vs MediaPipe's own pipeline landmarks on the same image.
        let pts = t.landmarksToFrame(try TestSupport.readF32(lo))
        let faces = try TestSupport.json(pj)["faces"] as! [[String: Any]]
        let mp = (faces[0]["landmarks_xyz"] as! [[Double]]).map { Point($0[0] * 512, $0[1] * 512, $0[2] * 512) }
        var maxErr = 0.0, maxZ = 0.0
        for i in 0..<478 {
            maxErr = max(maxErr, hypot(pts[i].x - mp[i].x, pts[i].y - mp[i].y))
            maxZ = max(maxZ, abs(pts[i].z - mp[i].z))
        }
        print("golden landmarks: max |xy| error vs MediaPipe pipeline \(maxErr) px, max |z| \(maxZ) px")
        XCTAssertLessThan(maxErr, 0.1)   // measured 0.014 px (MediaPipe prints 6 decimals of normalised coords)
        XCTAssertLessThan(maxZ, 0.2)     // measured 0.085 px
    }
}

final class HeadPoseTests: XCTestCase {
    let est = HeadPoseEstimator(model: TestSupport.canonicalModel)

    func testModelLoads() {
        let m = TestSupport.canonicalModel
        XCTAssertEqual(m.vertices.count, 468)
        XCTAssertEqual(m.triangles.count, 898)
        XCTAssertEqual(m.weights.filter { $0 > 0 }.count, 33)
        XCTAssertEqual(m.vertices[1].z, 7.475604, accuracy: 1e-9)      // nose tip toward +z
        XCTAssertLessThan(m.vertices[33].x, 0)                          // subject's right eye at −x
    }

    func poseError(yaw: Double, pitch: Double, roll: Double, t: SIMD3<Double>) -> (HeadPose, Double) {
        let R = HeadPose.rotation(yaw: yaw, pitch: pitch, roll: roll)
        let lm = est.project(rotation: R, translation: t, frameWidth: 1280, frameHeight: 720)
        let p = est.estimate(landmarks: lm, frameWidth: 1280, frameHeight: 720)
        let e = max(abs(p.yaw - yaw), abs(p.pitch - pitch), abs(p.roll - roll))
        return (p, e)
    }

    func testKnownPoseRecovered() {
        let (p, e) = poseError(yaw: 20, pitch: -10, roll: 30, t: SIMD3(6, -4, -55))
        print("pose (20,-10,30) → (\(p.yaw), \(p.pitch), \(p.roll)), max error \(e)°, t \(p.translation), scale \(p.scale)")
        XCTAssertLessThan(e, 1.0)
        XCTAssertEqual(p.translation.x, 6, accuracy: 0.1)
        XCTAssertEqual(p.translation.y, -4, accuracy: 0.1)
        XCTAssertEqual(p.translation.z, -55, accuracy: 0.5)
        for (y, pi, r) in [(-35.0, 15.0, -10.0), (45, 0, 0), (0, 30, 0), (0, 0, -60)] {
            XCTAssertLessThan(poseError(yaw: y, pitch: pi, roll: r, t: SIMD3(-10, 5, -80)).1, 1.0, "\(y) \(pi) \(r)")
        }
    }

    func testIdentityPose() {
        let (p, e) = poseError(yaw: 0, pitch: 0, roll: 0, t: SIMD3(0, 0, -60))
        XCTAssertLessThan(e, 1e-6)
        XCTAssertEqual(p.scale, 1, accuracy: 1e-6)
        XCTAssertEqual(p.matrix[0], 1, accuracy: 1e-5); XCTAssertEqual(p.matrix[14], -60, accuracy: 1e-3)
    }

    func testSignConventions() {
        // Yaw > 0: nose tip moves toward the viewer's right (+x in the image).
        let R = HeadPose.rotation(yaw: 20, pitch: 0, roll: 0)
        let lm = est.project(rotation: R, translation: SIMD3(0, 0, -60), frameWidth: 1280, frameHeight: 720)
        XCTAssertGreaterThan(lm[1].x, 640)
        // Pitch > 0: nose moves up in the image (smaller y).
        let up = est.project(rotation: HeadPose.rotation(yaw: 0, pitch: 20, roll: 0), translation: SIMD3(0, 0, -60),
                             frameWidth: 1280, frameHeight: 720)
        let level = est.project(rotation: .identity, translation: SIMD3(0, 0, -60), frameWidth: 1280, frameHeight: 720)
        XCTAssertLessThan(up[1].y - up[152].y, level[1].y - level[152].y)   // nose rises relative to chin
    }

    func testNoisyLandmarks() {
        var noise = TestSupport.Noise(seed: 7)
        let R = HeadPose.rotation(yaw: 20, pitch: -10, roll: 30)
        var lm = est.project(rotation: R, translation: SIMD3(6, -4, -55), frameWidth: 1280, frameHeight: 720)
        let iod = FaceLandmarks.interOcularDistance(lm)
        for i in lm.indices { lm[i] += Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * 0.01 * iod }
        let p = est.estimate(landmarks: lm, frameWidth: 1280, frameHeight: 720)
        let e = max(abs(p.yaw - 20), abs(p.pitch + 10), abs(p.roll - 30))
        print("pose with 1% IOD landmark noise: max angle error \(e)°")
        XCTAssertLessThan(e, 3)
    }

    /// MediaPipe's own facial transformation matrix for astronaut.png vs ours from its landmarks.
    func testGoldenAstronautPose() throws {
        guard let pj = TestSupport.golden("pipeline_astronaut.json") else { throw MissingTestInput("golden pipeline_astronaut.json absent") }
        let face = (try TestSupport.json(pj)["faces"] as! [[String: Any]])[0]
        let lm = (face["landmarks_xyz"] as! [[Double]]).map { Point($0[0] * 512, $0[1] * 512, $0[2] * 512) }
        let mpM = face["transformation_matrix_row_major"] as! [[Double]]
        let mpR = Matrix3(rows: (0..<3).map { SIMD3(mpM[$0][0], mpM[$0][1], mpM[$0][2]) })
        let mp = HeadPose.angles(mpR)
        let p = est.estimate(landmarks: lm, frameWidth: 512, frameHeight: 512)
        print(String(format: "astronaut: ours yaw %.3f pitch %.3f roll %.3f t (%.3f, %.3f, %.3f) | MediaPipe yaw %.3f pitch %.3f roll %.3f t (%.3f, %.3f, %.3f)",
                     p.yaw, p.pitch, p.roll, p.translation.x, p.translation.y, p.translation.z,
                     mp.yaw, mp.pitch, mp.roll, mpM[0][3], mpM[1][3], mpM[2][3]))
        // Measured: agreement to ~0.01° and ~0.01 cm (same model, weights and 63° camera).
        XCTAssertEqual(p.yaw, mp.yaw, accuracy: 0.1)
        XCTAssertEqual(p.pitch, mp.pitch, accuracy: 0.1)
        XCTAssertEqual(p.roll, mp.roll, accuracy: 0.1)
        XCTAssertEqual(p.translation.x, mpM[0][3], accuracy: 0.1)
        XCTAssertEqual(p.translation.y, mpM[1][3], accuracy: 0.1)
        XCTAssertEqual(p.translation.z, mpM[2][3], accuracy: 0.2)
        for r in 0..<3 { for c in 0..<3 { XCTAssertEqual(Double(p.matrix[c * 4 + r]), mpM[r][c], accuracy: 0.005) } }
    }
}
