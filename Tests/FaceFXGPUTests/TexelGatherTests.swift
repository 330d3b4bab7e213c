// TexelGather: float textures (RGBA32F and RGBA16F) read back through one storage buffer give exactly
// what glReadPixels gives, whole or their first rows, several at once.
import XCTest
@testable import FaceFXGPU

final class TexelGatherTests: XCTestCase {
    func testGatherEqualsReadPixels() throws {
        let c = try sharedContext()
        var rng = TestRNG(seed: 7)
        func texture(_ w: Int, _ h: Int, _ format: TextureFormat) throws -> Framebuffer {
            let t = try Texture(context: c, width: w, height: h, format: format)
            // Values fp16 holds exactly: multiples of 1/64 within ±32.
            try t.upload(floats: (0..<(w * h * 4)).map { _ in Float(rng.int(-2048...2048)) / 64 })
            return try Framebuffer(context: c, color: t)
        }
        let a = try texture(7, 5, .rgba32f), b = try texture(13, 3, .rgba16f), d = try texture(1, 9, .rgba32f)
        let gather = TexelGather(context: c, programs: ProgramCache(context: c))
        let got = try gather.read([(a.color, nil), (b.color, 2), (d.color, 0), (d.color, 9)])
        XCTAssertEqual(got[0], try a.readFloats())
        XCTAssertEqual(got[1], try b.readFloats(height: 2))
        XCTAssertEqual(got[2], [])
        XCTAssertEqual(got[3], try d.readFloats())
        // The buffer is reused for a smaller read and grows for a larger one.
        XCTAssertEqual(try gather.read([(b.color, nil)])[0], try b.readFloats())
        let big = try texture(64, 40, .rgba32f)
        XCTAssertEqual(try gather.read([(big.color, nil)])[0], try big.readFloats())
        XCTAssertThrowsError(try gather.read([(a.color, 6)]), "more rows than the texture has")
    }
}
