// SSD anchors for BlazeFace, generated the way MediaPipe's SsdAnchorsCalculator does
// (mediapipe/calculators/tflite/ssd_anchors_calculator.cc, options from
// mediapipe/modules/face_detection/face_detection_short_range_common.pbtxt and
// face_detection_full_range_common.pbtxt). Our own implementation of those rules.

import Foundation

/// One anchor in normalised [0,1] coordinates of the network input.
public struct Anchor: Equatable, Sendable {
    public var xCenter: Double, yCenter: Double, width: Double, height: Double
}

/// Options of an SSD anchor grid (names follow SsdAnchorsCalculatorOptions).
public struct AnchorOptions: Sendable {
    public var inputWidth: Int
    public var inputHeight: Int
    public var numLayers: Int
    public var minScale: Double
    public var maxScale: Double
    public var anchorOffsetX: Double = 0.5
    public var anchorOffsetY: Double = 0.5
    public var strides: [Int]
    public var aspectRatios: [Double] = [1.0]
    /// BlazeFace regresses box sizes relative to a unit anchor, so width = height = 1.
    public var fixedAnchorSize: Bool = true
    /// > 0 adds one extra anchor per layer (scale sqrt(s_i·s_{i+1})); MediaPipe's default is 1.0.
    public var interpolatedScaleAspectRatio: Double = 1.0

    /// face_detection_short_range_common.pbtxt: 128×128, 4 layers, strides 8,16,16,16 → 896 anchors.
    public static let blazeFaceShortRange = AnchorOptions(
        inputWidth: 128, inputHeight: 128, numLayers: 4, minScale: 0.1484375, maxScale: 0.75,
        strides: [8, 16, 16, 16])

    /// face_detection_full_range_common.pbtxt: 192×192, 1 layer, stride 4, no interpolated anchor → 2304 anchors.
    public static let blazeFaceFullRange = AnchorOptions(
        inputWidth: 192, inputHeight: 192, numLayers: 1, minScale: 0.1484375, maxScale: 0.75,
        strides: [4], interpolatedScaleAspectRatio: 0.0)
}

public enum Anchors {
    /// Linear scale interpolation between min and max scale over the layers (SSD paper's s_k).
    static func scale(_ minScale: Double, _ maxScale: Double, _ index: Int, _ count: Int) -> Double {
        count == 1 ? (minScale + maxScale) / 2
                   : minScale + (maxScale - minScale) * Double(index) / Double(count - 1)
    }

    /// Anchors in the order the network emits its boxes: per group of consecutive layers with the
    /// same stride, rows (y) outer, columns (x) inner, then the anchors of one cell.
    public static func generate(_ o: AnchorOptions) -> [Anchor] {
        precondition(o.strides.count == o.numLayers, "one stride per layer")
        var anchors: [Anchor] = []
        var layer = 0
        while layer < o.numLayers {
            // Layers sharing a stride share one feature map; their anchors interleave per cell.
            var sizes: [(w: Double, h: Double)] = []
            var last = layer
            while last < o.numLayers && o.strides[last] == o.strides[layer] {
                let s = scale(o.minScale, o.maxScale, last, o.numLayers)
                for r in o.aspectRatios {
                    sizes.append((s * sqrt(r), s / sqrt(r)))
                }
                if o.interpolatedScaleAspectRatio > 0 {
                    let next = last == o.numLayers - 1 ? 1.0 : scale(o.minScale, o.maxScale, last + 1, o.numLayers)
                    let si = sqrt(s * next), r = o.interpolatedScaleAspectRatio
                    sizes.append((si * sqrt(r), si / sqrt(r)))
                }
                last += 1
            }
            let stride = o.strides[layer]
            let fh = Int((Double(o.inputHeight) / Double(stride)).rounded(.up))
            let fw = Int((Double(o.inputWidth) / Double(stride)).rounded(.up))
            for y in 0..<fh {
                for x in 0..<fw {
                    let cx = (Double(x) + o.anchorOffsetX) / Double(fw)
                    let cy = (Double(y) + o.anchorOffsetY) / Double(fh)
                    for sz in sizes {
                        anchors.append(o.fixedAnchorSize
                            ? Anchor(xCenter: cx, yCenter: cy, width: 1, height: 1)
                            : Anchor(xCenter: cx, yCenter: cy, width: sz.w, height: sz.h))
                    }
                }
            }
            layer = last
        }
        return anchors
    }
}
