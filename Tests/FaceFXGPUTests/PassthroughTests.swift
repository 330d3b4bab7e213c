import XCTest
@testable import FaceFXGPU

/// The no-filter path must hand the encoder exactly the decoder's samples.
final class PassthroughTests: XCTestCase {
    func testCopyIsExactForOddSizesAndPaddedStrides() throws {
        let ctx = try sharedContext()
        // From the decoder's memory (the llvmpipe default) and staged through pixel-unpack buffers (hardware).
        for staged in [false, true] {
        let pass = FramePassthrough(context: ctx)
        pass.stagedUpload = staged
        for (w, h) in [(641, 359), (1280, 720), (66, 34)] {
            var rng = TestRNG(seed: UInt64(w * 1000 + h))
            let cw = (w + 1) / 2, ch = (h + 1) / 2
            // Decoder-like strides: rounded up to 64 with junk in the padding.
            let ys = (w + 63) & ~63, cs = (cw + 63) & ~63
            var yb = (0..<(ys * h)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var ub = (0..<(cs * ch)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var vb = (0..<(cs * ch)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let layout = I420Layout(width: w, height: h)
            var out = [UInt8](repeating: 0xAA, count: layout.byteCount)
            try yb.withUnsafeMutableBytes { y in try ub.withUnsafeMutableBytes { u in try vb.withUnsafeMutableBytes { v in
                try out.withUnsafeMutableBytes { o in
                    try pass.copy(y: YUVPlane(base: y.baseAddress!, bytesPerRow: ys, width: w, height: h),
                                  u: YUVPlane(base: u.baseAddress!, bytesPerRow: cs, width: cw, height: ch),
                                  v: YUVPlane(base: v.baseAddress!, bytesPerRow: cs, width: cw, height: ch),
                                  format: .yuv420p(), layout: layout, into: o.baseAddress!)
                }
            } } }
            for row in 0..<h {
                XCTAssertEqual(Array(out[(row * layout.stride)..<(row * layout.stride + w)]),
                               Array(yb[(row * ys)..<(row * ys + w)]), "Y row \(row) of \(w)x\(h)")
            }
            for row in 0..<ch {
                let uo = layout.uOffset + row * layout.uvStride, vo = layout.vOffset + row * layout.uvStride
                XCTAssertEqual(Array(out[uo..<(uo + cw)]), Array(ub[(row * cs)..<(row * cs + cw)]), "U row \(row)")
                XCTAssertEqual(Array(out[vo..<(vo + cw)]), Array(vb[(row * cs)..<(row * cs + cw)]), "V row \(row)")
            }
        }
        // Load-time allocation only: a second frame of the same size creates nothing.
        let before = ctx.debugCounters.totalCreated
        let layout = I420Layout(width: 66, height: 34)
        var y = [UInt8](repeating: 16, count: 64 * 2 * 34), c = [UInt8](repeating: 128, count: 64 * 17)
        var out = [UInt8](repeating: 0, count: layout.byteCount)
        try y.withUnsafeMutableBytes { yp in try c.withUnsafeMutableBytes { cp in try out.withUnsafeMutableBytes { o in
            let cplane = YUVPlane(base: cp.baseAddress!, bytesPerRow: 64, width: 33, height: 17)
            try pass.copy(y: YUVPlane(base: yp.baseAddress!, bytesPerRow: 128, width: 66, height: 34), u: cplane, v: cplane,
                          format: .yuv420p(), layout: layout, into: o.baseAddress!)
        } } }
        XCTAssertEqual(ctx.debugCounters.totalCreated, before)
        }
    }
}
