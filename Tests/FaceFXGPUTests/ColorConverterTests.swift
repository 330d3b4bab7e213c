import XCTest
@testable import FaceFXGPU

final class ColorConverterTests: XCTestCase {
    struct Outcome {
        var vsReference: [ErrorStats]  // Y, U, V: GPU I420 against the CPU reference pipeline
        var vsInput: [ErrorStats]      // Y, U, V: GPU I420 against the input (scaled to 8 bits)
        var frameRGB: ErrorStats       // frame texture against reference RGB, sampled pixels
    }

    private static var converters: [String: FrameColorConverter] = [:]

    func converter(_ settings: ColorConverterSettings = ColorConverterSettings()) throws -> FrameColorConverter {
        let key = "\(settings)"
        if let c = Self.converters[key] { return c }
        let c = try FrameColorConverter(context: sharedContext(), settings: settings)
        Self.converters[key] = c
        return c
    }

    /// Uploads, converts, packs and reads back one frame; compares with the reference.
    func run(_ frame: PlanarFrame, settings: ColorConverterSettings = ColorConverterSettings(),
             file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let conv = try converter(settings)
        let layout = I420Layout.forFrame(width: frame.width, height: frame.height)
        var out = [UInt8](repeating: 0xEE, count: layout.byteCount)
        let texture = try frame.withPlanes { y, u, v in try conv.upload(y: y, u: u, v: v, format: frame.format) }
        try out.withUnsafeMutableBytes { try conv.readI420(from: texture, layout: layout, into: $0.baseAddress!) }

        let rgb = ColorReference.rgb8(frame)
        let ref = ColorReference.i420(rgb: rgb, width: frame.width, height: frame.height, matrix: frame.format.matrix,
                                      fullRange: frame.format.fullRange, left: settings.outputChromaLocation == .left)
        var vsRef = [ErrorStats](repeating: ErrorStats(), count: 3), vsIn = vsRef
        let shift = frame.format.bitDepth - 8
        func inputCode(_ c: Int) -> Int { shift == 0 ? c : (c + (1 << (shift - 1))) >> shift }
        var paddingNonZero = 0
        for y in 0..<frame.height {
            for x in 0..<layout.stride {
                let got = Int(out[y * layout.stride + x])
                if x >= frame.width { if got != 0 { paddingNonZero += 1 }; continue }
                vsRef[0].add(got, Int(ref.y[y * frame.width + x]))
                vsIn[0].add(got, inputCode(frame.y[y * frame.width + x]))
            }
        }
        let is420 = frame.format.chromaShiftX == 1 && frame.format.chromaShiftY == 1
        for (p, base) in [(1, layout.uOffset), (2, layout.vOffset)] {
            let refPlane = p == 1 ? ref.u : ref.v
            let inPlane = p == 1 ? frame.u : frame.v
            for y in 0..<layout.uvHeight {
                for x in 0..<layout.uvStride {
                    let got = Int(out[base + y * layout.uvStride + x])
                    if x >= layout.uvWidth { if got != 0 { paddingNonZero += 1 }; continue }
                    vsRef[p].add(got, Int(refPlane[y * layout.uvWidth + x]))
                    if is420 { vsIn[p].add(got, inputCode(inPlane[y * layout.uvWidth + x])) }
                }
            }
        }
        for i in (layout.vOffset + layout.uvStride * layout.uvHeight)..<layout.byteCount where out[i] != 0 { paddingNonZero += 1 }
        XCTAssertEqual(paddingNonZero, 0, "padding bytes must be 0", file: file, line: line)

        // Frame texture: a few hundred sampled pixels plus the corners.
        let frameBytes = try conv.frameTarget!.readRGBA8()
        var rgbStats = ErrorStats()
        var rng = TestRNG(seed: 99)
        var samples = [(0, 0), (frame.width - 1, 0), (0, frame.height - 1), (frame.width - 1, frame.height - 1)]
        for _ in 0..<300 { samples.append((rng.int(0...frame.width - 1), rng.int(0...frame.height - 1))) }
        for (x, y) in samples {
            let g = (y * frame.width + x) * 4, r = (y * frame.width + x) * 3
            for c in 0..<3 { rgbStats.add(Int(frameBytes[g + c]), Int(rgb[r + c])) }
            XCTAssertEqual(frameBytes[g + 3], 255, file: file, line: line)
        }
        return Outcome(vsReference: vsRef, vsInput: vsIn, frameRGB: rgbStats)
    }

    func assertMatchesReference(_ o: Outcome, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for (i, s) in o.vsReference.enumerated() {
            XCTAssertLessThanOrEqual(s.maxAbs, 2, "\(label) plane \(i) vs reference: \(s)", file: file, line: line)
            XCTAssertLessThanOrEqual(s.mean, 0.6, "\(label) plane \(i) vs reference: \(s)", file: file, line: line)
        }
        XCTAssertLessThanOrEqual(o.frameRGB.maxAbs, 1, "\(label) frame RGB: \(o.frameRGB)", file: file, line: line)
    }

    func assertRoundTrips(_ o: Outcome, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for (i, s) in o.vsInput.enumerated() where s.count > 0 {
            XCTAssertLessThanOrEqual(s.maxAbs, 2, "\(label) plane \(i) vs input: \(s)", file: file, line: line)
            XCTAssertLessThanOrEqual(s.mean, 0.6, "\(label) plane \(i) vs input: \(s)", file: file, line: line)
        }
    }

    func testLayoutArithmetic() {
        let l = I420Layout.forFrame(width: 1279, height: 719)
        XCTAssertEqual(l.stride, 1280)
        XCTAssertEqual(l.uvStride, 640)
        XCTAssertEqual(l.uvHeight, 360)
        XCTAssertEqual(l.uOffset, 1280 * 719)
        XCTAssertEqual(l.vOffset, 1280 * 719 + 640 * 360)
        XCTAssertEqual(l.rows, 719 + 360)
        XCTAssertEqual(l.byteCount, 1280 * (719 + 360))
        let odd = I420Layout.forFrame(width: 100, height: 5)  // 3 chroma rows: V starts mid-row
        XCTAssertEqual(odd.stride, 128)
        XCTAssertEqual(odd.byteCount % odd.stride, 0)
        XCTAssertEqual(odd.byteCount, 128 * 5 + 2 * 64 * 3)
    }

    func test420LimitedBT601RandomAndGradient_1279x719() throws {
        let fmt = YUVFrameFormat.yuv420p(matrix: .bt601)
        let r = try run(PlanarFrame(width: 1279, height: 719, format: fmt, pattern: .random, seed: 1))
        assertMatchesReference(r, "601 random")
        let g = try run(PlanarFrame(width: 1279, height: 719, format: fmt, pattern: .gradient, seed: 2))
        assertMatchesReference(g, "601 gradient")
        assertRoundTrips(g, "601 gradient")
    }

    func test420LimitedBT709_641x359() throws {
        let fmt = YUVFrameFormat.yuv420p(matrix: .bt709)
        assertMatchesReference(try run(PlanarFrame(width: 641, height: 359, format: fmt, pattern: .random, seed: 3)), "709 random")
        let g = try run(PlanarFrame(width: 641, height: 359, format: fmt, pattern: .gradient, seed: 4))
        assertMatchesReference(g, "709 gradient")
        assertRoundTrips(g, "709 gradient")
    }

    func testFullRangeAndBT2020() throws {
        for m in [YUVMatrix.bt601, .bt709] {
            let fmt = YUVFrameFormat.yuv420p(matrix: m, fullRange: true)
            assertMatchesReference(try run(PlanarFrame(width: 333, height: 187, format: fmt, pattern: .random, seed: 5)), "\(m) full random")
            let g = try run(PlanarFrame(width: 333, height: 187, format: fmt, pattern: .gradient, seed: 6))
            assertMatchesReference(g, "\(m) full gradient")
            assertRoundTrips(g, "\(m) full gradient")
        }
        let g = try run(PlanarFrame(width: 320, height: 180, format: .yuv420p(matrix: .bt2020), pattern: .gradient, seed: 7))
        assertMatchesReference(g, "2020 gradient")
        assertRoundTrips(g, "2020 gradient")
    }

    func test422And444() throws {
        let f422 = YUVFrameFormat(bitDepth: 8, chromaShiftX: 1, chromaShiftY: 0, matrix: .bt709)
        let f444 = YUVFrameFormat(bitDepth: 8, chromaShiftX: 0, chromaShiftY: 0, matrix: .bt709)
        var planar = ColorConverterSettings()
        planar.interleaveChroma = false
        for (fmt, name) in [(f422, "422"), (f444, "444")] {
            assertMatchesReference(try run(PlanarFrame(width: 321, height: 181, format: fmt, pattern: .random, seed: 8)), "\(name) random")
            assertMatchesReference(try run(PlanarFrame(width: 321, height: 181, format: fmt, pattern: .random, seed: 8), settings: planar),
                                   "\(name) random, planar chroma")
            let g = try run(PlanarFrame(width: 321, height: 181, format: fmt, pattern: .gradient, seed: 9))
            assertMatchesReference(g, "\(name) gradient")
            assertRoundTrips(g, "\(name) gradient")  // luma only (chroma is resampled to 420)
        }
    }

    func test10Bit420() throws {
        let fmt = YUVFrameFormat.yuv420p(matrix: .bt709, bitDepth: 10)
        assertMatchesReference(try run(PlanarFrame(width: 641, height: 359, format: fmt, pattern: .random, seed: 10)), "10-bit random")
        let g = try run(PlanarFrame(width: 641, height: 359, format: fmt, pattern: .gradient, seed: 11))
        assertMatchesReference(g, "10-bit gradient")
        assertRoundTrips(g, "10-bit gradient")  // against input >> 2, rounded
        // Both chroma paths: interleaved RG16UI (default on llvmpipe) and separate planes + gathers.
        var s = ColorConverterSettings()
        s.interleaveChroma = !(try sharedContext().isSoftware)
        assertMatchesReference(try run(PlanarFrame(width: 321, height: 179, format: fmt, pattern: .random, seed: 15), settings: s),
                               "10-bit random, other chroma path")
    }

    /// The conversion as a compute pass (the default on hardware GPUs) against the same reference:
    /// 4:2:0 8-bit with both chroma paths (interleaved RG and textureGather), 4:2:2, 4:4:4, 10-bit.
    func testComputeConvert() throws {
        var s = ColorConverterSettings()
        s.computeConvert = true
        s.stagedUpload = true  // the hardware defaults: staged uploads too
        for interleave in [true, false] {
            s.interleaveChroma = interleave
            let fmt = YUVFrameFormat.yuv420p(matrix: .bt709)
            assertMatchesReference(try run(PlanarFrame(width: 641, height: 359, format: fmt, pattern: .random, seed: 21), settings: s),
                                   "compute 420 random, interleave \(interleave)")
            let g = try run(PlanarFrame(width: 641, height: 359, format: fmt, pattern: .gradient, seed: 22), settings: s)
            assertMatchesReference(g, "compute 420 gradient, interleave \(interleave)")
            assertRoundTrips(g, "compute 420 gradient, interleave \(interleave)")
        }
        s.interleaveChroma = false
        for fmt in [YUVFrameFormat(bitDepth: 8, chromaShiftX: 1, chromaShiftY: 0, matrix: .bt709),
                    YUVFrameFormat(bitDepth: 8, chromaShiftX: 0, chromaShiftY: 0, matrix: .bt601),
                    YUVFrameFormat.yuv420p(matrix: .bt709, bitDepth: 10)] {
            assertMatchesReference(try run(PlanarFrame(width: 321, height: 181, format: fmt, pattern: .random, seed: 23), settings: s),
                                   "compute \(fmt)")
        }
    }

    /// The packing as compute passes into a storage buffer (the default on hardware GPUs): the same
    /// bytes as the fragment passes into the RGBA8 target, for 4:2:0 with odd sizes, both chroma
    /// sitings and both averaging modes, and within the reference's tolerance.
    func testComputePackEqualsFragmentPack() throws {
        let fmt = YUVFrameFormat.yuv420p(matrix: .bt709)
        for (exact, left) in [(true, true), (false, true), (true, false)] {
            var a = ColorConverterSettings(), b = ColorConverterSettings()
            a.computePack = false; b.computePack = true
            a.exactChromaAverage = exact; b.exactChromaAverage = exact
            a.outputChromaLocation = left ? .left : .center; b.outputChromaLocation = a.outputChromaLocation
            let frame = PlanarFrame(width: 643, height: 361, format: fmt, pattern: .random, seed: 31)
            var bytes: [[UInt8]] = []
            for settings in [a, b] {
                let conv = try converter(settings)
                let layout = I420Layout.forFrame(width: frame.width, height: frame.height)
                var out = [UInt8](repeating: 0xEE, count: layout.byteCount)
                let texture = try frame.withPlanes { y, u, v in try conv.upload(y: y, u: u, v: v, format: frame.format) }
                try out.withUnsafeMutableBytes { try conv.readI420(from: texture, layout: layout, into: $0.baseAddress!) }
                bytes.append(out)
            }
            XCTAssertEqual(bytes[0], bytes[1], "exact \(exact), left \(left)")
            let o = try run(PlanarFrame(width: 643, height: 361, format: fmt, pattern: .gradient, seed: 32), settings: b)
            assertMatchesReference(o, "compute pack, exact \(exact), left \(left)")
            assertRoundTrips(o, "compute pack, exact \(exact), left \(left)")
        }
    }

    /// Frames packed ahead of their readback (a render keeps several in flight): each slot holds its own
    /// frame until read, in both pack outputs (fragment target, storage buffer), read off the GL thread
    /// while later packs are queued; one more pack than there are slots fails, and so does its read;
    /// a pack that failed hands its error to the read.
    func testPackedFramesWaitInTheirSlotsUntilRead() throws {
        let c = try sharedContext()
        let fmt = YUVFrameFormat.yuv420p(matrix: .bt709)
        let layout = I420Layout.forFrame(width: 161, height: 97)
        let frames = (0..<5).map { PlanarFrame(width: 161, height: 97, format: fmt, pattern: $0 % 2 == 0 ? .random : .gradient, seed: 40 + $0) }
        for computePack in [false, true] {
            var settings = ColorConverterSettings()
            settings.computePack = computePack
            let conv = try FrameColorConverter(context: c, settings: settings)
            // One frame at a time: the expected bytes.
            let expected = try frames.map { f -> [UInt8] in
                var out = [UInt8](repeating: 0, count: layout.byteCount)
                let t = try f.withPlanes { try conv.upload(y: $0, u: $1, v: $2, format: fmt) }
                try out.withUnsafeMutableBytes { try conv.readI420(from: t, layout: layout, into: $0.baseAddress!) }
                return out
            }
            try conv.prepareOutput(layout: layout, slots: 3)
            let targets = try frames.map { _ in try Framebuffer(context: c, color: Texture(context: c, width: 161, height: 97, format: .rgba8)) }
            for (f, t) in zip(frames, targets) { _ = try f.withPlanes { try conv.upload(y: $0, u: $1, v: $2, format: fmt, into: t) } }
            var inFlight: [(index: Int, packed: FrameColorConverter.PackedI420)] = []
            for k in frames.indices {
                if inFlight.count == 3 {
                    let (i, p) = inFlight.removeFirst()
                    var out = [UInt8](repeating: 0, count: layout.byteCount)
                    try out.withUnsafeMutableBytes { try conv.read(p, into: $0.baseAddress!) }
                    XCTAssertEqual(out, expected[i], "frame \(i), compute pack \(computePack)")
                }
                let p = FrameColorConverter.PackedI420(layout: layout)
                c.async { try? conv.pack(targets[k].color, into: p) }
                inFlight.append((k, p))
            }
            for (i, p) in inFlight {
                var out = [UInt8](repeating: 0, count: layout.byteCount)
                try out.withUnsafeMutableBytes { try conv.read(p, into: $0.baseAddress!) }
                XCTAssertEqual(out, expected[i], "frame \(i), compute pack \(computePack)")
            }
            // A fourth pack while three wait: refused, its read throws; the three still read.
            let waiting = (0..<3).map { _ in FrameColorConverter.PackedI420(layout: layout) }
            try c.sync { () throws in for p in waiting { try conv.pack(targets[0].color, into: p) } }
            let extra = FrameColorConverter.PackedI420(layout: layout)
            XCTAssertThrowsError(try c.sync { () throws in try conv.pack(targets[0].color, into: extra) })
            var out = [UInt8](repeating: 0, count: layout.byteCount)
            XCTAssertThrowsError(try out.withUnsafeMutableBytes { try conv.read(extra, into: $0.baseAddress!) })
            for p in waiting { try out.withUnsafeMutableBytes { try conv.read(p, into: $0.baseAddress!) } }
            XCTAssertEqual(out, expected[0])
            // A wrong-sized frame fails its pack; the read reports it.
            let wrong = FrameColorConverter.PackedI420(layout: I420Layout.forFrame(width: 160, height: 96))
            c.async { try? conv.pack(targets[0].color, into: wrong) }
            XCTAssertThrowsError(try out.withUnsafeMutableBytes { try conv.read(wrong, into: $0.baseAddress!) }) {
                XCTAssertTrue("\($0)".contains("layout 160x96"), "\($0)")
            }
        }
    }

    func testOtherFilteringSettingsAndCentredChroma() throws {
        var s = ColorConverterSettings()
        s.exactChromaAverage = false  // bilinear-fetch averaging
        s.interleaveChroma = false  // the textureGather path (default on hardware GPUs)
        var fmt = YUVFrameFormat.yuv420p(matrix: .bt601)
        assertMatchesReference(try run(PlanarFrame(width: 255, height: 143, format: fmt, pattern: .random, seed: 12), settings: s), "bilinear average, gathers, random")
        s.outputChromaLocation = .center
        fmt.chromaLocation = .center
        let g = try run(PlanarFrame(width: 255, height: 143, format: fmt, pattern: .gradient, seed: 13), settings: s)
        assertMatchesReference(g, "centred gradient")
        assertRoundTrips(g, "centred gradient")
    }

    /// Catches a wrong matrix even where both paths round alike: 601 data read as 709 must differ.
    func testWrongMatrixIsDetected() throws {
        let frame = PlanarFrame(width: 64, height: 32, format: .yuv420p(matrix: .bt601), pattern: .random, seed: 14)
        let conv = try converter()
        _ = try frame.withPlanes { y, u, v in try conv.upload(y: y, u: u, v: v, format: frame.format) }
        let gpu = try conv.frameTarget!.readRGBA8()
        var as709 = frame.format; as709.matrix = .bt709
        let wrong = ColorReference.rgb8(PlanarFrame(copying: frame, format: as709))
        var s = ErrorStats()
        for i in 0..<(64 * 32) { for c in 0..<3 { s.add(Int(gpu[i * 4 + c]), Int(wrong[i * 3 + c])) } }
        XCTAssertGreaterThan(s.maxAbs, 10, "\(s)")
    }

    func testConsecutiveFramesReuseGLObjects() throws {
        let c = try sharedContext()
        let conv = try FrameColorConverter(context: c)
        let fmt = YUVFrameFormat.yuv420p(matrix: .bt709)
        let layout = I420Layout.forFrame(width: 200, height: 120)
        let a = PlanarFrame(width: 200, height: 120, format: fmt, pattern: .random, seed: 20)
        let b = PlanarFrame(width: 200, height: 120, format: fmt, pattern: .gradient, seed: 21)
        var outA = [UInt8](repeating: 0, count: layout.byteCount), outB = outA
        let tA = try a.withPlanes { try conv.upload(y: $0, u: $1, v: $2, format: fmt) }
        try outA.withUnsafeMutableBytes { try conv.readI420(from: tA, layout: layout, into: $0.baseAddress!) }
        let afterFirst = c.debugCounters
        let tB = try b.withPlanes { try conv.upload(y: $0, u: $1, v: $2, format: fmt) }
        try outB.withUnsafeMutableBytes { try conv.readI420(from: tB, layout: layout, into: $0.baseAddress!) }
        let afterSecond = c.debugCounters
        XCTAssertTrue(tA === tB, "the frame texture is reused")
        XCTAssertEqual(afterFirst.totalCreated, afterSecond.totalCreated, "no GL object created for the second frame")
        XCTAssertEqual(afterFirst, afterSecond)
        XCTAssertNotEqual(outA, outB, "the second frame's content came through")
        // A new size is a new shape: textures are re-created, once.
        let small = PlanarFrame(width: 64, height: 64, format: fmt, pattern: .random, seed: 22)
        _ = try small.withPlanes { try conv.upload(y: $0, u: $1, v: $2, format: fmt) }
        XCTAssertGreaterThan(c.debugCounters.texturesCreated, afterSecond.texturesCreated)
    }
}

extension PlanarFrame {
    init(copying f: PlanarFrame, format: YUVFrameFormat) {
        self = f
        self.formatOverride(format)
    }
    private mutating func formatOverride(_ fmt: YUVFrameFormat) {
        self = PlanarFrame(width: width, height: height, format: fmt, y: y, u: u, v: v)
    }
    init(width: Int, height: Int, format: YUVFrameFormat, y: [Int], u: [Int], v: [Int]) {
        self.width = width; self.height = height; self.format = format
        self.y = y; self.u = u; self.v = v
    }
}
