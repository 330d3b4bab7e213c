import FaceFXOverlay
import XCTest

/// Writes renders for looking at (FACEFX_DUMP=dir); skipped otherwise.
final class RenderDumpTests: XCTestCase {
    func testDumpAll() throws {
        guard ProcessInfo.processInfo.environment["FACEFX_DUMP"] != nil else { throw XCTSkip("FACEFX_DUMP not set") }
        for name in ["mask", "glasses", "dog", "anonymize", "pixelate", "lipstick", "debug", "crown"] {
            let r = try Fixture.renderer([name])
            var face = Fixture.astronautFace
            face.blendshapes["jawOpen"] = 0.8
            _ = try Fixture.render(r, faces: [face], time: 0, dump: name + "_0")
            _ = try Fixture.render(r, faces: [face], time: 1, dump: name)
            let turned = [-50.0, -25, 0, 25, 50].enumerated().map { k, yaw in
                Fixture.syntheticFace(id: k, center: SIMD2(60 + Double(k) * 98, 256), iod: 40, yaw: yaw, pitch: 5)
            }
            let grey = RGBAImage(width: 512, height: 512, pixels: [UInt8](repeating: 128, count: 512 * 512 * 4))
            _ = try Fixture.render(r, image: grey, faces: turned, time: 1, dump: name + "_yaw")
        }
    }
}
