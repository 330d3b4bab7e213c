// 478 face landmarks (468 face mesh + 2×5 iris) in frame pixels, with the index facts the rest
// of facefx needs.

import Foundation

public struct FaceLandmarks: Equatable, Sendable {
    /// x, y in frame pixels; z in pixels of the same scale (smaller = closer to the camera).
    public var points: [Point]

    public init(points: [Point]) { self.points = points }

    public static let count = 478
    public static let meshCount = 468

    // "Right"/"left" are the subject's own sides: the subject's right eye appears on the viewer's left.
    /// Outer corner of the subject's right eye (viewer's left); start of MediaPipe's ROI rotation vector.
    public static let subjectRightEyeOuter = 33
    /// Outer corner of the subject's left eye (viewer's right); end of the ROI rotation vector.
    public static let subjectLeftEyeOuter = 263
    /// Iris centres (refined 478-point model): 468 is the iris of the eye holding landmark 33, 473 of 263.
    public static let subjectRightIrisCenter = 468
    public static let subjectLeftIrisCenter = 473
    public static let noseTip = 1

    public subscript(i: Int) -> Point { points[i] }

    /// 2-D bounding box of the mesh points (irises are inside it anyway).
    public var boundingBox: Rect { Rect.bounding(points.prefix(Self.meshCount)) }

    /// Distance between the eye outer corners (33, 263) in the image plane: the face-size
    /// normaliser used by smoothing and tracking. Iris centres are an alternative (`useIris`).
    public func interOcularDistance(useIris: Bool = false) -> Double {
        Self.interOcularDistance(points, useIris: useIris)
    }

    public static func interOcularDistance(_ p: [Point], useIris: Bool = false) -> Double {
        let (a, b) = useIris && p.count >= count
            ? (p[subjectRightIrisCenter], p[subjectLeftIrisCenter])
            : (p[subjectRightEyeOuter], p[subjectLeftEyeOuter])
        return hypot(b.x - a.x, b.y - a.y)
    }

    /// Indices of the convex hull of the mesh points in the image plane, counter-clockwise on
    /// screen-with-y-up (clockwise as drawn with y down). Andrew's monotone chain.
    public var hullIndices: [Int] { Self.convexHull(points.prefix(Self.meshCount).map { Point2($0.x, $0.y) }) }

    public static func convexHull(_ p: [Point2]) -> [Int] {
        let idx = p.indices.sorted { p[$0].x != p[$1].x ? p[$0].x < p[$1].x : p[$0].y < p[$1].y }
        if idx.count < 3 { return idx }
        func cross(_ o: Int, _ a: Int, _ b: Int) -> Double {
            (p[a].x - p[o].x) * (p[b].y - p[o].y) - (p[a].y - p[o].y) * (p[b].x - p[o].x)
        }
        var lower: [Int] = [], upper: [Int] = []
        for i in idx {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], i) <= 0 { lower.removeLast() }
            lower.append(i)
        }
        for i in idx.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], i) <= 0 { upper.removeLast() }
            upper.append(i)
        }
        return Array(lower.dropLast() + upper.dropLast())
    }

    /// The 146 landmarks fed (as x, y image pixels) to the blendshapes network, in its order.
    /// Facts from kLandmarksSubsetIdxs in
    /// mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc.
    public static let blendshapeSubset: [Int] = [
        0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39,
        40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
        81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
        136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160,
        161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246,
        249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295,
        296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
        336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
        384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
        466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
    ]

    /// The blendshapes network input: 146×2 floats (x, y in image pixels), row-major.
    public var blendshapeInput: [Float] {
        Self.blendshapeSubset.flatMap { [Float(points[$0].x), Float(points[$0].y)] }
    }

    /// The 52 blendshape names in the network's output order (kBlendshapeNames, same file).
    public static let blendshapeNames: [String] = [
        "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
        "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
        "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
        "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
        "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
        "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
        "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
        "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
        "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
        "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
    ]

    /// Rigid, expression-light landmarks (forehead, nose bridge, eye corners, cheekbones, temples)
    /// for the re-identification shape descriptor.
    static let descriptorIndices = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263,
                                    234, 454, 127, 356, 93, 323, 116, 345, 50, 280]

    /// Pose-light shape signature: descriptor landmarks in the eye-aligned frame, divided by the IOD.
    public var shapeDescriptor: [Double] {
        let a = points[Self.subjectRightEyeOuter], b = points[Self.subjectLeftEyeOuter]
        let d = hypot(b.x - a.x, b.y - a.y)
        guard d > 0 else { return [] }
        let c = (b.x - a.x) / d, s = (b.y - a.y) / d
        let mid = Point2((a.x + b.x) / 2, (a.y + b.y) / 2)
        return Self.descriptorIndices.flatMap { i -> [Double] in
            let v = Point2(points[i].x, points[i].y) - mid
            return [(c * v.x + s * v.y) / d, (-s * v.x + c * v.y) / d]
        }
    }

    /// RMS distance between two shape descriptors (IOD units).
    public static func descriptorDistance(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return .infinity }
        var s = 0.0
        for i in a.indices { s += (a[i] - b[i]) * (a[i] - b[i]) }
        return sqrt(s / Double(a.count / 2))
    }
}
