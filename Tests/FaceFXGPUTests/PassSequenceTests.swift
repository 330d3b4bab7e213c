// PassSequence's memory barriers: one before a dispatch that reads what an unsynchronised dispatch
// wrote (read after write), or overwrites what a pass since the last barrier read (write after read)
// or wrote; none between independent dispatches. The values prove the ordering held.
import XCTest
@testable import FaceFXGPU

final class PassSequenceTests: XCTestCase {
    func testBarriersOnlyWhereAPassDependsOnAnother() throws {
        let c = try sharedContext()
        let programs = ProgramCache(context: c)
        // o = a * u_scale + u_add, texel by texel.
        let affine = try programs.computeProgram(key: "test:affine", passBody: """
            uniform highp sampler2D u_a;
            uniform float u_scale;
            uniform float u_add;
            vec4 o_value;
            void main() { o_value = texelFetch(u_a, passTexel, 0) * u_scale + vec4(u_add); }
            """, defines: [:], imageFormat: .rgba32f)
        func texture() throws -> Texture { try Texture(context: c, width: 3, height: 2, format: .rgba32f) }
        let x = try texture(), a = try texture(), b = try texture(), d = try texture(), e = try texture()
        try x.upload(floats: [Float](repeating: 1, count: 24))
        let seq = PassSequence(context: c)
        func pass(_ from: Texture, _ to: Texture, _ scale: Float, _ add: Float) throws {
            try seq.appendDispatch(program: affine, target: to, inputs: [PassInput("u_a", from)],
                                   uniforms: ["u_scale": .float(scale), "u_add": .float(add)])
        }
        try pass(x, a, 1, 1)   // a = 2: reads x only
        try pass(x, b, 1, 2)   // b = 3: independent of the first, no barrier
        try pass(a, d, 10, 0)  // d = 20: reads a (read after write): barrier
        try pass(b, x, 1, 4)   // x = 7: overwrites x, read before the last barrier only: no barrier
        try pass(b, a, 1, 1)   // a = 4: overwrites a, which the third pass read since (write after read): barrier
        try pass(a, e, 2, 0)   // e = 8: reads a, written since the last barrier: barrier
        XCTAssertEqual(seq.barrierCount, 3)
        try seq.run()
        for (t, v) in [(a, Float(4)), (b, 3), (d, 20), (x, 7), (e, 8)] {
            let values = try Framebuffer(context: c, color: t).readFloats()
            XCTAssertEqual(Set(values), [v])
        }
    }
}
