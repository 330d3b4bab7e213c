// Shot cuts from a 32×32 RGB thumbnail of each frame (rendered on the GPU by the crop shader, 12 KB
// read back): a cut changes both where things are (mean absolute thumbnail difference) and which
// colours are there (4×4×4-bin colour histogram distance), and far more than the frames before it
// changed (camera motion and flicker raise the first measure, a moving face barely the second).
// In the spirit of PySceneDetect's adaptive content detector; values measured on the test clips.

import Foundation

public struct ShotCutSettings: Sendable {
    /// Half the L1 distance of the normalised colour histograms (0 = same colours, 1 = disjoint).
    public var minHistogramDistance: Double = 0.25
    /// Mean absolute difference of the thumbnails (values 0...1).
    public var minPixelDistance: Double = 0.06
    /// ... and at least this many times the mean pixel difference of the previous `historyFrames`.
    public var adaptiveRatio: Double = 3.0
    public var historyFrames: Int = 15
    public init() {}
}

/// Decides, frame by frame, whether a frame starts a new shot. Frames must come in order; `reset()`
/// between clips.
public final class ShotCutDetector {
    /// Thumbnail side (pixels); the thumbnail is the whole frame, squeezed to a square.
    public static let side = 32
    public let settings: ShotCutSettings
    private var previous: [Float]?
    private var previousHistogram: [Double] = []
    private var history: [Double] = []

    public init(settings: ShotCutSettings = .init()) { self.settings = settings }

    public func reset() { previous = nil; previousHistogram = []; history = [] }

    /// `rgb`: side × side pixels, 3 values each in 0...1 (row-major). True when this frame starts a new shot
    /// (never the first frame).
    public func isCut(rgb: [Float]) -> Bool {
        precondition(rgb.count == Self.side * Self.side * 3, "thumbnail of \(rgb.count) values")
        let histogram = Self.histogram(rgb)
        defer { previous = rgb; previousHistogram = histogram }
        guard let previous else { return false }
        var sum = 0.0
        for i in rgb.indices { sum += Double(abs(rgb[i] - previous[i])) }
        let pixel = sum / Double(rgb.count)
        let colours = 0.5 * zip(histogram, previousHistogram).reduce(0) { $0 + abs($1.0 - $1.1) }
        let usual = history.isEmpty ? 0 : history.reduce(0, +) / Double(history.count)
        let cut = pixel >= settings.minPixelDistance && colours >= settings.minHistogramDistance
            && pixel >= settings.adaptiveRatio * usual
        // A cut restarts the history: the new shot's own motion is what later frames are compared with.
        if cut { history = [] } else {
            history.append(pixel)
            if history.count > settings.historyFrames { history.removeFirst() }
        }
        return cut
    }

    static func histogram(_ rgb: [Float]) -> [Double] {
        var h = [Double](repeating: 0, count: 64)
        let n = rgb.count / 3
        for p in 0..<n {
            func bin(_ v: Float) -> Int { min(3, max(0, Int(v * 4))) }
            h[bin(rgb[3 * p]) * 16 + bin(rgb[3 * p + 1]) * 4 + bin(rgb[3 * p + 2])] += 1
        }
        return h.map { $0 / Double(max(n, 1)) }
    }
}
