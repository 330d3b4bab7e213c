// Landmark index facts the overlay needs. Contours are from MediaPipe's
// mediapipe/python/solutions/face_mesh_connections.py (FACEMESH_LIPS, FACEMESH_LEFT_EYE,
// FACEMESH_RIGHT_EYE, FACEMESH_*_EYEBROW; Apache-2.0), written here as ordered loops.
// "Left"/"right" are the subject's own sides (the subject's right eye is on the viewer's left).
import FaceFXFace

public enum FaceRegions {
    public static let landmarkCount = FaceLandmarks.count
    public static let meshCount = FaceLandmarks.meshCount

    /// Outer lip contour, closed loop starting at the right mouth corner 61, along the lower lip.
    public static let lipsOuter = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
    /// Inner lip contour (the mouth opening), same order and count as `lipsOuter`.
    public static let lipsInner = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]
    /// Eye openings (closed loops).
    public static let rightEye = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
    public static let leftEye = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
    /// Upper eyelids, outer corner → inner corner.
    public static let rightUpperLid = [33, 246, 161, 160, 159, 158, 157, 173, 133]
    public static let leftUpperLid = [263, 466, 388, 387, 386, 385, 384, 398, 362]
    /// Lower edge of the eyebrows, outer → inner (FACEMESH_*_EYEBROW).
    public static let rightBrowLower = [46, 53, 52, 65, 55]
    public static let leftBrowLower = [276, 283, 282, 295, 285]

    /// Named hole sets for mesh elements: a triangle is dropped when all its corners are in the set.
    public static let holes: [String: [Int]] = [
        "leftEye": leftEye, "rightEye": rightEye, "eyes": leftEye + rightEye, "mouth": lipsInner,
    ]

    public static let blendshapeNames = Set(FaceLandmarks.blendshapeNames)
    /// The emotion network's classes (DESIGN.md model table), in its output order.
    public static let emotionNames = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

    public static let forehead = 10, chin = 152, noseTip = 1
}
