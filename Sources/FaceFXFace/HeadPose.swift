// Head pose: weighted similarity Procrustes (Horn's quaternion method, Jacobi eigen-solver) of
// MediaPipe's canonical face model onto the tracked landmarks, under a perspective camera.
// Facts from MediaPipe's face geometry module (mediapipe/modules/face_geometry/: 63° vertical FOV
// default, the procrustes_landmark_basis weights, camera space right-handed with y up and the
// camera looking down −z, the pose matrix mapping canonical model space → camera space). Our code.

import Foundation

/// 3×3 matrix, row-major rows.
public struct Matrix3: Equatable, Sendable {
    public var rows: [SIMD3<Double>]
    public init(rows: [SIMD3<Double>]) { precondition(rows.count == 3); self.rows = rows }
    public static let identity = Matrix3(rows: [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)])
    public subscript(r: Int, c: Int) -> Double { rows[r][c] }
    public static func * (m: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((m.rows[0] * v).sum(), (m.rows[1] * v).sum(), (m.rows[2] * v).sum())
    }
    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        let bt = b.transposed
        return Matrix3(rows: a.rows.map { r in SIMD3((r * bt.rows[0]).sum(), (r * bt.rows[1]).sum(), (r * bt.rows[2]).sum()) })
    }
    public var transposed: Matrix3 {
        Matrix3(rows: (0..<3).map { c in SIMD3(rows[0][c], rows[1][c], rows[2][c]) })
    }

    /// Right-handed rotations (counter-clockwise looking down the axis toward the origin).
    public static func rotationX(_ a: Double) -> Matrix3 {
        Matrix3(rows: [SIMD3(1, 0, 0), SIMD3(0, cos(a), -sin(a)), SIMD3(0, sin(a), cos(a))])
    }
    public static func rotationY(_ a: Double) -> Matrix3 {
        Matrix3(rows: [SIMD3(cos(a), 0, sin(a)), SIMD3(0, 1, 0), SIMD3(-sin(a), 0, cos(a))])
    }
    public static func rotationZ(_ a: Double) -> Matrix3 {
        Matrix3(rows: [SIMD3(cos(a), -sin(a), 0), SIMD3(sin(a), cos(a), 0), SIMD3(0, 0, 1)])
    }
}

/// target ≈ scale · rotation · source + translation.
public struct SimilarityTransform: Sendable {
    public var rotation: Matrix3
    public var scale: Double
    public var translation: SIMD3<Double>
    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> { scale * (rotation * p) + translation }
}

public enum Procrustes {
    /// Weighted least-squares similarity fit (Horn 1987, closed form with unit quaternions):
    /// minimises Σ wᵢ |targetᵢ − (s R sourceᵢ + t)|². Always returns a proper rotation.
    public static func fit(source: [SIMD3<Double>], target: [SIMD3<Double>], weights: [Double]) -> SimilarityTransform {
        precondition(source.count == target.count && source.count == weights.count)
        var wsum = 0.0
        var ca = SIMD3<Double>.zero, cb = SIMD3<Double>.zero
        for i in source.indices where weights[i] > 0 {
            wsum += weights[i]; ca += weights[i] * source[i]; cb += weights[i] * target[i]
        }
        precondition(wsum > 0, "no positive weights")
        ca /= wsum; cb /= wsum
        // Cross-covariance S[j][k] = Σ w a_j b_k of the centred point sets.
        var S = [[Double]](repeating: [0, 0, 0], count: 3)
        var aa = 0.0
        for i in source.indices where weights[i] > 0 {
            let a = source[i] - ca, b = target[i] - cb, w = weights[i]
            for j in 0..<3 { for k in 0..<3 { S[j][k] += w * a[j] * b[k] } }
            aa += w * (a * a).sum()
        }
        let (xx, xy, xz) = (S[0][0], S[0][1], S[0][2])
        let (yx, yy, yz) = (S[1][0], S[1][1], S[1][2])
        let (zx, zy, zz) = (S[2][0], S[2][1], S[2][2])
        let N: [[Double]] = [
            [xx + yy + zz, yz - zy, zx - xz, xy - yx],
            [yz - zy, xx - yy - zz, xy + yx, zx + xz],
            [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
            [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
        ]
        let (values, vectors) = jacobiEigen(N)
        let best = values.indices.max { values[$0] < values[$1] }!
        let q = (0..<4).map { vectors[$0][best] }
        let R = rotation(quaternion: q)
        var num = 0.0
        for i in source.indices where weights[i] > 0 {
            num += weights[i] * ((target[i] - cb) * (R * (source[i] - ca))).sum()
        }
        let s = aa > 0 ? num / aa : 1
        return SimilarityTransform(rotation: R, scale: s, translation: cb - s * (R * ca))
    }

    /// Unit quaternion (w, x, y, z) → rotation matrix.
    static func rotation(quaternion q: [Double]) -> Matrix3 {
        let n = sqrt(q.reduce(0) { $0 + $1 * $1 })
        let w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n
        return Matrix3(rows: [
            SIMD3(1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
            SIMD3(2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
            SIMD3(2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
        ])
    }

    /// Cyclic Jacobi eigen-decomposition of a small symmetric matrix: (eigenvalues, eigenvectors
    /// as columns). Robust for repeated eigenvalues, which is why it is used over power iteration.
    static func jacobiEigen(_ input: [[Double]]) -> ([Double], [[Double]]) {
        var a = input
        let n = a.count
        var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for _ in 0..<64 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<n { off += a[i][j] * a[i][j] } }
            if off < 1e-24 { break }
            for p in 0..<n {
                for r in (p + 1)..<n where abs(a[p][r]) > 1e-300 {
                    let theta = (a[r][r] - a[p][p]) / (2 * a[p][r])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + sqrt(theta * theta + 1))
                    let c = 1 / sqrt(t * t + 1), s = t * c
                    for k in 0..<n {   // A ← A·J
                        let akp = a[k][p], akr = a[k][r]
                        a[k][p] = c * akp - s * akr; a[k][r] = s * akp + c * akr
                    }
                    for k in 0..<n {   // A ← Jᵀ·A
                        let apk = a[p][k], ark = a[r][k]
                        a[p][k] = c * apk - s * ark; a[r][k] = s * apk + c * ark
                    }
                    for k in 0..<n {
                        let vkp = v[k][p], vkr = v[k][r]
                        v[k][p] = c * vkp - s * vkr; v[k][r] = s * vkp + c * vkr
                    }
                }
            }
        }
        return ((0..<n).map { a[$0][$0] }, v)
    }
}

public enum FaceModelError: Error, Equatable {
    case unreadable(String)
    case malformed(String)
}

/// MediaPipe's canonical face model: 468 vertices in cm (y up, face looking toward +z), per-vertex
/// UVs, triangles, and the Procrustes weights (0 for vertices outside the weighted basis).
public struct CanonicalFaceModel: Sendable {
    public var vertices: [SIMD3<Double>]
    public var uvs: [SIMD2<Double>]
    /// 0-based vertex indices, as in the OBJ file.
    public var triangles: [SIMD3<Int32>]
    public var weights: [Double]

    public static let objFile = "canonical_face_model.obj"
    public static let metadataFile = "geometry_pipeline_metadata_landmarks.pbtxt"

    /// Loads `canonical_face_model.obj` and `geometry_pipeline_metadata_landmarks.pbtxt` from `directory`
    /// (the repository's Models/facemesh; the integrator locates it).
    public static func load(directory: URL) throws -> CanonicalFaceModel {
        func read(_ name: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            guard let s = try? String(contentsOf: url, encoding: .utf8) else {
                throw FaceModelError.unreadable(url.path)
            }
            return s
        }
        return try parse(obj: read(objFile), metadata: read(metadataFile))
    }

    public static func parse(obj: String, metadata: String) throws -> CanonicalFaceModel {
        var v: [SIMD3<Double>] = [], vt: [SIMD2<Double>] = [], tris: [SIMD3<Int32>] = []
        var uvOf: [Int: Int] = [:]
        for line in obj.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let tag = f.first else { continue }
            switch tag {
            case "v":
                guard f.count >= 4, let x = Double(f[1]), let y = Double(f[2]), let z = Double(f[3]) else {
                    throw FaceModelError.malformed("vertex line: \(line)")
                }
                v.append(SIMD3(x, y, z))
            case "vt":
                guard f.count >= 3, let s = Double(f[1]), let t = Double(f[2]) else {
                    throw FaceModelError.malformed("uv line: \(line)")
                }
                vt.append(SIMD2(s, t))
            case "f":
                guard f.count == 4 else { throw FaceModelError.malformed("non-triangle face: \(line)") }
                var idx: [Int32] = []
                for corner in f[1...] {
                    let parts = corner.split(separator: "/", omittingEmptySubsequences: false)
                    guard let vi = Int(parts[0]) else { throw FaceModelError.malformed("face: \(line)") }
                    idx.append(Int32(vi - 1))
                    if parts.count > 1, let ti = Int(parts[1]) { uvOf[vi - 1] = ti - 1 }
                }
                tris.append(SIMD3(idx[0], idx[1], idx[2]))
            default: continue
            }
        }
        guard v.count == FaceLandmarks.meshCount else { throw FaceModelError.malformed("expected 468 vertices, got \(v.count)") }
        let uvs: [SIMD2<Double>] = (0..<v.count).map { i in uvOf[i].flatMap { $0 < vt.count ? vt[$0] : nil } ?? .zero }

        var weights = [Double](repeating: 0, count: v.count)
        var found = 0
        for line in metadata.split(whereSeparator: \.isNewline) where line.contains("procrustes_landmark_basis") {
            guard let id = Self.field("landmark_id", in: line).flatMap(Int.init),
                  let w = Self.field("weight", in: line).flatMap(Double.init), id >= 0, id < v.count else {
                throw FaceModelError.malformed("basis line: \(line)")
            }
            weights[id] = w
            found += 1
        }
        guard found > 3 else { throw FaceModelError.malformed("no procrustes_landmark_basis entries") }
        return CanonicalFaceModel(vertices: v, uvs: uvs, triangles: tris, weights: weights)
    }

    /// Value after `name:` in a one-line text-proto record.
    static func field(_ name: String, in line: Substring) -> String? {
        guard let r = line.range(of: name + ":") else { return nil }
        return line[r.upperBound...].split(whereSeparator: { $0 == " " || $0 == "}" }).first.map(String.init)
    }
}

/// Head pose of one face.
/// Camera space: right-handed, x right, y up, camera at the origin looking down −z (OpenGL and
/// MediaPipe's face geometry convention); units cm. Angles in degrees, R = Ry(yaw)·Rx(−pitch)·Rz(roll)
/// applied to the canonical model (which looks toward +z, i.e. at the camera, when all are 0):
///  - yaw > 0: the face turns toward the viewer's right (the subject's own left);
///  - pitch > 0: the face looks up (chin up);
///  - roll > 0: the head tilts counter-clockwise as seen on screen (toward the subject's right shoulder).
public struct HeadPose: Sendable {
    public var yaw: Double
    public var pitch: Double
    public var roll: Double
    /// Position of the canonical model origin in camera space, cm (tz < 0: in front of the camera).
    public var translation: SIMD3<Double>
    /// Residual similarity scale of the metric fit (≈ 1; far from 1 means the landmarks disagree with the model).
    public var scale: Double
    public var rotation: Matrix3
    /// 4×4 canonical model space → camera space, column-major (feed to GL as a mat4).
    public var matrix: [Float]
    /// Weighted RMS of the fit residual, cm.
    public var rmsError: Double

    /// Euler angles (degrees) in this type's convention from a rotation matrix.
    public static func angles(_ R: Matrix3) -> (yaw: Double, pitch: Double, roll: Double) {
        let deg = 180 / Double.pi
        let pitch = asin(max(-1, min(1, R[1, 2])))
        let yaw = atan2(R[0, 2], R[2, 2])
        let roll = atan2(R[1, 0], R[1, 1])
        return (yaw * deg, pitch * deg, roll * deg)
    }

    public static func rotation(yaw: Double, pitch: Double, roll: Double) -> Matrix3 {
        let r = Double.pi / 180
        return Matrix3.rotationY(yaw * r) * Matrix3.rotationX(-pitch * r) * Matrix3.rotationZ(roll * r)
    }
}

public struct HeadPoseEstimator: Sendable {
    public let model: CanonicalFaceModel
    public var settings: FaceSettings.Pose
    private let basis: [Int]

    public init(model: CanonicalFaceModel, settings: FaceSettings.Pose = .init()) {
        self.model = model
        self.settings = settings
        basis = model.weights.indices.filter { model.weights[$0] > 0 }
    }

    /// Focal length in pixels for a frame height and the configured vertical FOV.
    public func focalLength(frameHeight: Double) -> Double {
        frameHeight / 2 / tan(settings.verticalFOVDegrees * Double.pi / 360)
    }

    /// Pose from ≥ 468 landmarks in frame pixels (z in pixel scale, smaller = closer).
    ///
    /// Landmarks are weak-perspective: x, y are perspective image positions, z is depth relative
    /// to the face scaled like x. A first fit in pixel space gives the scale s (px per cm), hence the
    /// face depth d = f/s; unprojecting every point at depth d + z/s gives metric camera-space
    /// points, and refitting corrects s (the reconstruction is off by exactly the scale error, so
    /// the rotation is already right and one correction makes the translation right).
    public func estimate(landmarks: [Point], frameWidth: Double, frameHeight: Double) -> HeadPose {
        precondition(landmarks.count >= FaceLandmarks.meshCount)
        let f = focalLength(frameHeight: frameHeight)
        let cx = frameWidth / 2, cy = frameHeight / 2
        let src = basis.map { model.vertices[$0] }
        let w = basis.map { model.weights[$0] }
        let lm = basis.map { landmarks[$0] }
        // Pixel space, right-handed with y up, z toward the viewer.
        let pix = lm.map { SIMD3($0.x - cx, -($0.y - cy), -$0.z) }
        var s = Procrustes.fit(source: src, target: pix, weights: w).scale
        var fit = SimilarityTransform(rotation: .identity, scale: 1, translation: .zero)
        var metric: [SIMD3<Double>] = []
        for _ in 0..<max(1, settings.iterations) {
            let d0 = f / s
            metric = lm.map { p in
                let d = d0 + p.z / s
                return SIMD3((p.x - cx) * d / f, -(p.y - cy) * d / f, -d)
            }
            fit = Procrustes.fit(source: src, target: metric, weights: w)
            s *= fit.scale
        }
        var err = 0.0, wsum = 0.0
        for i in src.indices {
            let r = fit.apply(src[i]) - metric[i]
            err += w[i] * (r * r).sum(); wsum += w[i]
        }
        let R = fit.rotation
        let a = HeadPose.angles(R)
        let t = fit.translation, k = fit.scale
        let m: [Double] = [
            k * R[0, 0], k * R[1, 0], k * R[2, 0], 0,
            k * R[0, 1], k * R[1, 1], k * R[2, 1], 0,
            k * R[0, 2], k * R[1, 2], k * R[2, 2], 0,
            t.x, t.y, t.z, 1,
        ]
        return HeadPose(yaw: a.yaw, pitch: a.pitch, roll: a.roll, translation: t, scale: k,
                        rotation: R, matrix: m.map(Float.init), rmsError: sqrt(err / max(wsum, 1e-12)))
    }

    /// A synthetic face for tests and benchmarks: the canonical face rotated by `R` and placed so its
    /// inter-ocular distance (33 to 263, 8.89 cm) is `iod` pixels at `center`, projected like the landmark
    /// network's output: 478 points (the 468 of the mesh, then five per iris at its eye's corner midpoint).
    /// Also the translation used (camera space, cm).
    public func syntheticFace(center: SIMD2<Double>, iod: Double, rotation R: Matrix3, frameWidth: Double,
                              frameHeight: Double) -> (landmarks: [Point], translation: SIMD3<Double>) {
        let f = focalLength(frameHeight: frameHeight)
        let depth = f * 8.8917 / iod
        let t = SIMD3((center.x - frameWidth / 2) * depth / f, -(center.y - frameHeight / 2) * depth / f, -depth)
        var points = project(rotation: R, translation: t, frameWidth: frameWidth, frameHeight: frameHeight)
        let rightIris = (points[33] + points[133]) / 2, leftIris = (points[263] + points[362]) / 2
        points += [Point](repeating: rightIris, count: 5) + [Point](repeating: leftIris, count: 5)
        return (points, t)
    }

    /// Projects the canonical model under a pose into frame pixels with landmark-style z
    /// (relative depth to the model origin, in pixels at the origin's depth). Used by tests and by
    /// overlays that want the model where the face is.
    public func project(rotation R: Matrix3, translation t: SIMD3<Double>, frameWidth: Double, frameHeight: Double) -> [Point] {
        let f = focalLength(frameHeight: frameHeight)
        let d0 = -t.z
        return model.vertices.map { v in
            let c = R * v + t
            let d = -c.z
            return Point(frameWidth / 2 + f * c.x / d, frameHeight / 2 - f * c.y / d, (d - d0) * f / d0)
        }
    }
}
