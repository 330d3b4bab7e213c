// BlazeFace output decoding (regressors + scores → boxes + 6 keypoints), weighted NMS,
// letterboxing and multi-scale tiling. Decoding rules are those of MediaPipe's
// TensorsToDetectionsCalculator with the options in face_detection_short_range_common.pbtxt
// (reverse_output_order: true, x/y/w/h_scale = input size, sigmoid_score, score_clipping_thresh 100)
// and NonMaxSuppressionCalculator (algorithm WEIGHTED, IoU 0.3); the code is ours.

import FaceFXNeural
import Foundation

/// One face detection. Coordinates are either normalised [0,1] of the network input (output of
/// `DetectionDecoder.decode`) or frame pixels (after `Letterbox`/`DetectionTile` mapping); the
/// producing function says which.
public struct FaceDetection: Equatable, Sendable {
    public var box: Rect
    /// 6 keypoints: 0 right eye, 1 left eye (of the subject: 0 is on the viewer's left), 2 nose tip,
    /// 3 mouth centre, 4 right ear tragion, 5 left ear tragion.
    public var keypoints: [Point2]
    public var score: Double

    public init(box: Rect, keypoints: [Point2], score: Double) {
        self.box = box; self.keypoints = keypoints; self.score = score
    }

    public static let keypointCount = 6

    /// Applies an affine map to box corners and keypoints; the box becomes the bounds of its mapped corners.
    public func mapped(_ t: Affine2D) -> FaceDetection {
        let corners = [Point2(box.minX, box.minY), Point2(box.maxX, box.minY),
                       Point2(box.minX, box.maxY), Point2(box.maxX, box.maxY)].map(t.apply)
        let b = Rect.bounding(corners.map { Point($0.x, $0.y, 0) })
        return FaceDetection(box: b, keypoints: keypoints.map(t.apply), score: score)
    }
}

public struct DetectionDecoder: Sendable {
    public let anchors: [Anchor]
    public let inputWidth: Int
    public let inputHeight: Int
    public var settings: FaceSettings.Detector

    public init(anchorOptions: AnchorOptions = .blazeFaceShortRange,
                settings: FaceSettings.Detector = .init()) {
        self.anchors = Anchors.generate(anchorOptions)
        self.inputWidth = anchorOptions.inputWidth
        self.inputHeight = anchorOptions.inputHeight
        self.settings = settings
    }

    /// Regressors (N×16, row-major) + score logits (N) → detections above `minScore`, before NMS,
    /// normalised to the network input.
    public func decodeAll(regressors: [Float], scores: [Float]) -> [FaceDetection] {
        let n = anchors.count
        precondition(regressors.count >= n * 16 && scores.count >= n,
                     "expected \(n)×16 regressors and \(n) scores")
        return (0..<n).compactMap { i in decodeAnchor(i, logit: scores[i], regressors: regressors[(i * 16)..<(i * 16 + 16)]) }
    }

    /// The detection of anchor `i` from its score logit and 16 regressors, or nil below `minScore`
    /// (or with a box of no size).
    func decodeAnchor(_ i: Int, logit raw: Float, regressors reg: ArraySlice<Float>) -> FaceDetection? {
        let logit = min(max(Double(raw), -settings.scoreClip), settings.scoreClip)
        let score = 1 / (1 + exp(-logit))
        if score < settings.minScore { return nil }
        let sx = Double(inputWidth), sy = Double(inputHeight)
        let a = anchors[i], r = reg.startIndex
        // Offsets are in input pixels relative to the anchor centre; sizes relative to the anchor size.
        let cx = Double(reg[r]) / sx * a.width + a.xCenter
        let cy = Double(reg[r + 1]) / sy * a.height + a.yCenter
        let w = Double(reg[r + 2]) / sx * a.width
        let h = Double(reg[r + 3]) / sy * a.height
        if !(w > 0 && h > 0) { return nil }   // MediaPipe rejects negative sizes as invalid
        var kps: [Point2] = []
        kps.reserveCapacity(6)
        for k in 0..<6 {
            kps.append(Point2(Double(reg[r + 4 + 2 * k]) / sx * a.width + a.xCenter,
                              Double(reg[r + 5 + 2 * k]) / sy * a.height + a.yCenter))
        }
        return FaceDetection(box: Rect(center: Point2(cx, cy), width: w, height: h), keypoints: kps, score: score)
    }

    /// The logit below which no anchor can pass `minScore`, a little low so that rounding never
    /// drops one (`decodeAnchor` applies the exact test): the threshold for reading rows back.
    public var logitThreshold: Float {
        let p = settings.minScore
        if p <= 0 { return -Float.greatestFiniteMagnitude }
        if p >= 1 { return Float(settings.scoreClip) - 1e-3 }
        return Float(log(p / (1 - p))) - 1e-3
    }

    /// Detections (after weighted NMS) from the rows whose logit passed `logitThreshold`: row =
    /// anchor index, score = logit, values = its 16 regressors.
    public func decode(rows: [ScoredRow]) -> [FaceDetection] {
        let all = rows.compactMap { r -> FaceDetection? in
            guard r.row < anchors.count, r.values.count >= 16 else { return nil }
            return decodeAnchor(r.row, logit: r.score, regressors: r.values[0..<16])
        }
        return Self.weightedNMS(all, iouThreshold: settings.nmsIoU)
    }

    /// decodeAll + weighted NMS: the detector's final output, normalised to the network input.
    public func decode(regressors: [Float], scores: [Float]) -> [FaceDetection] {
        Self.weightedNMS(decodeAll(regressors: regressors, scores: scores), iouThreshold: settings.nmsIoU)
    }

    /// MediaPipe's WEIGHTED non-maximum suppression: the best remaining detection absorbs every
    /// detection overlapping it by IoU > threshold; its box and keypoints become the score-weighted
    /// mean of the absorbed ones (which stabilises boxes between frames); its score stays the best.
    public static func weightedNMS(_ detections: [FaceDetection], iouThreshold: Double) -> [FaceDetection] {
        var remaining = detections.sorted { $0.score > $1.score }
        var out: [FaceDetection] = []
        while let top = remaining.first {
            var absorbed: [FaceDetection] = []
            var kept: [FaceDetection] = []
            for d in remaining {
                if top.box.iou(d.box) > iouThreshold || d == top { absorbed.append(d) } else { kept.append(d) }
            }
            var wsum = 0.0
            var b = (0.0, 0.0, 0.0, 0.0)
            var kps = [Point2](repeating: .zero, count: top.keypoints.count)
            for d in absorbed {
                let w = d.score
                wsum += w
                b.0 += w * d.box.minX; b.1 += w * d.box.minY; b.2 += w * d.box.maxX; b.3 += w * d.box.maxY
                for k in 0..<min(kps.count, d.keypoints.count) { kps[k] += w * d.keypoints[k] }
            }
            out.append(FaceDetection(box: Rect(minX: b.0 / wsum, minY: b.1 / wsum, maxX: b.2 / wsum, maxY: b.3 / wsum),
                                     keypoints: kps.map { $0 / wsum }, score: top.score))
            remaining = kept
        }
        return out
    }
}

/// Fit-inside letterbox of a frame into a square (or any) network input, keeping aspect ratio and
/// padding equally on both sides (MediaPipe ImageToTensorCalculator keep_aspect_ratio).
public struct Letterbox: Equatable, Sendable {
    public let frameWidth: Double, frameHeight: Double
    public let inputWidth: Double, inputHeight: Double
    /// Input pixels per frame pixel.
    public let scale: Double
    public let padX: Double, padY: Double

    public init(frameWidth: Double, frameHeight: Double, inputWidth: Double = 128, inputHeight: Double = 128) {
        self.frameWidth = frameWidth; self.frameHeight = frameHeight
        self.inputWidth = inputWidth; self.inputHeight = inputHeight
        scale = min(inputWidth / frameWidth, inputHeight / frameHeight)
        padX = (inputWidth - frameWidth * scale) / 2
        padY = (inputHeight - frameHeight * scale) / 2
    }

    /// Frame pixels → input pixels.
    public var frameToInput: Affine2D {
        Affine2D(rowMajor: [scale, 0, padX, 0, scale, padY, 0, 0, 1])
    }
    /// Input pixels → frame pixels.
    public var inputToFrame: Affine2D { frameToInput.inverse }
    /// Normalised input [0,1] → frame pixels (what decoded detections need).
    public var normalizedToFrame: Affine2D {
        inputToFrame.concatenating(.scale(inputWidth, inputHeight))
    }
    /// The square source region in frame pixels (extends past the frame on the short side = padding).
    public var sourceRect: Rect {
        Rect(x: -padX / scale, y: -padY / scale, width: inputWidth / scale, height: inputHeight / scale)
    }
}

/// A square region of the frame fed to the detector. The GPU letterbox shader samples `source`
/// (frame pixels; may extend past the frame edge, fill outside with black) into an inputSize² image.
public struct DetectionTile: Equatable, Sendable {
    public var source: Rect
    public var inputSize: Int
    /// Pyramid level (0 = finest tiles; the last level is the whole frame letterboxed).
    public var level: Int

    /// Frame pixels → tile input pixels.
    public var frameToInput: Affine2D {
        let s = Double(inputSize) / source.width
        return Affine2D(rowMajor: [s, 0, -source.minX * s, 0, s, -source.minY * s, 0, 0, 1])
    }
    /// Normalised tile input [0,1] → frame pixels.
    public var normalizedToFrame: Affine2D {
        Affine2D(rowMajor: [source.width, 0, source.minX, 0, source.height, source.minY, 0, 0, 1])
    }
}

public enum DetectionTiling {
    /// Multi-scale tiles for a W×H frame: the whole frame letterboxed, plus finer levels of
    /// overlapping square tiles whose sides double from `minFace·inputSize/minFaceInInput` up to
    /// the frame's short side. A face of size ≥ minFace is ≥ minFaceInInput px in the input of some
    /// tile, and (thanks to the overlap) lies wholly inside that tile.
    public static func tiles(frameWidth W: Double, frameHeight H: Double, inputSize: Int = 128,
                             minFace: Double = 48, settings: FaceSettings.Detector = .init()) -> [DetectionTile] {
        let n = Double(inputSize)
        var out: [DetectionTile] = []
        var side = minFace * n / settings.minFaceInInput
        var level = 0
        let levelFactor = 2.0
        while side < min(W, H) {
            // The largest face this level must hold whole is the smallest the next level sees well.
            let nextMinFace = side * levelFactor * settings.minFaceInInput / n
            let overlap = max(settings.tileOverlap * side, 1.15 * nextMinFace)
            let xs = positions(extent: W, side: side, overlap: overlap)
            let ys = positions(extent: H, side: side, overlap: overlap)
            for y in ys { for x in xs {
                out.append(DetectionTile(source: Rect(x: x, y: y, width: side, height: side),
                                         inputSize: inputSize, level: level))
            } }
            side *= levelFactor
            level += 1
        }
        let lb = Letterbox(frameWidth: W, frameHeight: H, inputWidth: n, inputHeight: n)
        out.append(DetectionTile(source: lb.sourceRect, inputSize: inputSize, level: level))
        return out
    }

    /// Evenly spread tile origins covering [0, extent] with at least `overlap` between neighbours.
    static func positions(extent: Double, side: Double, overlap: Double) -> [Double] {
        if side >= extent { return [(extent - side) / 2] }
        let count = Int(((extent - side) / max(1, side - overlap)).rounded(.up)) + 1
        if count == 1 { return [0] }
        let step = (extent - side) / Double(count - 1)
        return (0..<count).map { Double($0) * step }
    }

    /// Maps each tile's normalised detections to frame pixels and merges them: detections cut by a
    /// tile edge that lies inside the frame are dropped (the overlap guarantees a neighbour sees the
    /// face whole), then weighted NMS across tiles.
    public static func merge(tileDetections: [(tile: DetectionTile, detections: [FaceDetection])],
                             frameWidth W: Double, frameHeight H: Double,
                             settings: FaceSettings.Detector = .init()) -> [FaceDetection] {
        var all: [FaceDetection] = []
        for (tile, dets) in tileDetections {
            let t = tile.normalizedToFrame
            let s = tile.source
            let margin = 0.01 * s.width
            for d in dets {
                let f = d.mapped(t)
                let b = f.box
                let cutLeft = b.minX < s.minX + margin && s.minX > 0.5
                let cutTop = b.minY < s.minY + margin && s.minY > 0.5
                let cutRight = b.maxX > s.maxX - margin && s.maxX < W - 0.5
                let cutBottom = b.maxY > s.maxY - margin && s.maxY < H - 0.5
                if cutLeft || cutTop || cutRight || cutBottom { continue }
                all.append(f)
            }
        }
        return DetectionDecoder.weightedNMS(all, iouThreshold: settings.crossTileIoU)
    }
}
