// Per-frame face analysis: frame texture → detector tiles → tracker ROIs → landmarks →
// blendshapes, emotion, head pose. GPU passes render every network input from the frame
// texture (FaceCrops); the networks run behind `FaceNetworks`; the CPU does the small math
// (decoding, NMS, tracking, Procrustes). One analyzer per clip (it owns the tracker).

import FaceFXGPU
import FaceFXNeural
import Foundation

/// The FER net's 7 outputs, in model order (fer's `_get_labels`).
public enum EmotionLabels {
    public static let names = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
}

/// One analysed frame (`FaceAnalyzer.push` / `flush`).
public struct AnalyzedFrame: Sendable {
    public var index: Int
    public var time: Double
    /// Shot number from 0; it goes up by one on every frame that starts a new shot (a cut).
    public var shot: Int
    public var faces: [FaceResult]
}

/// Everything facefx knows about one face on one frame. Pixels are frame pixels, origin top-left.
public struct FaceResult: Sendable {
    /// Track id: from the analyzer, one per tracklet (a face followed without a break); after
    /// `TrackLinker`, one per person over the clip.
    public var id: Int
    public var frameIndex: Int
    public var time: Double
    /// Landmark network presence (sigmoid of its face logit); faces below 0.5 are dropped.
    public var presence: Double
    /// Score of the detection that (re)started or matched this face on this frame; nil on frames
    /// where the face was tracked from its previous landmarks without a matching detection.
    public var detectionScore: Double?
    /// Bounds of the 468 mesh landmarks (tighter and steadier than the detector's box).
    public var box: Rect
    /// 478 points (468 mesh + 10 iris): x, y frame pixels, z relative depth in x's scale.
    public var landmarks: [Point]
    /// 52 coefficients in `FaceLandmarks.blendshapeNames` order (empty when switched off).
    public var blendshapes: [Double]
    /// 7 probabilities in `EmotionLabels.names` order (empty when switched off).
    public var emotions: [Double]
    /// The classifier's probabilities in its `labels` order (`FaceNetworks.classifier`; empty without one).
    public var classes: [Double] = []
    public var pose: HeadPose
    /// The landmark network's input region on this frame.
    public var roi: FaceROI
    /// What the face looks like (for `TrackLinker`); not written to the records.
    public var appearance: FaceAppearance = .empty

    public init(id: Int, frameIndex: Int, time: Double, presence: Double, detectionScore: Double?, box: Rect,
                landmarks: [Point], blendshapes: [Double], emotions: [Double], classes: [Double] = [], pose: HeadPose,
                roi: FaceROI, appearance: FaceAppearance = .empty) {
        self.id = id; self.frameIndex = frameIndex; self.time = time; self.presence = presence
        self.detectionScore = detectionScore; self.box = box; self.landmarks = landmarks; self.blendshapes = blendshapes
        self.emotions = emotions; self.classes = classes; self.pose = pose; self.roi = roi; self.appearance = appearance
    }

    public var topEmotion: String? {
        guard let i = emotions.indices.max(by: { emotions[$0] < emotions[$1] }) else { return nil }
        return EmotionLabels.names[i]
    }

    public func blendshape(_ name: String) -> Double? {
        guard let i = FaceLandmarks.blendshapeNames.firstIndex(of: name), i < blendshapes.count else { return nil }
        return blendshapes[i]
    }

    /// The `n` largest blendshapes (name, value), `_neutral` excluded.
    public func topBlendshapes(_ n: Int) -> [(name: String, value: Double)] {
        zip(FaceLandmarks.blendshapeNames, blendshapes).filter { $0.0 != "_neutral" }
            .sorted { $0.1 > $1.1 }.prefix(n).map { (name: $0.0, value: $0.1) }
    }
}

/// Where the time of one `analyze` went (seconds; CPU-reference networks dominate).
public struct FaceAnalysisTimings: Sendable {
    public var tiles = 0
    public var detector = 0.0
    public var landmarks = 0.0
    public var blendshapes = 0.0
    public var emotion = 0.0
    public var total = 0.0
    /// Faces whose landmarks ran a second time on a refined ROI (`refineROIShift`).
    public var refinedFaces = 0
    /// Detector runs (keyframes), shot cuts found, and face-frames added by tracking new faces backwards.
    public var keyframes = 0
    public var shotCuts = 0
    public var lookBackFaces = 0
    /// Shot-cut thumbnails (render + read back; on llvmpipe this first wait also absorbs the frame's
    /// queued colour conversion).
    public var shotCutSeconds = 0.0
    public init() {}
}

public enum FaceAnalysisError: Error, CustomStringConvertible {
    case networkShape(String)
    case frameSize(String)
    public var description: String {
        switch self {
        case .networkShape(let m): return "face networks: \(m)"
        case .frameSize(let m): return "frame: \(m)"
        }
    }
}

public final class FaceAnalyzer {
    public let context: GPUContext
    public let networks: FaceNetworks
    public let settings: FaceSettings
    public let tracker: FaceTracker
    public let poseEstimator: HeadPoseEstimator
    public let crops: FaceCropRenderer
    private let decoder: DetectionDecoder
    /// Which detector output holds the 896 scores (the other: 896×16 box regressors).
    private let detectorScoreOutput: Int
    public private(set) var lastTimings = FaceAnalysisTimings()

    public init(context: GPUContext, networks: FaceNetworks, faceModel: CanonicalFaceModel,
                settings: FaceSettings = FaceSettings(), programs: ProgramCache? = nil) throws {
        self.context = context
        self.networks = networks
        self.settings = settings
        tracker = FaceTracker(settings: settings.tracker, roiSettings: settings.roi)
        shotCuts = ShotCutDetector(settings: settings.offline.cut)
        poseEstimator = HeadPoseEstimator(model: faceModel, settings: settings.pose)
        crops = FaceCropRenderer(context: context, programs: programs)
        decoder = DetectionDecoder(anchorOptions: .blazeFaceShortRange, settings: settings.detector)
        for (name, net, kind) in [("detector", networks.detector, FaceCropKind.detector),
                                  ("landmarks", networks.landmarks, .landmarks), ("emotion", networks.emotion, .emotion)] {
            guard net.inputWidth == kind.width, net.inputHeight == kind.height, net.inputChannels == kind.channels else {
                throw FaceAnalysisError.networkShape("\(name) takes \(net.inputWidth)x\(net.inputHeight)x\(net.inputChannels), " +
                                                     "expected \(kind.width)x\(kind.height)x\(kind.channels)")
            }
        }
        let counts = networks.detector.outputElementCounts
        guard counts.count == 2, let s = counts.firstIndex(of: decoder.anchors.count), counts[1 - s] == decoder.anchors.count * 16 else {
            throw FaceAnalysisError.networkShape("detector outputs of \(counts) values, expected \(decoder.anchors.count) and \(decoder.anchors.count * 16)")
        }
        detectorScoreOutput = s
        // Load time: programs and parameter texture, so the first frame compiles nothing.
        try crops.prepare(kind: .detector, maxItems: 64)
        try crops.prepare(kind: .landmarks, maxItems: 64)
        try crops.prepare(kind: .emotion, maxItems: 64)
    }

    /// Networks (shader engine by default, see `FaceNetworks.make`) and the canonical face model from a
    /// Models/ folder (face_landmarker.task, emotion_fer_quantized.tflite, facemesh/).
    public convenience init(context: GPUContext, modelsDirectory: URL, settings: FaceSettings = FaceSettings()) throws {
        let networks = try FaceNetworks.make(context: context, modelsDirectory: modelsDirectory)
        let model = try CanonicalFaceModel.load(directory: modelsDirectory.appendingPathComponent("facemesh"))
        try self.init(context: context, networks: networks, faceModel: model, settings: settings)
    }

    /// Bytes of the frames this analyzer keeps as textures for frames of this size (its look-back ring).
    public func ringBytes(width: Int, height: Int) -> Int { ringSize > 1 ? ringSize * width * height * 4 : 0 }

    /// The detector tiles used for a frame of this size (whole frame letterboxed + finer levels).
    public func detectionTiles(width: Int, height: Int) -> [DetectionTile] {
        DetectionTiling.tiles(frameWidth: Double(width), frameHeight: Double(height), inputSize: FaceCropKind.detector.width,
                              minFace: settings.analysis.minFaceSize, settings: settings.detector)
    }

    /// Analyses one still or a frame on its own, now (`facefx detect`, preview): no look-back, no shot
    /// cuts. `frameTexture` is the RGBA8 frame (row 0 = top image row), exactly width × height.
    /// Successive calls continue the tracks of the previous frame.
    public func analyze(frameTexture: Texture, width: Int, height: Int, frameIndex: Int, time: Double) throws -> [FaceResult] {
        let start = Date()
        var timings = FaceAnalysisTimings()
        defer { timings.total = Date().timeIntervalSince(start); lastTimings = timings }
        var core = try track(frame: frameTexture, width: width, height: height, frameIndex: frameIndex, time: time,
                             shot: shot, forceDetection: false, lookBack: false, timings: &timings)
        core.colours = try faceColours(frame: core.frame, faces: core.faces)
        return try analyzeTracked(core, timings: &timings)
    }

    // MARK: - a clip, offline (look-back, shot cuts, frames batched)

    /// Frames per batch of the blendshape and emotion networks in `push`: `settings.analysis.frameBatch`,
    /// or by default 8 (on hardware GPUs every network pass costs ~13 µs whatever its size, so 8 frames'
    /// blendshapes cost about what one frame's did; on llvmpipe a batch of 8 fills its threads: emotion
    /// 18 → 8 ms per face-frame on the 2-core box). The settings' value wins over the context's tuning
    /// (FACEFX_FRAME_BATCH). Decided once.
    public private(set) lazy var frameBatch: Int = {
        max(1, settings.analysis.frameBatch ?? context.tuning.frameBatch ?? 8)
    }()

    /// Frames a face found on a keyframe is tracked backwards, and so how late `push` hands frames back.
    public var lookBack: Int { max(0, settings.offline.lookBack ?? (settings.tracker.detectEvery - 1)) }

    /// Frames whose landmarks run together (`push`): each tracked face's ROI on the next frames is
    /// extrapolated from its motion, the landmark network runs once for all of them, and a second batched
    /// run redoes the faces whose landmarks call for a clearly different ROI (as `refineROIShift` does
    /// for one frame). On hardware GPUs a run costs about the same for 1 and 8 items (H100 landmarks:
    /// 1.1 ms vs 0.2 ms per item), so 8 frames go together; on llvmpipe (2-core box: 36 ms at batch 1,
    /// 21 ms per item at 8, plus ~1 s to compile each new batch size and the redos of extrapolated ROIs
    /// that missed) a 10-s clip gained nothing, so frame by frame. `settings.analysis.trackBatch`, then
    /// the context's tuning (FACEFX_TRACK_BATCH), override.
    public private(set) lazy var trackBatch: Int = {
        max(1, settings.analysis.trackBatch ?? context.tuning.trackBatch ?? (context.isSoftware ? 1 : 8))
    }()

    /// Frames kept as textures: those waiting for their tracking batch and those in the look-back window.
    private var ringSize: Int { lookBack + trackBatch }

    /// Frames pushed but not yet tracked (their tracking batch is not full).
    private struct UntrackedFrame {
        let frame: Texture
        let index: Int
        let time: Double
        let width: Int, height: Int
        /// First frame of a new size: a new shot whatever its picture.
        let resized: Bool
        var shot = 0
        var cut = false
    }
    private var untracked: [UntrackedFrame] = []
    /// Tracked frames waiting in the look-back window (their faces may still grow), in frame order.
    private var held: [TrackedFrame] = []
    /// The last `ringSize` frames (slot = frame index mod count), which untracked and held frames read.
    private var ring: [Framebuffer] = []
    /// Size of the last frame pushed (a new size starts a new shot).
    private var frameSize: (width: Int, height: Int)?
    private var sourceFramebuffer: (texture: ObjectIdentifier, framebuffer: Framebuffer)?
    private let shotCuts: ShotCutDetector
    private var shot = 0
    /// Float targets of the crops read back on the CPU (shot-cut thumbnail, face colours), by crop side.
    private var readbackTargets: [Int: Framebuffer] = [:]
    /// Reads them back when the crops are compute passes.
    private lazy var cropGather = TexelGather(context: context, programs: crops.programs)

    /// A tracked frame whose blendshapes and emotion (and classifier) wait for the batch.
    private struct PendingFrame {
        let core: TrackedFrame
        /// Its faces' first item in the emotion / classifier inputs.
        let firstCropItem: Int
    }
    private var pending: [PendingFrame] = []
    /// Face crops gathered in the emotion and classifier inputs (rendered when the frame is staged: by
    /// the flush its look-back slot may hold a later frame).
    private var pendingCropItems = 0
    private var emotionTarget: Framebuffer?
    private var classifierTarget: Framebuffer?

    /// Analyses the next frame of a clip, offline: shot cuts; landmarks of `trackBatch` frames at once;
    /// detection on keyframes (`needsDetection`, cuts), faces found there tracked backwards over the last
    /// `lookBack` frames; blendshapes and emotion once per `frameBatch` frames. Returns the frames
    /// completed by this call, in order (none, or several): a frame comes back once nothing later can add
    /// a face to it. Call `flush()` after the last frame. `lastTimings` holds this call's times. Frames of
    /// one clip must come in order; convert each into `frameSlot(forFrame:)` to spare a copy, or pass
    /// `retained` when the caller keeps the texture unchanged until the frame comes back (a render's
    /// frames waiting on the GPU for their filters): the analyzer then reads it there and keeps no copy.
    public func push(frameTexture: Texture, width: Int, height: Int, frameIndex: Int, time: Double,
                     retained: Bool = false) throws -> [AnalyzedFrame] {
        let start = Date()
        var timings = FaceAnalysisTimings()
        defer {
            timings.total = Date().timeIntervalSince(start)
            lastTimings = timings
        }
        var done: [AnalyzedFrame] = []
        guard try enqueue(frameTexture, width: width, height: height, index: frameIndex, time: time, retained: retained,
                          done: &done, timings: &timings) else { return done }
        try trackWaiting(timings: &timings)
        return done + (try release(upTo: frameIndex - lookBack, timings: &timings))
    }

    /// Takes a frame into the batch waiting for tracking; true when the batch is full. A new frame size
    /// (concatenated clips) first finishes the frames of the old size, and starts a new shot.
    private func enqueue(_ texture: Texture, width: Int, height: Int, index: Int, time: Double, retained: Bool,
                         done: inout [AnalyzedFrame], timings: inout FaceAnalysisTimings) throws -> Bool {
        guard texture.width == width, texture.height == height else {
            throw FaceAnalysisError.frameSize("texture \(texture.width)x\(texture.height) for a \(width)x\(height) frame")
        }
        let resized = frameSize.map { $0 != (width, height) } ?? false
        frameSize = (width, height)
        if resized {
            try trackWaiting(timings: &timings)
            done += try release(upTo: Int.max, timings: &timings)
        }
        let frame = ringSize > 1 && !retained ? try keep(texture, index: index) : texture
        untracked.append(UntrackedFrame(frame: frame, index: index, time: time, width: width, height: height, resized: resized))
        return untracked.count >= trackBatch
    }

    /// Tracks the waiting frames: their shot-cut thumbnails in one readback (one wait, not one per
    /// frame), the tracked faces' landmarks on all of them in one batched run (plus one for the faces to
    /// redo), then frame by frame the tracker's bookkeeping, detection on keyframes and look-back.
    private func trackWaiting(timings: inout FaceAnalysisTimings) throws {
        guard !untracked.isEmpty else { return }
        let t1 = Date()
        let thumbnailCrops = settings.offline.shotCuts ? untracked.map { ($0.frame, Self.wholeFrame(width: $0.width, height: $0.height)) } : []
        let thumbnails = try readCrops(thumbnailCrops, side: ShotCutDetector.side)
        let round = beginRound(thumbnails: thumbnails[...], timings: &timings)
        timings.shotCutSeconds += Date().timeIntervalSince(t1)
        let t0 = Date()
        var results = try landmarks(round.items.map { ($0.frame, $0.roi) })
        var rois = round.items.map(\.roi)
        if settings.analysis.refineROIShift > 0 {
            timings.refinedFaces += try refineMovedROIs(frames: round.items.map(\.frame), rois: &rois, results: &results)
        }
        timings.landmarks += Date().timeIntervalSince(t0)
        try endRound(round, rois: rois[...], results: results[...], timings: &timings)
    }

    /// The frames one analyzer tracks together, and the landmark runs they need for the faces already
    /// tracked (each face's ROI extrapolated to each frame, up to the first cut).
    private struct TrackingRound {
        var batch: [UntrackedFrame]
        var items: [(frame: Texture, roi: TrackROI, slot: Int)]
    }

    /// Takes the waiting frames, marks shot cuts from their thumbnails, and lists the landmark runs.
    private func beginRound(thumbnails: ArraySlice<[Float]>, timings: inout FaceAnalysisTimings) -> TrackingRound {
        var batch = untracked
        untracked = []
        for j in batch.indices {
            let changed = settings.offline.shotCuts && shotCuts.isCut(rgb: thumbnails[thumbnails.startIndex + j])
            batch[j].cut = batch[j].resized || changed
            if batch[j].cut {
                shot += 1
                timings.shotCuts += 1
            }
            batch[j].shot = shot
        }
        // Tracks end at a cut: they are predicted up to the first frame that starts a new shot.
        let reach = batch.firstIndex { $0.cut } ?? batch.count
        var items: [(frame: Texture, roi: TrackROI, slot: Int)] = []
        if reach > 0 {
            for (id, rois) in tracker.predictedROIs(times: batch[..<reach].map(\.time)) {
                for j in 0..<reach { items.append((batch[j].frame, TrackROI(trackID: id, roi: rois[j], source: .landmarks), j)) }
            }
        }
        return TrackingRound(batch: batch, items: items)
    }

    /// With the round's landmarks run: frame by frame the tracker's bookkeeping, detection on
    /// keyframes and look-back; the frames are then held for the look-back window.
    private func endRound(_ round: TrackingRound, rois: ArraySlice<TrackROI>, results: ArraySlice<LandmarkResult>,
                          timings: inout FaceAnalysisTimings) throws {
        var predicted: [[Int: (roi: TrackROI, result: LandmarkResult)]] = Array(repeating: [:], count: round.batch.count)
        for (item, (roi, result)) in zip(round.items, zip(rois, results)) { predicted[item.slot][roi.trackID] = (roi, result) }
        for (j, u) in round.batch.enumerated() {
            if u.cut { tracker.endAll() }
            let core = try track(frame: u.frame, width: u.width, height: u.height, frameIndex: u.index, time: u.time, shot: u.shot,
                                 forceDetection: u.cut, lookBack: lookBack > 0, predicted: predicted[j], timings: &timings)
            if core.detected && lookBack > 0 {
                let t0 = Date()
                timings.lookBackFaces += try trackBackwards(core.faces.filter(\.isNew), shot: core.shot)
                timings.landmarks += Date().timeIntervalSince(t0)
            }
            held.append(core)
        }
    }

    /// Hands the held frames up to `index` on to blendshapes and emotion (their faces' colours read back
    /// together first); returns those completed.
    private func release(upTo index: Int, timings: inout FaceAnalysisTimings) throws -> [AnalyzedFrame] {
        var released: [TrackedFrame] = []
        while let first = held.first, first.frameIndex <= index { released.append(held.removeFirst()) }
        let t0 = Date()
        let colours = try readCrops(released.flatMap { core in core.faces.map { (core.frame, faceColourCrop($0)) } },
                                    side: FaceAppearance.cropSide).map(FaceAppearance.colourDescriptor)
        timings.landmarks += Date().timeIntervalSince(t0)
        var done: [AnalyzedFrame] = []
        var k = 0
        for var core in released {
            core.colours = Array(colours[k ..< k + core.faces.count])
            k += core.faces.count
            done += try stage(core, timings: &timings)
        }
        return done
    }

    /// Completes every frame still held or pending (after the last `push`); `lastTimings` then holds
    /// the times of this call only.
    public func flush() throws -> [AnalyzedFrame] {
        let start = Date()
        var timings = FaceAnalysisTimings()
        try trackWaiting(timings: &timings)
        var done = try release(upTo: Int.max, timings: &timings)
        done += try flushPending(timings: &timings)
        timings.total = Date().timeIntervalSince(start)
        lastTimings = timings
        return done
    }

    /// Forgets all tracks, shots and frames (call between clips; ids restart). Frames not yet handed
    /// back by `push` are dropped: call `flush` first to keep them.
    public func reset() {
        tracker.resetAll()
        shotCuts.reset()
        shot = 0
        untracked.removeAll()
        held.removeAll()
        frameSize = nil
        pending.removeAll(); pendingCropItems = 0; emotionTarget = nil; classifierTarget = nil
    }

    /// Where frame `index` should be converted so that `push` keeps it without a copy: its slot in the
    /// ring of the last `ringSize` frames (nil when frames are not kept, or when the frame size changed
    /// and older frames are still in the ring: any texture will do, `push` copies it).
    public func frameSlot(forFrame index: Int, width: Int, height: Int) throws -> Framebuffer? {
        guard ringSize > 1 else { return nil }
        if ring.count != ringSize || ring.first.map({ $0.width != width || $0.height != height }) ?? false {
            guard held.isEmpty, untracked.isEmpty else { return nil }
            ring = try (0..<ringSize).map { _ in
                try Framebuffer(context: context, color: Texture(context: context, width: width, height: height, format: .rgba8))
            }
        }
        return ring[index % ring.count]
    }

    /// This frame in its ring slot: the slot itself when the caller converted into it (`frameSlot`),
    /// else a copy (the caller's texture is overwritten by the next frame).
    private func keep(_ texture: Texture, index: Int) throws -> Texture {
        let slot = try frameSlot(forFrame: index, width: texture.width, height: texture.height)!
        if slot.color === texture { return texture }
        if sourceFramebuffer?.texture != ObjectIdentifier(texture) {
            sourceFramebuffer = (ObjectIdentifier(texture), try Framebuffer(context: context, color: texture))
        }
        try sourceFramebuffer!.framebuffer.copyRegion(into: slot, x: 0, y: 0, width: texture.width, height: texture.height)
        return slot.color
    }

    /// Follows faces first found on the frame being pushed (not yet held) backwards through the held
    /// frames of its shot, from each face's landmarks on the frame after, until the landmark network no
    /// longer sees it, another face is already there, or the window ends. All faces step back together
    /// (one landmark run per frame). Returns the face-frames added.
    private func trackBackwards(_ found: [TrackedFace], shot: Int) throws -> Int {
        var current = found.map { (id: $0.id, landmarks: $0.landmarks.points) }
        var added = 0
        var k = held.count - 1
        while k >= 0, !current.isEmpty, held[k].shot == shot {
            var rois = current.map { TrackROI(trackID: $0.id, roi: FaceROI(landmarks: $0.landmarks, settings: settings.roi), source: .landmarks) }
            var results = try landmarks(frame: held[k].frame, rois: rois)
            if settings.analysis.refineROIShift > 0 {
                try refineMovedROIs(frames: rois.map { _ in held[k].frame }, rois: &rois, results: &results)
            }
            var next: [(id: Int, landmarks: [Point])] = []
            for (roi, r) in zip(rois, results) where r.presence >= settings.tracker.minPresence && r.landmarks.count >= FaceLandmarks.meshCount {
                let box = Rect.bounding(r.landmarks.prefix(FaceLandmarks.meshCount))
                let taken = held[k].faces.contains { Rect.bounding($0.landmarks.points.prefix(FaceLandmarks.meshCount)).iou(box) > 0.3 }
                guard !taken, held[k].faces.count < settings.tracker.maxFaces else { continue }
                held[k].faces.append(TrackedFace(id: roi.trackID, landmarks: FaceLandmarks(points: r.landmarks), presence: r.presence,
                                                 roi: roi.roi, isNew: false))
                next.append((roi.trackID, r.landmarks))
                added += 1
            }
            held[k].faces.sort { $0.id < $1.id }
            current = next
            k -= 1
        }
        return added
    }

    /// A frame whose faces are final (colours read): blendshapes and emotion (and the classifier) when
    /// the batch is full. The emotion and classifier crops are rendered now.
    private func stage(_ core: TrackedFrame, timings: inout FaceAnalysisTimings) throws -> [AnalyzedFrame] {
        var done: [AnalyzedFrame] = []
        let n = core.faces.count
        let emotion = settings.analysis.emotion ? networks.emotion : nil
        let classifier = networks.classifier?.runner
        let crops = emotion != nil || classifier != nil
        let capacity = min(networks.emotion.maxBatch, classifier?.maxBatch ?? .max, frameBatch * max(1, settings.tracker.maxFaces))
        if crops && pendingCropItems + n > capacity {
            done += try flushPending(timings: &timings)
        }
        var first = pendingCropItems
        if crops && n > 0 {
            if n > capacity {
                // More faces than one batch holds: this frame alone, now.
                done += try flushPending(timings: &timings)
                let faces = try analyzeTracked(core, timings: &timings)
                return done + [AnalyzedFrame(index: core.frameIndex, time: core.time, shot: core.shot, faces: faces)]
            }
            let t0 = Date()
            if pendingCropItems == 0 {
                emotionTarget = try emotion?.inputTarget(capacity: capacity)
                classifierTarget = try classifier?.inputTarget(capacity: capacity)
            }
            // The emotion crop, and the classifier's (the same box; grey 64 px or colour 128 px).
            let boxes = core.faces.map { emotionBox($0.landmarks.points) }
            if let target = emotionTarget {
                try self.crops.render(frame: core.frame, mappings: boxes.map { $0.mapping() }, kind: .emotion, into: target,
                                      firstItem: pendingCropItems)
            }
            if let target = classifierTarget, let kind = networks.classifier?.cropKind {
                try self.crops.render(frame: core.frame, mappings: boxes.map { $0.mapping(kind: kind) }, kind: kind, into: target,
                                      firstItem: pendingCropItems)
            }
            first = pendingCropItems
            pendingCropItems += n
            timings.emotion += Date().timeIntervalSince(t0)
        }
        pending.append(PendingFrame(core: core, firstCropItem: first))
        if pending.count >= frameBatch { done += try flushPending(timings: &timings) }
        return done
    }

    private func flushPending(timings: inout FaceAnalysisTimings) throws -> [AnalyzedFrame] {
        guard !pending.isEmpty else { return [] }
        defer { pending.removeAll(); pendingCropItems = 0; emotionTarget = nil; classifierTarget = nil }
        var t0 = Date()
        let all = pending.flatMap { $0.core.faces.map(\.landmarks) }
        let blend = try runBlendshapes(all)
        timings.blendshapes += Date().timeIntervalSince(t0)
        t0 = Date()
        var emotions = [[Double]](repeating: [], count: pendingCropItems)
        if settings.analysis.emotion && pendingCropItems > 0 {
            emotions = try readEmotions(networks.emotion.run(count: pendingCropItems))
        }
        var classes = [[Double]](repeating: [], count: pendingCropItems)
        if let c = networks.classifier, pendingCropItems > 0 { classes = try readClasses(c, c.runner.run(count: pendingCropItems)) }
        try crops.throwQueuedError()
        timings.emotion += Date().timeIntervalSince(t0)
        var k = 0
        return pending.map { p in
            let n = p.core.faces.count
            defer { k += n }
            let items = p.firstCropItem ..< p.firstCropItem + n
            let e = settings.analysis.emotion ? Array(emotions[items]) : [[Double]](repeating: [], count: n)
            let c = networks.classifier != nil ? Array(classes[items]) : [[Double]](repeating: [], count: n)
            let b = blend.map { Array($0[k ..< k + n]) } ?? [[Double]](repeating: [], count: n)
            return AnalyzedFrame(index: p.core.frameIndex, time: p.core.time, shot: p.core.shot,
                                 faces: assemble(p.core, blendshapes: b, emotions: e, classes: c))
        }
    }

    /// Blendshapes and emotion of one tracked frame, now.
    private func analyzeTracked(_ core: TrackedFrame, timings: inout FaceAnalysisTimings) throws -> [FaceResult] {
        guard !core.faces.isEmpty else { return [] }
        var t0 = Date()
        let blend = try runBlendshapes(core.faces.map(\.landmarks))
        timings.blendshapes += Date().timeIntervalSince(t0)
        t0 = Date()
        var emotions = [[Double]](repeating: [], count: core.faces.count)
        if settings.analysis.emotion {
            emotions = try readEmotions(runImageNetwork(networks.emotion, frame: core.frame, kind: .emotion,
                                                        mappings: core.faces.map { emotionBox($0.landmarks.points).mapping() }))
        }
        let classes = try runClassifier(core.frame, boxes: core.faces.map { emotionBox($0.landmarks.points) })
        timings.emotion += Date().timeIntervalSince(t0)
        return assemble(core, blendshapes: blend ?? [[Double]](repeating: [], count: core.faces.count), emotions: emotions,
                        classes: classes)
    }

    /// The user's classifier on these faces' emotion boxes (empty lists without one), batched.
    private func runClassifier(_ frame: Texture, boxes: [EmotionBox]) throws -> [[Double]] {
        guard let c = networks.classifier else { return [[Double]](repeating: [], count: boxes.count) }
        let kind = c.cropKind
        return try readClasses(c, runImageNetwork(c.runner, kind: kind, crops: boxes.map { (frame, $0.mapping(kind: kind)) }) {
            try c.runner.run(count: $0)
        })
    }

    private func readClasses(_ c: FaceClassifier, _ outs: [[Tensor]]) throws -> [[Double]] {
        try outs.map { o in
            guard let t = o.first, t.count == c.labels.count else {
                throw FaceAnalysisError.networkShape("classifier output \(o.first?.shape ?? [])")
            }
            return t.data.map(Double.init)
        }
    }

    // MARK: - per-frame pieces

    /// One frame's tracking: detection (when due), ROIs, landmarks (+ refinement), tracker update.
    private struct TrackedFrame {
        let frameIndex: Int
        let time: Double
        let width: Int, height: Int
        let shot: Int
        /// The frame's RGBA8 texture (a ring copy while it is held for look-back).
        let frame: Texture
        /// Whether the detector ran on this frame (a keyframe).
        let detected: Bool
        var faces: [TrackedFace]
        let detections: [FaceDetection]
        let rois: [TrackROI]
        /// Each face's colour descriptor (`FaceAppearance.colourDescriptor`), once the faces are final.
        var colours: [[Double]] = []
    }

    /// `predicted`: landmarks already run for tracked faces on this frame (by track id, with the ROI they
    /// ran in: `endRound`); the other ROIs run now.
    private func track(frame: Texture, width: Int, height: Int, frameIndex: Int, time: Double, shot: Int,
                       forceDetection: Bool, lookBack: Bool, predicted: [Int: (roi: TrackROI, result: LandmarkResult)] = [:],
                       timings: inout FaceAnalysisTimings) throws -> TrackedFrame {
        guard frame.width == width, frame.height == height else {
            throw FaceAnalysisError.frameSize("texture \(frame.width)x\(frame.height) for a \(width)x\(height) frame")
        }
        var detections: [FaceDetection]?
        if forceDetection || tracker.needsDetection(frame: frameIndex, lookBack: lookBack) {
            let t0 = Date()
            let tiles = detectionTiles(width: width, height: height)
            timings.tiles = tiles.count
            timings.keyframes += 1
            detections = try detect(frame: frame, width: width, height: height, tiles: tiles)
            timings.detector += Date().timeIntervalSince(t0)
        }
        let wanted = tracker.rois(forFrame: frameIndex, time: time, detections: detections)
        let t0 = Date()
        var rois = wanted.filter { predicted[$0.trackID] == nil }
        var landmarkResults = try landmarks(rois.map { (frame, $0) })
        if settings.analysis.refineROIShift > 0 {
            timings.refinedFaces += try refineMovedROIs(frames: rois.map { _ in frame }, rois: &rois, results: &landmarkResults)
        }
        for r in wanted { if let p = predicted[r.trackID] { rois.append(p.roi); landmarkResults.append(p.result) } }
        timings.landmarks += Date().timeIntervalSince(t0)
        let faces = tracker.update(frame: frameIndex, time: time, landmarkResults: landmarkResults)
        return TrackedFrame(frameIndex: frameIndex, time: time, width: width, height: height, shot: shot, frame: frame,
                            detected: detections != nil, faces: faces, detections: detections ?? [], rois: rois)
    }

    /// The whole frame squeezed into a crop of `side` pixels (the shot-cut thumbnail).
    static func wholeFrame(width: Int, height: Int, side: Int = ShotCutDetector.side) -> Affine2D {
        // Output pixel (u, v) samples frame position ((u + 0.5) · W/side − 0.5, ...): pixel centres map to pixel centres.
        let sx = Double(width) / Double(side), sy = Double(height) / Double(side)
        return Affine2D(rowMajor: [sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0, 1])
    }

    /// Colour descriptors of these faces (one aligned crop each, read back together).
    private func faceColours(frame: Texture, faces: [TrackedFace]) throws -> [[Double]] {
        try readCrops(faces.map { (frame, faceColourCrop($0)) }, side: FaceAppearance.cropSide).map(FaceAppearance.colourDescriptor)
    }

    /// The aligned face crop the colour descriptor is read from.
    private func faceColourCrop(_ face: TrackedFace) -> Affine2D {
        CropMapping.roi(FaceAppearance.cropROI(landmarks: face.landmarks.points, roiSettings: settings.roi)
            .transform(cropSize: Double(FaceAppearance.cropSide)))
    }

    /// RGB crops (values 0...1) of `side` × `side` pixels of any frames, read back to the CPU in one
    /// readback (consecutive crops of one frame drawn together), row-major from the top.
    private func readCrops(_ items: [(frame: Texture, mapping: Affine2D)], side: Int) throws -> [[Float]] {
        guard !items.isEmpty else { return [] }
        // A target of at most 128 crops (2048 rows of 16-px crops: within every GL's texture size).
        if items.count > 128 {
            return try stride(from: 0, to: items.count, by: 128).flatMap {
                try readCrops(Array(items[$0 ..< min(items.count, $0 + 128)]), side: side)
            }
        }
        let kind = FaceCropKind(width: side, height: side, channels: 3, valueScale: 1, valueOffset: 0, zeroBorder: false)
        if readbackTargets[side].map({ $0.height < side * items.count }) ?? true {
            readbackTargets[side] = try Framebuffer(context: context, color: Texture(
                context: context, width: side, height: side * max(items.count, 2 * settings.tracker.maxFaces), format: .rgba32f))
        }
        let target = readbackTargets[side]!
        var k = 0
        while k < items.count {
            var end = k + 1
            while end < items.count && items[end].frame === items[k].frame { end += 1 }
            try crops.render(frame: items[k].frame, mappings: items[k..<end].map(\.mapping), kind: kind, into: target, firstItem: k)
            k = end
        }
        // Crops written by compute passes come back through a storage buffer (TexelGather: a glReadPixels
        // of them stalls the NVIDIA driver), those rendered by fragment passes (llvmpipe) through glReadPixels.
        let texels = crops.computePasses ? try cropGather.read([(target.color, side * items.count)])[0]
                                         : try target.readFloats(width: side, height: side * items.count)
        try crops.throwQueuedError()
        return (0..<items.count).map { n in
            var rgb = [Float](repeating: 0, count: side * side * 3)
            for p in 0..<(side * side) {
                let t = (n * side * side + p) * 4
                rgb[3 * p] = texels[t]; rgb[3 * p + 1] = texels[t + 1]; rgb[3 * p + 2] = texels[t + 2]
            }
            return rgb
        }
    }

    /// Blendshapes of these faces in one batched run (nil when turned off).
    private func runBlendshapes(_ landmarks: [FaceLandmarks]) throws -> [[Double]]? {
        guard settings.analysis.blendshapes else { return nil }
        guard !landmarks.isEmpty else { return [] }
        let inputs = landmarks.map { Tensor(shape: [1, FaceLandmarks.blendshapeSubset.count, 2], data: $0.blendshapeInput) }
        return try networks.blendshapes.run(batch: inputs).map { o in
            guard let t = o.first, t.count == FaceLandmarks.blendshapeNames.count else {
                throw FaceAnalysisError.networkShape("blendshapes output \(o.first?.shape ?? [])")
            }
            return t.data.map(Double.init)
        }
    }

    private func readEmotions(_ outs: [[Tensor]]) throws -> [[Double]] {
        try outs.map { o in
            guard let t = o.first, t.count == EmotionLabels.names.count else {
                throw FaceAnalysisError.networkShape("emotion output \(o.first?.shape ?? [])")
            }
            return t.data.map(Double.init)
        }
    }

    private func assemble(_ core: TrackedFrame, blendshapes blend: [[Double]], emotions: [[Double]], classes: [[Double]]) -> [FaceResult] {
        core.faces.enumerated().map { k, f in
            let pts = f.landmarks.points
            let box = Rect.bounding(pts.prefix(FaceLandmarks.meshCount))
            let det = core.detections.filter { FaceTracker.sameFace(box, $0.box, iou: settings.tracker.matchIoU) }
                .max { $0.box.iou(box) < $1.box.iou(box) }
            let roi = core.rois.first { $0.trackID == f.id }?.roi ?? f.roi
            return FaceResult(id: f.id, frameIndex: core.frameIndex, time: core.time, presence: f.presence,
                              detectionScore: det?.score, box: box, landmarks: pts,
                              blendshapes: blend[k], emotions: emotions[k], classes: classes[k],
                              pose: poseEstimator.estimate(landmarks: pts, frameWidth: Double(core.width), frameHeight: Double(core.height)),
                              roi: roi,
                              appearance: FaceAppearance(shape: f.landmarks.shapeDescriptor, colour: k < core.colours.count ? core.colours[k] : []))
        }
    }

    public func emotionBox(_ landmarks: [Point]) -> EmotionBox {
        EmotionBox(landmarks: landmarks, sizeInEyeDistances: settings.analysis.emotionBoxSize,
                   downInEyeDistances: settings.analysis.emotionBoxDown)
    }

    // MARK: - stages

    /// All tiles of the frame through the detector (batched up to the runner's maxBatch per run),
    /// decoded, mapped to frame pixels and merged across tiles.
    public func detect(frame: Texture, width: Int, height: Int, tiles: [DetectionTile]) throws -> [FaceDetection] {
        // Only the anchors that can pass the score threshold come back (compacted on the GPU).
        let net = networks.detector
        let rows = try runImageNetwork(net, kind: .detector, crops: tiles.map { (frame, CropMapping.tile($0)) }) {
            try net.runRows(count: $0, score: detectorScoreOutput, data: 1 - detectorScoreOutput, threshold: decoder.logitThreshold)
        }
        let perTile = try zip(tiles, rows).map { tile, r -> (tile: DetectionTile, detections: [FaceDetection]) in
            guard r.allSatisfy({ $0.values.count == 16 }) else {
                throw FaceAnalysisError.networkShape("detector rows of \(r.first?.values.count ?? 0) regressors")
            }
            return (tile, decoder.decode(rows: r))
        }
        return DetectionTiling.merge(tileDetections: perTile, frameWidth: Double(width), frameHeight: Double(height),
                                     settings: settings.detector)
    }

    /// Landmarks for every ROI of one frame (one crop draw, one network run), mapped to frame pixels.
    public func landmarks(frame: Texture, rois: [TrackROI]) throws -> [LandmarkResult] {
        try landmarks(rois.map { (frame, $0) })
    }

    /// Landmarks for ROIs of any frames, in one network run (chunks of its maxBatch).
    func landmarks(_ items: [(frame: Texture, roi: TrackROI)]) throws -> [LandmarkResult] {
        let transforms = items.map { $0.roi.roi.transform(cropSize: Double(FaceCropKind.landmarks.width)) }
        let outs = try runImageNetwork(networks.landmarks, kind: .landmarks,
                                       crops: zip(items, transforms).map { ($0.frame, CropMapping.roi($1)) }) {
            try networks.landmarks.run(count: $0)
        }
        return try zip(items, zip(transforms, outs)).map { item, to in
            let (t, o) = to
            guard o.count >= 2, o[0].count == FaceLandmarks.count * 3, o[1].count == 1 else {
                throw FaceAnalysisError.networkShape("landmark outputs \(o.map(\.shape))")
            }
            let presence = 1 / (1 + exp(-Double(o[1].data[0])))
            return LandmarkResult(trackID: item.roi.trackID, landmarks: t.landmarksToFrame(o[0].data), presence: presence)
        }
    }

    /// Second landmark pass where landmarks call for a clearly different ROI than the one they were
    /// computed in (a fast move, an extrapolated ROI that missed, or a new face's coarse detector ROI):
    /// the network is most accurate on the ROI its own landmarks define. One batched run for all such
    /// faces (`frames[k]` is the frame of item k); a refined result replaces the first only if the face
    /// is still present.
    @discardableResult
    func refineMovedROIs(frames: [Texture], rois: inout [TrackROI], results: inout [LandmarkResult]) throws -> Int {
        var redo: [(frame: Texture, roi: TrackROI)] = [], slots: [Int] = []
        for (k, (r, res)) in zip(rois, results).enumerated()
            where res.presence >= settings.tracker.minPresence && res.landmarks.count >= FaceLandmarks.meshCount {
            let fresh = FaceROI(landmarks: res.landmarks, settings: settings.roi)
            if Self.roiChange(r.roi, fresh) > settings.analysis.refineROIShift {
                redo.append((frames[k], TrackROI(trackID: r.trackID, roi: fresh, source: r.source)))
                slots.append(k)
            }
        }
        guard !redo.isEmpty else { return 0 }
        let again = try landmarks(redo)
        for (k, (r, res)) in zip(slots, zip(redo, again)) where res.presence >= settings.tracker.minPresence {
            results[k] = res
            rois[k] = r.roi
        }
        return redo.count
    }

    /// How far apart two ROIs are, as a fraction of the ROI side: the largest of the centre shift,
    /// the size change and the rotation (radians × ⅓, about the displacement of face points).
    static func roiChange(_ a: FaceROI, _ b: FaceROI) -> Double {
        let side = max(a.size, 1e-9)
        let shift = hypot(a.center.x - b.center.x, a.center.y - b.center.y) / side
        let resize = abs(a.size - b.size) / side
        let turn = abs(normalizeRadians(a.rotation - b.rotation)) / 3
        return max(shift, resize, turn)
    }

    /// Renders the crops into the runner's input texture and runs it, in chunks of its maxBatch.
    func runImageNetwork(_ net: ImageNetworkRunner, frame: Texture, kind: FaceCropKind, mappings: [Affine2D]) throws -> [[Tensor]] {
        try runImageNetwork(net, kind: kind, crops: mappings.map { (frame, $0) }) { try net.run(count: $0) }
    }

    /// Same for crops of any frames (consecutive crops of one frame are drawn together), with another way
    /// of running and reading each chunk (`run(count)` → one result per item).
    func runImageNetwork<R>(_ net: ImageNetworkRunner, kind: FaceCropKind, crops items: [(frame: Texture, mapping: Affine2D)],
                            run: (Int) throws -> [R]) throws -> [R] {
        var out: [R] = []
        out.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            let chunk = items[start ..< min(items.count, start + net.maxBatch)]
            let target = try net.inputTarget(capacity: chunk.count)
            var k = chunk.startIndex
            while k < chunk.endIndex {
                var end = k + 1
                while end < chunk.endIndex && chunk[end].frame === chunk[k].frame { end += 1 }
                try crops.render(frame: chunk[k].frame, mappings: chunk[k..<end].map(\.mapping), kind: kind, into: target,
                                 firstItem: k - chunk.startIndex)
                k = end
            }
            let r = try run(chunk.count)
            try crops.throwQueuedError()
            guard r.count == chunk.count else { throw FaceAnalysisError.networkShape("\(r.count) results for \(chunk.count) items") }
            out += r
            start += chunk.count
        }
        return out
    }
}
