// ShotCutDetector on synthetic 32×32 thumbnails: a hard switch between two scenes is a cut on exactly
// its frame; a pan, a slow fade to black and sensor noise are not. (Real cuts between real faces:
// OfflineTrackingCLITests.)
import XCTest
@testable import FaceFXFace

final class ShotCutTests: XCTestCase {
    let side = ShotCutDetector.side

    /// A scene: smooth colour bands shifted by `offset` pixels, scaled by `gain`, plus noise.
    func scene(_ kind: Int, offset: Double = 0, gain: Float = 1, noise: inout TestSupport.Noise) -> [Float] {
        var out = [Float](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let u = (Double(x) + offset) / Double(side), v = Double(y) / Double(side)
                let rgb: [Double] = kind == 0 ? [0.3 + 0.4 * u, 0.5 - 0.2 * v, 0.2 + 0.1 * sin(6 * u)]
                                              : [0.8 - 0.5 * v, 0.2 + 0.2 * cos(5 * u), 0.7 - 0.3 * u]
                for c in 0..<3 {
                    out[(y * side + x) * 3 + c] = min(1, max(0, gain * Float(rgb[c] + 0.01 * noise.gaussian())))
                }
            }
        }
        return out
    }

    func cuts(_ frames: [[Float]]) -> [Int] {
        let d = ShotCutDetector()
        return frames.enumerated().filter { d.isCut(rgb: $0.element) }.map(\.offset)
    }

    func testHardSwitchIsACutPanFadeAndNoiseAreNot() {
        var noise = TestSupport.Noise(seed: 3)
        // 20 frames panning scene 0, then scene 1 panning: one cut, on frame 20.
        let switched = (0..<40).map { k in scene(k < 20 ? 0 : 1, offset: Double(k) * 0.7, noise: &noise) }
        XCTAssertEqual(cuts(switched), [20])
        // Scene 0 fading to black over 20 frames, then held: no cut.
        let fade = (0..<30).map { k in scene(0, gain: max(0, 1 - Float(k) / 20), noise: &noise) }
        XCTAssertEqual(cuts(fade), [])
        // Still scene with noise: no cut.
        XCTAssertEqual(cuts((0..<30).map { _ in scene(1, noise: &noise) }), [])
    }
}
