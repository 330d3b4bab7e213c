// Face data from a JSON file, for previews and tests before the tracker is plugged in.
// Two layouts are read:
//  - facefx: {"frames": [{"time": s, "faces": [{"id", "landmarks": [[x, y, z] px], "matrix": [16, column-major],
//             "yaw", "pitch", "roll", "blendshapes": {name: v}, "emotions": {name: p}}]}]}
//  - MediaPipe FaceLandmarker goldens (Tests/Fixtures/goldens/pipeline_*.json): {"faces": [{"landmarks_xyz":
//    normalised, "blendshapes": [52], "transformation_matrix_row_major": 4×4}]}, the same faces on every frame.
import FaceFXFace
import Foundation

public struct FaceDataFile {
    public struct Frame { public var time: Double; public var faces: [OverlayFace] }
    /// Frames sorted by time; a single entry with `isStatic` applies to every frame.
    public var frames: [Frame]
    public var isStatic: Bool
    /// For normalised layouts: landmarks scale by the frame size given to `faces(at:width:height:)`.
    var normalised: Bool

    public static func load(path: String) throws -> FaceDataFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FilterError.invalid(file: path, field: "", reason: "cannot read the file")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw FilterError.invalid(file: path, field: "", reason: "invalid JSON")
        }
        if let frames = root["frames"] as? [[String: Any]] {
            var out: [Frame] = []
            for (i, fr) in frames.enumerated() {
                let list = fr["faces"] as? [[String: Any]] ?? []
                out.append(Frame(time: fr["time"] as? Double ?? Double(i),
                                 faces: try list.enumerated().map { try face($0.element, id: $0.offset, file: path, field: "frames[\(i)].faces[\($0.offset)]") }))
            }
            return FaceDataFile(frames: out.sorted { $0.time < $1.time }, isStatic: false, normalised: false)
        }
        if let faces = root["faces"] as? [[String: Any]] {
            let names = root["blendshape_names"] as? [String] ?? FaceLandmarks.blendshapeNames
            var list: [OverlayFace] = []
            for (i, f) in faces.enumerated() {
                guard let lm = f["landmarks_xyz"] as? [[Double]], lm.count >= FaceLandmarks.count else {
                    throw FilterError.invalid(file: path, field: "faces[\(i)].landmarks_xyz", reason: "expected 478 [x, y, z] points")
                }
                var bs: [String: Float] = [:]
                for (k, v) in (f["blendshapes"] as? [Double] ?? []).enumerated() where k < names.count { bs[names[k]] = Float(v) }
                var matrix: [Float] = []
                if let rows = f["transformation_matrix_row_major"] as? [[Double]], rows.count == 4 {
                    matrix = (0..<16).map { Float(rows[$0 % 4][$0 / 4]) }
                }
                let angles = FaceDataFile.angles(matrix)
                list.append(OverlayFace(id: i, landmarks: lm.map { Point($0[0], $0[1], $0[2]) }, poseMatrix: matrix,
                                        yaw: angles.0, pitch: angles.1, roll: angles.2, blendshapes: bs,
                                        emotions: OverlayFace.emotionDictionary((f["emotions"] as? [Double] ?? []).map(Float.init))))
            }
            return FaceDataFile(frames: [Frame(time: 0, faces: list)], isStatic: true, normalised: true)
        }
        throw FilterError.invalid(file: path, field: "", reason: "expected \"frames\" (facefx) or \"faces\" (MediaPipe golden)")
    }

    static func face(_ d: [String: Any], id: Int, file: String, field: String) throws -> OverlayFace {
        guard let lm = d["landmarks"] as? [[Double]], lm.count >= FaceLandmarks.count, lm.allSatisfy({ $0.count >= 3 }) else {
            throw FilterError.invalid(file: file, field: field + ".landmarks", reason: "expected 478 [x, y, z] points")
        }
        let matrix = (d["matrix"] as? [Double] ?? []).map(Float.init)
        let a = angles(matrix)
        return OverlayFace(id: d["id"] as? Int ?? id, landmarks: lm.map { Point($0[0], $0[1], $0[2]) }, poseMatrix: matrix,
                           yaw: d["yaw"] as? Double ?? a.0, pitch: d["pitch"] as? Double ?? a.1, roll: d["roll"] as? Double ?? a.2,
                           blendshapes: (d["blendshapes"] as? [String: Double] ?? [:]).mapValues(Float.init),
                           emotions: (d["emotions"] as? [String: Double] ?? [:]).mapValues(Float.init))
    }

    /// Yaw, pitch, roll (degrees, HeadPose conventions) of a column-major pose matrix.
    static func angles(_ m: [Float]) -> (Double, Double, Double) {
        guard m.count == 16 else { return (0, 0, 0) }
        func col(_ c: Int) -> SIMD3<Double> {
            let v = SIMD3(Double(m[c * 4]), Double(m[c * 4 + 1]), Double(m[c * 4 + 2]))
            let l = (v * v).sum().squareRoot()
            return l > 0 ? v / l : v
        }
        let c0 = col(0), c1 = col(1), c2 = col(2)
        let r = Matrix3(rows: [SIMD3(c0.x, c1.x, c2.x), SIMD3(c0.y, c1.y, c2.y), SIMD3(c0.z, c1.z, c2.z)])
        let a = HeadPose.angles(r)
        return (a.yaw, a.pitch, a.roll)
    }

    /// Faces for a frame at `time` (nearest frame entry), landmarks in pixels of a `width`×`height` frame.
    public func faces(at time: Double, width: Int, height: Int) -> [OverlayFace] {
        guard !frames.isEmpty else { return [] }
        var best = frames[0]
        if !isStatic { for f in frames where abs(f.time - time) < abs(best.time - time) { best = f } }
        guard normalised else { return best.faces }
        let w = Double(width), h = Double(height)
        return best.faces.map { f in
            var g = f
            // MediaPipe z is in the scale of normalised x: multiply by the width like x.
            g.landmarks = f.landmarks.map { Point($0.x * w, $0.y * h, $0.z * w) }
            return g
        }
    }
}
