// What a face looks like, for telling people apart across a clip (TrackLinker): the geometry of its
// landmarks (`FaceLandmarks.shapeDescriptor`, in eye distances) and the colours of the face itself
// (a 16×16 crop aligned on the eyes, rendered on the GPU: skin tone, hair line, glasses, beard),
// averaged over a tracklet so expressions and head turns average out. No face-embedding network
// with a licence that allows shipping it was at hand; how well this separates people is measured
// in TrackLinkerTests and the README.

import Foundation

public struct FaceAppearance: Sendable, Equatable {
    /// Side of the aligned face crop (pixels).
    public static let cropSide = 16
    /// The colour descriptor pools the crop into grid × grid cells.
    static let grid = 4

    /// `FaceLandmarks.shapeDescriptor` (IOD units), averaged.
    public var shape: [Double]
    /// Mean chromaticity-and-brightness of each grid cell (see `colourDescriptor`), averaged.
    public var colour: [Double]
    /// Face-frames averaged in.
    public var weight: Double

    public init(shape: [Double], colour: [Double], weight: Double = 1) {
        self.shape = shape; self.colour = colour; self.weight = weight
    }

    public static let empty = FaceAppearance(shape: [], colour: [], weight: 0)

    /// The running mean of two appearances.
    public func merged(with o: FaceAppearance) -> FaceAppearance {
        guard o.weight > 0 else { return self }
        guard weight > 0 else { return o }
        func mix(_ a: [Double], _ b: [Double]) -> [Double] {
            guard a.count == b.count else { return a.isEmpty ? b : a }
            let w = weight / (weight + o.weight)
            return zip(a, b).map { w * $0 + (1 - w) * $1 }
        }
        return FaceAppearance(shape: mix(shape, o.shape), colour: mix(colour, o.colour), weight: weight + o.weight)
    }

    /// Scales that make the two parts comparable: shape differs by ~0.01 IOD for one face under other
    /// scales, tilts and exposures (AppearanceTests), but a head turn or the perspective of another place
    /// in the picture moves it by up to ~0.1 (TrackerTests), so it weighs little; colour RMS ~0.01–0.02
    /// for one face, ~0.07 against other skin and hair hues.
    static let shapeScale = 0.25
    static let colourScale = 0.12

    /// 0 for the same look; measured 0.06–0.19 for one face seen differently and 0.35–0.49 against the
    /// same face mirrored with other hues (`FaceSettings.Linking.maxAppearanceDistance` lies between). Infinity when either is empty.
    public static func distance(_ a: FaceAppearance, _ b: FaceAppearance) -> Double {
        guard a.weight > 0, b.weight > 0 else { return .infinity }
        let s = FaceLandmarks.descriptorDistance(a.shape, b.shape)
        var c = 0.0
        if a.colour.count == b.colour.count, !a.colour.isEmpty {
            for i in a.colour.indices { c += (a.colour[i] - b.colour[i]) * (a.colour[i] - b.colour[i]) }
            c = (c / Double(a.colour.count)).squareRoot()
        } else {
            c = .infinity
        }
        let shape = s.isFinite ? s / shapeScale : 0
        return (shape * shape + (c / colourScale) * (c / colourScale)).squareRoot() / 2.squareRoot()
    }

    /// Colour descriptor of an aligned face crop (`cropSide`² RGB values in 0...1, row-major): per
    /// grid cell the mean r/(r+g+b), g/(r+g+b) (light-colour independent) and the brightness relative
    /// to the whole crop's (exposure independent).
    public static func colourDescriptor(rgb: [Float]) -> [Double] {
        let side = cropSide, cell = side / grid
        var total = 0.0
        for v in rgb { total += Double(v) }
        let meanBrightness = max(total / Double(max(rgb.count, 1)), 1e-3)
        var out: [Double] = []
        for gy in 0..<grid {
            for gx in 0..<grid {
                var r = 0.0, g = 0.0, b = 0.0
                for y in gy * cell ..< (gy + 1) * cell {
                    for x in gx * cell ..< (gx + 1) * cell {
                        let o = (y * side + x) * 3
                        r += Double(rgb[o]); g += Double(rgb[o + 1]); b += Double(rgb[o + 2])
                    }
                }
                let sum = max(r + g + b, 1e-6)
                let n = Double(cell * cell)
                out += [r / sum, g / sum, (sum / (3 * n)) / meanBrightness / 4]
            }
        }
        return out
    }

    /// The aligned face square the colour crop covers: the eye-aligned landmark ROI shrunk to the
    /// face (the ROI is 1.5× the face box).
    public static func cropROI(landmarks: [Point], roiSettings: FaceSettings.ROI) -> FaceROI {
        let roi = FaceROI(landmarks: landmarks, settings: roiSettings)
        return FaceROI(center: roi.center, size: roi.size / roiSettings.landmarksScale, rotation: roi.rotation)
    }
}
