// Per-filter GPU time at 1080p (opt-in: FACEFX_BENCH=1): the astronaut face scaled to a 1080p
// frame (face ≈ 460 px tall), 2 warm-up frames, then the mean of 10 frames with glFinish.
import FaceFXFace
import FaceFXGPU
import FaceFXOverlay
import XCTest

final class OverlayBenchTests: XCTestCase {
    func testTimingsAt1080p() throws {
        guard ProcessInfo.processInfo.environment["FACEFX_BENCH"] != nil else { throw XCTSkip("FACEFX_BENCH not set") }
        let ctx = try Fixture.gpu()
        let (w, h) = (1920, 1080)
        var face = Fixture.astronautFace
        let k = 1080.0 / 512 * 2
        face.landmarks = face.landmarks.map { Point(($0.x - 224) * k + 960, ($0.y - 130) * k + 540, $0.z * k) }
        face.blendshapes["jawOpen"] = 0.6
        var rng: UInt64 = 1
        let pixels = (0..<(w * h * 4)).map { i -> UInt8 in
            if i % 4 == 3 { return 255 }
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: (rng >> 33) % 64 + 96)
        }
        let t = try Texture(context: ctx, width: w, height: h, format: .rgba8)
        let fb = try Framebuffer(context: ctx, color: t)
        try t.upload(bytes: pixels)
        var lines: [String] = ["overlay 1080p (\(ctx.renderer)), ms per frame:"]
        for name in RenderTests.builtIns + ["all"] {
            let r = try Fixture.renderer(name == "all" ? RenderTests.builtIns : [name])
            for i in 0..<2 { try r.render(into: fb, width: w, height: h, faces: [face], time: Double(i)) }
            ctx.finish()
            let n = 10
            let start = Date()
            for i in 0..<n { try r.render(into: fb, width: w, height: h, faces: [face], time: Double(i + 2) / 30); ctx.finish() }
            lines.append(String(format: "  %-10@ %6.2f", name as NSString, Date().timeIntervalSince(start) / Double(n) * 1000))
        }
        print(lines.joined(separator: "\n"))
    }
}
