// Per-face CPU geometry for one frame (a few hundred vertices): the face's 3-D axes in landmark
// space, sprite quads placed by anchors, the head occluder, and feathered region polygons.
//
// Landmark space: x right, y down (frame pixels), z into the scene in the same pixel scale
// (MediaPipe's weak-perspective landmarks). Everything overlays draw lives in this space, so meshes,
// sprites and the occluder agree exactly with the tracked points; the GPU projects it orthographically.
import FaceFXFace
import Foundation

typealias Vec3 = SIMD3<Float>
typealias Vec2 = SIMD2<Float>

// Linux has no simd module: the few vector helpers overlays need.
@inline(__always) func dot(_ a: Vec3, _ b: Vec3) -> Float { (a * b).sum() }
@inline(__always) func dot(_ a: Vec2, _ b: Vec2) -> Float { (a * b).sum() }
@inline(__always) func length(_ a: Vec3) -> Float { dot(a, a).squareRoot() }
@inline(__always) func length(_ a: Vec2) -> Float { dot(a, a).squareRoot() }
@inline(__always) func normalize(_ a: Vec3) -> Vec3 { a / length(a) }
@inline(__always) func normalize(_ a: Vec2) -> Vec2 { a / length(a) }
@inline(__always) func cross(_ a: Vec3, _ b: Vec3) -> Vec3 {
    Vec3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

/// 2×2 matrix by columns.
struct Mat2 {
    var c0: Vec2, c1: Vec2
    static let identity = Mat2(c0: Vec2(1, 0), c1: Vec2(0, 1))
    static func * (m: Mat2, v: Vec2) -> Vec2 { m.c0 * v.x + m.c1 * v.y }
    static func * (a: Mat2, b: Mat2) -> Mat2 { Mat2(c0: a * b.c0, c1: a * b.c1) }
    var determinant: Float { c0.x * c1.y - c1.x * c0.y }
    var inverse: Mat2 {
        let d = determinant
        return Mat2(c0: Vec2(c1.y, -c0.y) / d, c1: Vec2(-c1.x, c0.x) / d)
    }
}

/// Interleaved vertex as uploaded: position (x, y px; z px), uv, alpha. 6 floats.
struct OverlayVertex {
    static let floats = 6
}

struct FaceFrame {
    /// 478 points in landmark space.
    let points: [Vec3]
    /// Unit axes: x across the face (toward the subject's left eye 263), y down the face, z into the head.
    let ex: Vec3, ey: Vec3, ez: Vec3
    /// Inter-ocular unit: 3-D distance 33 ↔ 263 in pixels.
    let unit: Float

    init(face: OverlayFace, axesFromPose: Bool) {
        let p = face.landmarks.map { Vec3(Float($0.x), Float($0.y), Float($0.z)) }
        points = p
        let d = p[FaceLandmarks.subjectLeftEyeOuter] - p[FaceLandmarks.subjectRightEyeOuter]
        unit = max(1e-3, length(d))
        // Pose axes: model → camera columns, camera (x, y up, z toward viewer) → landmark space (x, −y, −z).
        var axes: (Vec3, Vec3, Vec3)?
        if axesFromPose, face.poseMatrix.count == 16 {
            let m = face.poseMatrix
            // Landmarks are a weak-perspective view along the ray from the camera to the face, not
            // along the optical axis: turn the pose's axes by the rotation taking that ray to −z, or
            // a face near the frame edge gets axes off by its angle from the centre (≈ 20–30°).
            var cols = [Vec3(m[0], m[1], m[2]), Vec3(m[4], m[5], m[6]), Vec3(m[8], m[9], m[10])]
            let t = Vec3(m[12], m[13], m[14])
            if length(t) > 1e-6 {
                let ray = normalize(t), down = Vec3(0, 0, -1)
                let v = cross(ray, down), c = dot(ray, down)
                if c > -0.99 { cols = cols.map { x in x + cross(v, x) + cross(v, cross(v, x)) / (1 + c) } }
            }
            let c0 = Vec3(cols[0].x, -cols[0].y, -cols[0].z), c1 = Vec3(cols[1].x, -cols[1].y, -cols[1].z)
            let c2 = Vec3(cols[2].x, -cols[2].y, -cols[2].z)
            if length(c0) > 1e-6, length(c1) > 1e-6, length(c2) > 1e-6 {
                axes = (normalize(c0), -normalize(c1), -normalize(c2))
            }
        }
        if axes == nil {
            let x = normalize(d)
            var down = p[FaceRegions.chin] - p[FaceRegions.forehead]
            down -= dot(down, x) * x
            let y = length(down) > 1e-6 ? normalize(down) : Vec3(0, 1, 0)
            axes = (x, y, cross(x, y))
        }
        (ex, ey, ez) = axes!
    }

    /// A point moved by `o` inter-ocular units along the face axes.
    func offset(_ p: Vec3, _ o: Vec3) -> Vec3 { p + (o.x * ex + o.y * ey + o.z * ez) * unit }

    func xy(_ i: Int) -> Vec2 { Vec2(points[i].x, points[i].y) }
}

enum SpritePlacement {
    /// The 4 corners (top-left, top-right, bottom-right, bottom-left of the image) in landmark space.
    static func corners(_ s: SpriteElement, imageSize: Vec2, face f: FaceFrame) -> [Vec3] {
        let (ax, ay): (Vec3, Vec3) = s.plane == .front ? (f.ex, f.ey) : (f.ez, f.ey)
        let a0 = s.anchors[0]
        let p0 = f.points[a0.landmark]
        let q0 = Vec2(Float(a0.at[0]), Float(a0.at[1]))
        // Image pixel → in-plane coordinates (pixels along ax, ay) relative to the first anchor.
        var m = Mat2.identity
        switch s.anchors.count {
        case 1:
            let k = Float(s.width ?? 1) * f.unit / imageSize.x
            m = Mat2(c0: Vec2(k, 0), c1: Vec2(0, k))
        case 2:
            let d = f.points[s.anchors[1].landmark] - p0
            let target = Vec2(dot(d, ax), dot(d, ay))
            let src = Vec2(Float(s.anchors[1].at[0]), Float(s.anchors[1].at[1])) - q0
            let ls = length(src), lt = length(target)
            if ls > 1e-6, lt > 1e-6 {
                let k = lt / ls
                let ang = atan2(target.y, target.x) - atan2(src.y, src.x)
                let c = cos(ang) * k, sn = sin(ang) * k
                m = Mat2(c0: Vec2(c, sn), c1: Vec2(-sn, c))
            }
        default:
            let d1 = f.points[s.anchors[1].landmark] - p0, d2 = f.points[s.anchors[2].landmark] - p0
            let t = Mat2(c0: Vec2(dot(d1, ax), dot(d1, ay)), c1: Vec2(dot(d2, ax), dot(d2, ay)))
            let src = Mat2(c0: Vec2(Float(s.anchors[1].at[0]), Float(s.anchors[1].at[1])) - q0,
                           c1: Vec2(Float(s.anchors[2].at[0]), Float(s.anchors[2].at[1])) - q0)
            if abs(src.determinant) > 1e-6 { m = t * src.inverse }
        }
        let base = f.offset(p0, Vec3(Float(s.offset[0]), Float(s.offset[1]), Float(s.offset[2])))
        return [Vec2(0, 0), Vec2(imageSize.x, 0), Vec2(imageSize.x, imageSize.y), Vec2(0, imageSize.y)].map { q in
            let c = m * (q - q0)
            return base + c.x * ax + c.y * ay
        }
    }
}

/// Flat polygons with soft edges: vertices carry alpha 1 inside and 0 on an outer ring, so the
/// rasteriser interpolates an analytic edge ramp (antialiasing without multisampling).
enum FeatherGeometry {
    static func emit(_ out: inout [Float], _ p: Vec2, _ a: Float) {
        out += [p.x, p.y, 0, 0, 0, a]
    }

    /// Outward normals of a closed loop (average of the adjacent edges' normals, pointing away from `center`).
    static func normals(_ loop: [Vec2], center: Vec2) -> [Vec2] {
        let n = loop.count
        return (0..<n).map { i in
            let a = loop[(i + n - 1) % n], b = loop[i], c = loop[(i + 1) % n]
            func en(_ u: Vec2, _ v: Vec2) -> Vec2 { let d = v - u; let l = length(d); return l > 1e-6 ? Vec2(d.y, -d.x) / l : .zero }
            var m = en(a, b) + en(b, c)
            if length(m) < 1e-6 { m = b - center }
            m = length(m) > 1e-6 ? normalize(m) : Vec2(1, 0)
            return dot(m, b - center) < 0 ? -m : m
        }
    }

    /// A filled loop grown by `grow` px, with a `feather` px ramp outside; triangles into `out`.
    static func filledLoop(_ loop: [Vec2], grow: Float, feather: Float, into out: inout [Float]) {
        let n = loop.count
        guard n >= 3 else { return }
        let center = loop.reduce(Vec2.zero, +) / Float(n)
        let nrm = normals(loop, center: center)
        let inner = (0..<n).map { loop[$0] + nrm[$0] * grow }
        let outer = (0..<n).map { inner[$0] + nrm[$0] * max(feather, 0.5) }
        for i in 0..<n {
            let j = (i + 1) % n
            emit(&out, center, 1); emit(&out, inner[i], 1); emit(&out, inner[j], 1)
            emit(&out, inner[i], 1); emit(&out, inner[j], 1); emit(&out, outer[i], 0)
            emit(&out, inner[j], 1); emit(&out, outer[j], 0); emit(&out, outer[i], 0)
        }
    }

    /// The band between two closed loops of equal count (lips), feathered outside `outerLoop` and inside `innerLoop`.
    static func ring(outer outerLoop: [Vec2], inner innerLoop: [Vec2], feather: Float, into out: inout [Float]) {
        let n = outerLoop.count
        guard n >= 3, innerLoop.count == n else { return }
        let center = innerLoop.reduce(Vec2.zero, +) / Float(n)
        let nrm = normals(outerLoop, center: center)
        let f = max(feather, 0.5)
        let o2 = (0..<n).map { outerLoop[$0] + nrm[$0] * f }
        let i2 = (0..<n).map { i -> Vec2 in
            let d = center - innerLoop[i]
            let l = length(d)
            return l > 1e-6 ? innerLoop[i] + d / l * min(f, l * 0.5) : innerLoop[i]
        }
        for i in 0..<n {
            let j = (i + 1) % n
            quad(&out, (outerLoop[i], 1), (outerLoop[j], 1), (innerLoop[j], 1), (innerLoop[i], 1))
            quad(&out, (o2[i], 0), (o2[j], 0), (outerLoop[j], 1), (outerLoop[i], 1))
            quad(&out, (innerLoop[i], 1), (innerLoop[j], 1), (i2[j], 0), (i2[i], 0))
        }
    }

    /// Rows of points (each the same count) joined into strips; `alpha[r][c]` per vertex.
    static func grid(_ rows: [[Vec2]], alpha: [[Float]], into out: inout [Float]) {
        for r in 0..<(rows.count - 1) {
            for c in 0..<(rows[r].count - 1) {
                quad(&out, (rows[r][c], alpha[r][c]), (rows[r][c + 1], alpha[r][c + 1]),
                     (rows[r + 1][c + 1], alpha[r + 1][c + 1]), (rows[r + 1][c], alpha[r + 1][c]))
            }
        }
    }

    static func quad(_ out: inout [Float], _ a: (Vec2, Float), _ b: (Vec2, Float), _ c: (Vec2, Float), _ d: (Vec2, Float)) {
        emit(&out, a.0, a.1); emit(&out, b.0, b.1); emit(&out, c.0, c.1)
        emit(&out, a.0, a.1); emit(&out, c.0, c.1); emit(&out, d.0, d.1)
    }

    /// `count` points evenly spaced by arc length along an open polyline.
    static func resample(_ line: [Vec2], count: Int) -> [Vec2] {
        guard line.count >= 2, count >= 2 else { return line }
        var cum: [Float] = [0]
        for i in 1..<line.count { cum.append(cum[i - 1] + length(line[i] - line[i - 1])) }
        let total = max(cum.last!, 1e-6)
        var out: [Vec2] = []
        var seg = 0
        for k in 0..<count {
            let t = total * Float(k) / Float(count - 1)
            while seg < line.count - 2 && cum[seg + 1] < t { seg += 1 }
            let l = max(cum[seg + 1] - cum[seg], 1e-6)
            out.append(line[seg] + (line[seg + 1] - line[seg]) * min(1, max(0, (t - cum[seg]) / l)))
        }
        return out
    }

    /// Eye shadow above one eye: from the upper lid toward the brow, strongest just above the lid,
    /// fading toward the brow and the eye corners.
    static func eyeshadow(lid: [Vec2], brow: [Vec2], into out: inout [Float]) {
        let n = 14
        let l = resample(lid, count: n), b = resample(brow, count: n)
        let reach: [Float] = [0, 0.12, 0.45, 0.8]
        let across: [Float] = [0, 1, 0.75, 0]
        let rows = reach.map { s in (0..<n).map { l[$0] + (b[$0] - l[$0]) * s } }
        let alpha = across.map { a in (0..<n).map { c -> Float in
            let t = Float(c) / Float(n - 1)
            return a * sqrt(max(0, sin(Float.pi * t)))
        } }
        grid(rows, alpha: alpha, into: &out)
    }
}
