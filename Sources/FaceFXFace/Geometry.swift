// Small geometry types shared by the face module. Doubles everywhere: the CPU side is tiny
// and double precision keeps Procrustes / smoothing tests exact to well below a pixel.

import Foundation

/// A landmark or keypoint: x, y in pixels (of the frame, a crop or a network input, as the
/// owner says), z in the same scale as x (MediaPipe convention: smaller z = closer to camera).
public typealias Point = SIMD3<Double>

/// A 2-D point in pixels.
public typealias Point2 = SIMD2<Double>

/// Axis-aligned rectangle (y down, like images).
public struct Rect: Equatable, Sendable, CustomStringConvertible {
    public var minX: Double, minY: Double, maxX: Double, maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
    }
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.init(minX: x, minY: y, maxX: x + width, maxY: y + height)
    }
    public init(center: Point2, width: Double, height: Double) {
        self.init(minX: center.x - width / 2, minY: center.y - height / 2,
                  maxX: center.x + width / 2, maxY: center.y + height / 2)
    }

    public var width: Double { maxX - minX }
    public var height: Double { maxY - minY }
    public var area: Double { max(0, width) * max(0, height) }
    public var center: Point2 { Point2((minX + maxX) / 2, (minY + maxY) / 2) }

    public func intersection(_ o: Rect) -> Rect? {
        let r = Rect(minX: max(minX, o.minX), minY: max(minY, o.minY),
                     maxX: min(maxX, o.maxX), maxY: min(maxY, o.maxY))
        return (r.width > 0 && r.height > 0) ? r : nil
    }

    /// Intersection over union; 0 for disjoint or empty boxes.
    public func iou(_ o: Rect) -> Double {
        guard let i = intersection(o) else { return 0 }
        let u = area + o.area - i.area
        return u > 0 ? i.area / u : 0
    }

    public func contains(_ r: Rect) -> Bool {
        r.minX >= minX && r.minY >= minY && r.maxX <= maxX && r.maxY <= maxY
    }

    /// Bounding box of points (x, y only).
    public static func bounding<S: Sequence>(_ pts: S) -> Rect where S.Element == Point {
        var r = Rect(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
        for p in pts {
            r.minX = min(r.minX, p.x); r.minY = min(r.minY, p.y)
            r.maxX = max(r.maxX, p.x); r.maxY = max(r.maxY, p.y)
        }
        return r
    }

    public var description: String {
        String(format: "Rect(%.2f, %.2f, %.2f, %.2f)", minX, minY, maxX, maxY)
    }
}

/// 2-D affine transform stored as a 3×3 matrix, row-major: [a b tx; c d ty; 0 0 1].
/// Maps column vectors p' = M · (x, y, 1)ᵀ.
public struct Affine2D: Equatable, Sendable {
    public var m: [Double]   // 9 values, row-major

    public init(rowMajor m: [Double]) {
        precondition(m.count == 9)
        self.m = m
    }
    public static let identity = Affine2D(rowMajor: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    public static func translation(_ tx: Double, _ ty: Double) -> Affine2D {
        Affine2D(rowMajor: [1, 0, tx, 0, 1, ty, 0, 0, 1])
    }
    public static func scale(_ sx: Double, _ sy: Double) -> Affine2D {
        Affine2D(rowMajor: [sx, 0, 0, 0, sy, 0, 0, 0, 1])
    }
    /// Rotation by `angle` radians; in y-down image coordinates a positive angle turns clockwise on screen.
    public static func rotation(_ angle: Double) -> Affine2D {
        let c = cos(angle), s = sin(angle)
        return Affine2D(rowMajor: [c, -s, 0, s, c, 0, 0, 0, 1])
    }

    /// self ∘ other: apply `other` first, then `self`.
    public func concatenating(_ o: Affine2D) -> Affine2D {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 {
            r[i * 3 + j] = m[i * 3] * o.m[j] + m[i * 3 + 1] * o.m[3 + j] + m[i * 3 + 2] * o.m[6 + j]
        } }
        return Affine2D(rowMajor: r)
    }

    public func apply(_ p: Point2) -> Point2 {
        Point2(m[0] * p.x + m[1] * p.y + m[2], m[3] * p.x + m[4] * p.y + m[5])
    }

    /// Inverse of an affine matrix (the last row stays 0 0 1).
    public var inverse: Affine2D {
        let a = m[0], b = m[1], c = m[3], d = m[4]
        let det = a * d - b * c
        precondition(abs(det) > 1e-300, "singular affine transform")
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        let tx = -(ia * m[2] + ib * m[5]), ty = -(ic * m[2] + id * m[5])
        return Affine2D(rowMajor: [ia, ib, tx, ic, id, ty, 0, 0, 1])
    }

    /// sqrt(|det|): the uniform scale of a similarity transform.
    public var uniformScale: Double { sqrt(abs(m[0] * m[4] - m[1] * m[3])) }

    /// Column-major 3×3 as GLSL `mat3` expects it.
    public var columnMajorFloats: [Float] {
        [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]].map { Float($0) }
    }
}

/// Wraps an angle in radians to (-π, π].
@inlinable func normalizeRadians(_ a: Double) -> Double {
    a - 2 * Double.pi * floor((a + Double.pi) / (2 * Double.pi))
}
