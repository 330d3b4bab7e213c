// Rotation-aware square region of interest for the landmark network, and the crop ↔ frame affine.
// Rules from MediaPipe (facts only, our code):
//  - from a detection: mediapipe/tasks/cc/vision/face_detector/face_detector_graph.cc
//    (DetectionsToRects: rotation keypoints 0 → 1, target angle 0°; RectTransformation scale 1.5),
//    same as the legacy face_detection_front_detection_to_roi.pbtxt;
//  - from landmarks: mediapipe/tasks/cc/vision/face_landmarker/face_landmarks_detector_graph.cc
//    (rotation landmarks 33 → 263, target 0°; box of all landmarks; scale 1.5, square_long),
//    legacy mediapipe/modules/face_landmark/face_landmark_landmarks_to_roi.pbtxt.

import Foundation

/// A square region in frame pixels, rotated about its centre.
public struct FaceROI: Equatable, Sendable {
    public var center: Point2
    /// Side length in frame pixels.
    public var size: Double
    /// Radians; positive turns clockwise on screen (image y axis points down). The crop's x axis
    /// points along (cos, sin) in the frame, so rotation = angle of the eye line.
    public var rotation: Double

    public init(center: Point2, size: Double, rotation: Double) {
        self.center = center; self.size = size; self.rotation = rotation
    }

    /// Rotation that makes the vector a→b horizontal (pointing right) in the crop: MediaPipe's
    /// NormalizeRadians(target − atan2(−(b.y − a.y), b.x − a.x)) with target 0.
    public static func rotation(from a: Point2, to b: Point2, targetAngle: Double = 0) -> Double {
        normalizeRadians(targetAngle - atan2(-(b.y - a.y), b.x - a.x))
    }

    /// ROI from a detection in frame pixels: eyes (keypoints 0, 1) level, square of the long box side × scale.
    public init(detection d: FaceDetection, settings: FaceSettings.ROI = .init()) {
        let rot = d.keypoints.count >= 2 ? Self.rotation(from: d.keypoints[0], to: d.keypoints[1]) : 0
        self.init(center: d.box.center, size: max(d.box.width, d.box.height) * settings.detectionScale,
                  rotation: rot)
    }

    /// ROI for the next frame from this frame's landmarks (frame pixels, ≥ 264 points).
    public init(landmarks: [Point], settings: FaceSettings.ROI = .init()) {
        precondition(landmarks.count > FaceLandmarks.subjectLeftEyeOuter, "need face-mesh landmarks")
        let a = landmarks[FaceLandmarks.subjectRightEyeOuter], b = landmarks[FaceLandmarks.subjectLeftEyeOuter]
        let rot = Self.rotation(from: Point2(a.x, a.y), to: Point2(b.x, b.y))
        // The 468 mesh points define the face; irises (468+) add nothing to the box.
        let pts = landmarks.prefix(468)
        if settings.landmarkBoxInRotatedFrame {
            // Box measured along the eye line: tighter for tilted heads.
            let c = cos(rot), s = sin(rot)
            var lo = Point2(.infinity, .infinity), hi = Point2(-.infinity, -.infinity)
            for p in pts {
                let u = Point2(c * p.x + s * p.y, -s * p.x + c * p.y)   // R(−rot)·p
                lo = pointwiseMin(lo, u); hi = pointwiseMax(hi, u)
            }
            let mid = (lo + hi) / 2
            let center = Point2(c * mid.x - s * mid.y, s * mid.x + c * mid.y)
            self.init(center: center, size: max(hi.x - lo.x, hi.y - lo.y) * settings.landmarksScale, rotation: rot)
        } else {
            let box = Rect.bounding(pts)
            self.init(center: box.center, size: max(box.width, box.height) * settings.landmarksScale, rotation: rot)
        }
    }

    /// The crop ↔ frame transform for a cropSize² network input.
    public func transform(cropSize: Double = 256) -> RoiTransform {
        RoiTransform(roi: self, cropSize: cropSize)
    }

    /// Axis-aligned bounds of the rotated square (frame pixels).
    public var boundingBox: Rect {
        let t = RoiTransform(roi: self, cropSize: 1)
        let corners = [Point2(0, 0), Point2(1, 0), Point2(0, 1), Point2(1, 1)].map(t.cropToFrame.apply)
        return Rect.bounding(corners.map { Point($0.x, $0.y, 0) })
    }
}

/// Crop pixels (0..cropSize, y down, (0,0) = top-left corner of the crop) ↔ frame pixels.
public struct RoiTransform: Equatable, Sendable {
    public let roi: FaceROI
    public let cropSize: Double
    /// crop → frame: p = centre + R(rotation) · (q − cropSize/2) · size/cropSize.
    public let cropToFrame: Affine2D
    /// frame → crop (what a crop shader evaluates per output pixel is cropToFrame; this is its inverse).
    public let frameToCrop: Affine2D

    public init(roi: FaceROI, cropSize: Double = 256) {
        self.roi = roi
        self.cropSize = cropSize
        let k = roi.size / cropSize
        cropToFrame = Affine2D.translation(roi.center.x, roi.center.y)
            .concatenating(.rotation(roi.rotation))
            .concatenating(.scale(k, k))
            .concatenating(.translation(-cropSize / 2, -cropSize / 2))
        frameToCrop = cropToFrame.inverse
    }

    /// Frame pixels per crop pixel (also the factor applied to landmark z).
    public var scale: Double { roi.size / cropSize }

    /// A landmark in crop pixels (x, y, z with z in the x scale) → frame pixels.
    public func toFrame(_ p: Point) -> Point {
        let q = cropToFrame.apply(Point2(p.x, p.y))
        return Point(q.x, q.y, p.z * scale)
    }
    public func toCrop(_ p: Point) -> Point {
        let q = frameToCrop.apply(Point2(p.x, p.y))
        return Point(q.x, q.y, p.z / scale)
    }

    /// Raw landmark tensor (count×3 floats, crop pixels) → frame-pixel points.
    public func landmarksToFrame(_ raw: [Float], count: Int = FaceLandmarks.count) -> [Point] {
        precondition(raw.count >= count * 3)
        return (0..<count).map { i in
            toFrame(Point(Double(raw[3 * i]), Double(raw[3 * i + 1]), Double(raw[3 * i + 2])))
        }
    }
}
