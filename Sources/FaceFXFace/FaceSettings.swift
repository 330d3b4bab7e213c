// Every tuning value of the face module, in one place, with where it comes from.

import Foundation

public struct FaceSettings: Sendable {
    public struct Detector: Sendable {
        /// Sigmoid score threshold. face_detection_short_range_common.pbtxt: min_score_thresh 0.5
        /// (full range: 0.6).
        public var minScore: Double = 0.5
        /// Raw logits are clipped to ±this before the sigmoid (score_clipping_thresh: 100.0).
        public var scoreClip: Double = 100
        /// Weighted NMS IoU threshold (NonMaxSuppressionCalculator min_suppression_threshold: 0.3).
        public var nmsIoU: Double = 0.3
        /// IoU threshold for merging the same face found in several tiles (frame pixels).
        /// Looser than nmsIoU because a face cut by a tile edge yields a partial box.
        public var crossTileIoU: Double = 0.3
        /// Tiles: the smallest face (px) a tile should still see at `minFaceInInput` px in the 128 input.
        /// BlazeFace short range is trained on faces ≳ 20 % of its input; 20 px of 128 is the floor we aim for.
        public var minFaceInInput: Double = 20
        /// Overlap between neighbouring tiles, as a fraction of the tile side, so a face cut by one
        /// tile edge is whole in the next (≥ the largest face the finer level has to catch).
        public var tileOverlap: Double = 0.25
        public init() {}
    }

    public struct ROI: Sendable {
        /// face_detector_graph.cc (tasks) ConfigureRectTransformationCalculator: scale 1.5.
        public var detectionScale: Double = 1.5
        /// face_landmarks_detector_graph.cc ConfigureFaceRectTransformationCalculator: scale 1.5, square_long.
        public var landmarksScale: Double = 1.5
        /// MediaPipe takes the axis-aligned box of the landmarks, then rotates it. `true` measures the
        /// box in the eye-aligned frame instead (tighter for tilted heads). Default matches MediaPipe.
        public var landmarkBoxInRotatedFrame: Bool = false
        /// Landmark net input side (face_landmarks_detector.tflite: 256×256).
        public var cropSize: Double = 256
        public init() {}
    }

    public struct Smoothing: Sendable {
        // Online One Euro (Casiez et al. 2012). Values are in inter-ocular distances (IOD) and seconds,
        // so the filter behaves the same for a 40 px and a 400 px face.
        /// Cutoff (Hz) when still. MediaPipe uses 0.05 on landmarks in *normalised image* units
        /// (face_landmarks_detector_graph.cc); in IOD units a stronger per-second cutoff is comparable.
        public var oneEuroMinCutoff: Double = 0.5
        /// Speed coefficient (1/IOD): higher = less lag when moving.
        public var oneEuroBeta: Double = 5.0
        /// Derivative cutoff (Hz): MediaPipe and the paper use 1.0.
        public var oneEuroDCutoff: Double = 1.0

        // Offline (zero-lag) smoother: Rauch–Tung–Striebel smoother of a constant-velocity model.
        // Its steady state is a cubic smoothing spline: gain 1/(1+(f/fc)^4), no lag at any speed,
        // reproduces constant-velocity motion exactly.
        /// -3 dB-ish cutoff (Hz) for landmarks on a still/slow face.
        public var offlineCutoffHz: Double = 1.5
        /// Same for blendshape / scalar series.
        public var offlineScalarCutoffHz: Double = 1.5
        /// Local adaptivity: where the first pass's residual energy (±2 frames) exceeds this many
        /// times the robust noise variance, the model is locally wrong (blink, sudden turn): the
        /// second pass raises the process noise there so fast events are not flattened.
        public var offlineAdaptThreshold: Double = 3.0
        /// Same for the residual ratio pooled over all landmarks of the face (rigid motion). Pure noise
        /// gives ≈ 0.86 there (1 − 2h₀ + Σh² of the smoother), with tiny spread.
        public var offlinePooledAdaptThreshold: Double = 1.2
        /// How strongly process noise grows with the excess residual ratio.
        public var offlineAdaptGain: Double = 4.0
        /// Floor for the robust noise estimate, in IOD (landmarks) — clean data must not divide by 0.
        public var offlineNoiseFloorIOD: Double = 0.001
        /// Floor for the scalar noise estimate (blendshape units).
        public var offlineNoiseFloorScalar: Double = 0.001
        /// Long clips are smoothed offline in windows of this many frames (memory stays flat: ~12 KB
        /// per face-frame held), each seeing `offlineWindowMargin` raw frames of context on both
        /// sides. Clips up to this length are smoothed in one piece.
        public var offlineWindowFrames: Int = 1800
        /// Context frames beyond each window edge. The smoother's response at 1.5 Hz has decayed
        /// to < 1e-4 after ~1 s, so 90 frames (3 s at 30 fps) make windowed = whole-clip results.
        public var offlineWindowMargin: Int = 90
        /// Threads the offline smoother spreads a face's series over (nil: all cores; the results do not
        /// depend on it).
        public var threads: Int?
        public init() {}
    }

    public struct Pose: Sendable {
        /// Vertical field of view (degrees) of the assumed camera. MediaPipe's geometry pipeline
        /// (face_geometry, geometry_pipeline_calculator perspective_camera) uses 63°.
        public var verticalFOVDegrees: Double = 63
        /// Rounds of (fit scale → unproject with depth → refit). Converges in 2 on exact data.
        public var iterations: Int = 3
        public init() {}
    }

    public struct Tracker: Sendable {
        /// Landmark presence needed to keep a track on its own landmarks (MediaPipe face landmarker
        /// min_tracking_confidence default 0.5).
        public var minPresence: Double = 0.5
        /// IoU between a detection and a track's face box for them to be the same face.
        public var matchIoU: Double = 0.3
        /// Maximum simultaneous faces.
        public var maxFaces: Int = 8
        /// Run the detector on keyframes every N frames (1 = every frame, MediaPipe's video mode runs it
        /// only while nothing is tracked). Between keyframes tracked faces follow their landmarks; with
        /// `lookBack` a face first found on a keyframe is tracked backwards to where it appeared.
        public var detectEvery: Int = 1
        /// Also run the detector on the frame after a track was lost (the face may still be there).
        public var detectAfterLoss: Bool = true
        /// First id handed out.
        public var firstID: Int = 1
        /// Extrapolate a tracked face's ROI by its motion over the previous frame interval (off =
        /// MediaPipe: the ROI of the previous frame's landmarks). `facefx analyze` turns it on.
        public var predictROI: Bool = false
        public init() {}
    }

    /// Offline tracking (`FaceAnalyzer.push`): recent frames are kept so that a face found on a
    /// keyframe is followed backwards to the frame where it appeared, and shot cuts end every track.
    public struct Offline: Sendable {
        /// Frames a face found on a keyframe may be tracked backwards (one RGBA frame texture each is
        /// kept, and results leave the analyzer this many frames late). nil: `detectEvery - 1`, enough to
        /// reach back to the previous keyframe.
        public var lookBack: Int? = nil
        /// Find shot cuts (a 32×32 thumbnail of each frame compared with the previous one); a cut ends
        /// every track and makes a keyframe.
        public var shotCuts: Bool = true
        public var cut = ShotCutSettings()
        public init() {}
    }

    /// Tracklets → tracks (`TrackLinker`): the pieces the tracker made are joined with the following
    /// frames in view, short unsupported fragments dropped, and every person given one id.
    public struct Linking: Sendable {
        /// Fragments shorter than this (frames) are dropped unless the face is really visible only that
        /// briefly: confident, and both its start and its end are a shot or clip boundary or the picture's edge.
        public var minTrackFrames: Int = 5
        /// Presence a short fragment between boundaries needs (mean over its frames) to be kept.
        public var boundaryMinPresence: Double = 0.8
        /// A track that ends and another that starts this few frames later in the same place (same
        /// shot) are one face that dipped below the presence threshold: the gap is filled by
        /// interpolation.
        public var maxGapFrames: Int = 15
        /// "Same place" for gap filling: centre distance in face sizes and size ratio.
        public var gapMaxCenterDistance: Double = 0.6
        public var gapMaxSizeRatio: Double = 1.5
        /// Frames a tracklet is looked at ahead before its id is decided (≥ maxGapFrames + minTrackFrames).
        public var lookahead: Int = 30
        /// A new tracklet takes the id of an earlier person whose appearance (`FaceAppearance.distance`)
        /// is closer than this; else it is a new person. Measured (AppearanceTests): one person seen at
        /// other scales, tilts and exposures 0.06–0.19, a look with other hues 0.35–0.49.
        public var maxAppearanceDistance: Double = 0.3
        /// Seconds a person who left keeps their id waiting to come back (nil: the whole clip).
        public var reidWindow: Double? = nil
        public init() {}
    }

    public struct Analysis: Sendable {
        /// Smallest face (frame pixels, detector-box size ≈ brow to chin) the detector tiles must find.
        /// Sets the finest tile level (DetectionTiling); larger values mean fewer tiles, and once a
        /// face of this size is ≥ `Detector.minFaceInInput` px in the whole-frame letterbox, the
        /// letterbox is the only tile (MediaPipe's behaviour). 48 finds faces from ~48 px in 1080p.
        public var minFaceSize: Double = 48
        /// Run the blendshapes / emotion networks (each costs one more network per face).
        public var blendshapes: Bool = true
        public var emotion: Bool = true
        /// Frames whose blendshape and emotion networks run as one batch (`FaceAnalyzer.frameBatch`);
        /// nil = automatic.
        public var frameBatch: Int?
        /// Frames whose landmarks run as one batch (`FaceAnalyzer.trackBatch`); nil = automatic.
        public var trackBatch: Int?
        /// Emotion crop (see `EmotionBox`): side and downward offset from the eye midpoint, in 3-D
        /// outer-eye-corner distances; measured from fer's Haar box on astronaut.png.
        public var emotionBoxSize: Double = 1.91
        public var emotionBoxDown: Double = 0.19
        /// Refinement (0 = off, MediaPipe's behaviour): when a face's landmarks define an ROI that
        /// differs from the one they came from by more than this fraction of the ROI side (shift, size,
        /// or rotation/3 in radians), the landmarks run again on the new ROI in the same frame. Catches
        /// fast moves and the coarse ROI of a new face's detection; `facefx analyze` turns it on (0.04).
        public var refineROIShift: Double = 0
        public init() {}
    }

    public var detector = Detector()
    public var roi = ROI()
    public var smoothing = Smoothing()
    public var pose = Pose()
    public var tracker = Tracker()
    public var offline = Offline()
    public var linking = Linking()
    public var analysis = Analysis()
    public init() {}
}
