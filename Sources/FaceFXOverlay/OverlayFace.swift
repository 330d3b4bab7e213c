// What the overlay needs to know about one tracked face in one frame. The integrator maps tracker
// results into this; tests build it from MediaPipe goldens.
import FaceFXFace
import Foundation

public struct OverlayFace {
    /// Track id, stable across frames (keys the per-face fade state; shown by `debug`).
    public var id: Int
    /// 478 landmarks: x, y in frame pixels (row 0 = top), z in pixels of the same scale, smaller = nearer.
    public var landmarks: [Point]
    /// Canonical model (cm) → camera space, column-major 4×4 (HeadPose.matrix); empty or all-zero = unknown.
    public var poseMatrix: [Float]
    /// Degrees, HeadPose conventions.
    public var yaw: Double, pitch: Double, roll: Double
    /// Blendshape scores by ARKit name ("jawOpen", ...), 0…1.
    public var blendshapes: [String: Float]
    /// Emotion probabilities by name ("happy", ...), summing to ≈ 1.
    public var emotions: [String: Float]
    /// A classifier's probabilities by label (`--classifier`; empty without one).
    public var classes: [String: Float]

    public init(id: Int, landmarks: [Point], poseMatrix: [Float] = [], yaw: Double = 0, pitch: Double = 0, roll: Double = 0,
                blendshapes: [String: Float] = [:], emotions: [String: Float] = [:], classes: [String: Float] = [:]) {
        self.id = id; self.landmarks = landmarks; self.poseMatrix = poseMatrix
        self.yaw = yaw; self.pitch = pitch; self.roll = roll
        self.blendshapes = blendshapes; self.emotions = emotions; self.classes = classes
    }

    /// From the tracker's pose type.
    public init(id: Int, landmarks: [Point], pose: HeadPose?, blendshapes: [String: Float] = [:], emotions: [String: Float] = [:]) {
        self.init(id: id, landmarks: landmarks, poseMatrix: pose?.matrix ?? [], yaw: pose?.yaw ?? 0, pitch: pose?.pitch ?? 0,
                  roll: pose?.roll ?? 0, blendshapes: blendshapes, emotions: emotions)
    }

    /// The 52 scores in the network's output order (FaceLandmarks.blendshapeNames) as a dictionary.
    public static func blendshapeDictionary(_ scores: [Float]) -> [String: Float] {
        var d: [String: Float] = [:]
        for (i, n) in FaceLandmarks.blendshapeNames.enumerated() where i < scores.count { d[n] = scores[i] }
        return d
    }

    /// The 7 probabilities in the emotion network's order (FaceRegions.emotionNames) as a dictionary.
    public static func emotionDictionary(_ probabilities: [Float]) -> [String: Float] {
        var d: [String: Float] = [:]
        for (i, n) in FaceRegions.emotionNames.enumerated() where i < probabilities.count { d[n] = probabilities[i] }
        return d
    }
}
