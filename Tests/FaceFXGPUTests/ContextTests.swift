import XCTest
@testable import FaceFXGPU

final class ContextTests: XCTestCase {
    func testContextOnThisMachine() throws {
        let c = try sharedContext()
        XCTAssertFalse(c.renderer.isEmpty)
        XCTAssertFalse(c.vendor.isEmpty)
        XCTAssertTrue(c.version.hasPrefix("OpenGL ES"), c.version)
        XCTAssertTrue(c.glesMajor > 3 || (c.glesMajor == 3 && c.glesMinor >= 1), c.version)
        XCTAssertTrue(c.hasExtension("GL_EXT_color_buffer_float"))
        XCTAssertGreaterThanOrEqual(c.maxTextureSize, 4096)
        XCTAssertFalse(GPUContext.listDevices().isEmpty)
    }

    /// `--gpu cpu`: Mesa's software path (this machine and CI have it; GPU machines may not).
    func testSoftwareContextIsLlvmpipeAndIndependent() throws {
        let shared = try sharedContext()
        guard shared.isSoftware else { throw XCTSkip("hardware machine: no Mesa software rasteriser expected") }
        let c = try GPUContext(device: .cpu)
        XCTAssertTrue(c.isSoftware)
        XCTAssertTrue(c.renderer.contains("llvmpipe") || c.renderer.contains("softpipe"), c.renderer)
        XCTAssertFalse(c.thread === shared.thread)
        // Objects of the second context work and go away with it.
        let t = try Texture(context: c, width: 2, height: 2, format: .rgba32f)
        try t.upload(floats: [Float](repeating: 0.25, count: 16))
        XCTAssertEqual(try Framebuffer(context: c, color: t).readFloats(), [Float](repeating: 0.25, count: 16))
    }

    func testGLThreadRunsInlineWhenNestedAndReturnsValues() throws {
        let c = try sharedContext()
        XCTAssertFalse(c.thread.isCurrent)
        let nested = c.sync { c.sync { c.thread.isCurrent } }
        XCTAssertTrue(nested)
        struct Boom: Error {}
        XCTAssertThrowsError(try c.sync { () throws -> Int in throw Boom() })
        let done = expectation(description: "async ran")
        c.async { if c.thread.isCurrent { done.fulfill() } }
        wait(for: [done], timeout: 5)
    }

    /// Readbacks from threads other than the GL thread wait for the GPU on their own thread (the GL thread
    /// serves the others meanwhile): four threads drawing into and reading back their own float and RGBA8
    /// targets at once, many times, each read exactly what it drew (no pack buffer shared between reads
    /// in flight, no read finished before its pass).
    func testReadbacksWaitOffTheGLThreadAndStayExact() throws {
        let c = try sharedContext()
        c.sync { c.waitForGPU() }  // on the GL thread: returns at once (the map waits there)
        let cache = ProgramCache(context: c)
        let program = try cache.program("color/copy.glsl")
        let failures = NSLock()
        var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            do {
                let (w, h) = (11 + k, 5 + k)
                let src = try Texture(context: c, width: w, height: h, format: .rgba32f)
                let floats = try Framebuffer(context: c, color: Texture(context: c, width: w, height: h, format: .rgba32f))
                let bytes = try Framebuffer(context: c, color: Texture(context: c, width: w, height: h, format: .rgba8))
                let runner = PassRunner(context: c)
                for i in 0..<12 {
                    let values = (0..<(w * h * 4)).map { Float(($0 * 7 + i * 13 + k * 101) % 1000) / 8 }
                    try src.upload(floats: values)
                    try runner.drawFullscreen(program: program, target: floats, textures: [("u_src", src)])
                    let tint = Float((i * 40 + k * 50) % 256) / 255
                    try bytes.clear(tint, 1 - tint, 0.5, 1)
                    let readFloats = try floats.readFloats()
                    let readBytes = try bytes.readRGBA8()
                    if readFloats != values { throw GPUError.invalidArgument("thread \(k) round \(i): float readback differs") }
                    if readBytes[0] != UInt8((tint * 255).rounded()) || readBytes.count != w * h * 4 {
                        throw GPUError.invalidArgument("thread \(k) round \(i): RGBA8 readback \(readBytes.prefix(4))")
                    }
                }
            } catch {
                failures.lock(); errors.append("\(error)"); failures.unlock()
            }
        }
        XCTAssertEqual(errors, [])
    }

    /// Storage buffers read back what compute shaders wrote, round after round, from the GL thread and
    /// off it: mapped once and persistently (GL_EXT_buffer_storage, which llvmpipe has) and mapped per
    /// read (FACEFX_READ_PBO=0), and `clear` still zeroes the persistent one.
    func testStorageBufferReadsComputeWritesPersistentlyMappedAndNot() throws {
        let source = """
            #version 310 es
            layout(local_size_x = 64) in;
            layout(std430, binding = 0) buffer Out { uint v[]; };
            uniform uint u_seed;
            void main() { uint i = gl_GlobalInvocationID.x; v[i] = i * 2654435761u + u_seed; }
            """
        for persistent in [true, false] {
            var tuning = GPUTuning()
            tuning.readThroughPackBuffer = persistent
            let c = try GPUContext(tuning: tuning)
            let program = try Program(context: c, name: "test/storage", computeSource: source)
            let buffer = try StorageBuffer(context: c, bytes: 4 * 256)
            XCTAssertEqual(buffer.isMappedPersistently, persistent, "llvmpipe offers GL_EXT_buffer_storage")
            let runner = PassRunner(context: c)
            for seed in UInt32(1)...6 {
                try runner.dispatch(program: program, groups: (4, 1, 1), buffer: buffer, uniforms: ["u_seed": .uint(seed)])
                let expected = (0..<256).map { UInt32($0) &* 2654435761 &+ seed }
                if seed % 2 == 0 {
                    XCTAssertEqual(try c.sync { try buffer.readUInt32s(offset: 0, count: 256) }, expected, "GL thread, seed \(seed)")
                } else {
                    XCTAssertEqual(try buffer.readUInt32s(offset: 16, count: 200), Array(expected[4..<204]), "seed \(seed)")
                }
            }
            buffer.clear(bytes: 64)
            XCTAssertEqual(try buffer.readUInt32s(offset: 0, count: 17), [UInt32](repeating: 0, count: 16) + [UInt32(16) &* 2654435761 &+ 6])
        }
    }

    func testDeviceSelectionParsing() {
        XCTAssertEqual(GPUDeviceSelection(argument: "auto"), .auto)
        XCTAssertEqual(GPUDeviceSelection(argument: "cpu"), .cpu)
        XCTAssertEqual(GPUDeviceSelection(argument: "2"), .index(2))
        XCTAssertNil(GPUDeviceSelection(argument: "-1"))
        XCTAssertNil(GPUDeviceSelection(argument: "gpu"))
    }

    func testOutOfRangeDeviceFailsClearly() {
        XCTAssertThrowsError(try GPUContext(device: .index(999))) { e in
            XCTAssertTrue("\(e)".contains("999"), "\(e)")
        }
    }

    /// Constant textures (network weights) are made once per program cache: the same values, size and
    /// format give the same texture (and read back as uploaded); other values, another size or format
    /// a new one.
    func testConstantTexturesAreSharedByContent() throws {
        let c = try sharedContext()
        let cache = ProgramCache(context: c)
        /// A texture of `v` from a fresh copy of it (so only its content can match).
        func texture(_ v: [Float], _ w: Int, _ h: Int, _ format: TextureFormat = .rgba32f, in cache: ProgramCache) throws -> Texture {
            try cache.constantTexture(sources: [v.map { $0 + 0 }], layout: "\(w)x\(h)", format: format) { (w, h, v) }
        }
        let values = (0..<24).map { Float($0) * 0.25 - 2 }
        let a = try texture(values, 3, 2, in: cache)
        let created = c.debugCounters.texturesCreated
        let b = try texture(values, 3, 2, in: cache)
        XCTAssertTrue(a === b)
        XCTAssertEqual(c.debugCounters.texturesCreated, created, "no texture made for the same values")
        XCTAssertEqual(try Framebuffer(context: c, color: a).readFloats(), values)
        var other = values
        other[5] += 1
        XCTAssertFalse(a === (try texture(other, 3, 2, in: cache)))
        XCTAssertFalse(a === (try texture(values, 2, 3, in: cache)))
        XCTAssertFalse(a === (try texture(values, 3, 2, .rgba16f, in: cache)))
        XCTAssertFalse(a === (try texture(values, 3, 2, in: ProgramCache(context: c))), "another cache, another texture")
    }

    /// Weights packed from the same source arrays the same way are found without packing them again.
    func testConstantTexturesAreFoundBySources() throws {
        let cache = ProgramCache(context: try sharedContext())
        let weights: [Float] = (0..<32).map { Float($0) * 0.25 - 3 }, bias: [Float] = [1, 2, 3, 4]
        var packs = 0
        func texture(_ sources: [[Float]], _ layout: String) throws -> Texture {
            try cache.constantTexture(sources: sources, layout: layout, format: .rgba32f) {
                packs += 1
                return (width: 2, height: 5, values: sources[0] + sources[1] + [0, 0, 0, 0])
            }
        }
        let a = try texture([weights, bias], "test")
        XCTAssertEqual(try Framebuffer(context: try sharedContext(), color: a).readFloats(), weights + bias + [0, 0, 0, 0])
        XCTAssertTrue(try texture([weights, bias], "test") === a)
        XCTAssertEqual(packs, 1, "the same arrays packed the same way: not packed again")
        XCTAssertTrue(try texture([weights.map { $0 + 0 }, bias.map { $0 + 0 }], "test") === a, "equal copies: found by content")
        XCTAssertEqual(packs, 2)
        XCTAssertTrue(try texture([weights, bias], "test, packed another way") === a)
        XCTAssertEqual(packs, 3, "another layout: packed again (here to the same values)")
        XCTAssertFalse(try texture([bias, weights], "test") === a, "the arrays in other roles")
        XCTAssertEqual(packs, 4)
    }

    func testObjectsAreDeletedWhenReleased() throws {
        let c = try sharedContext()
        let before = c.debugCounters
        do {
            let t = try Texture(context: c, width: 8, height: 8, format: .rgba8)
            _ = try Framebuffer(context: c, color: t, depth: true)
        }
        let after = c.debugCounters  // sync drains the queued deletions first
        XCTAssertEqual(after.texturesCreated, before.texturesCreated + 1)
        XCTAssertEqual(after.renderbuffersCreated, before.renderbuffersCreated + 1)
        XCTAssertEqual(after.texturesLive, before.texturesLive)
        XCTAssertEqual(after.framebuffersLive, before.framebuffersLive)
        XCTAssertEqual(after.renderbuffersLive, before.renderbuffersLive)
    }
}

final class ProgramTests: XCTestCase {
    func testCompileErrorCarriesInfoLogAndNumberedSource() throws {
        let c = try sharedContext()
        let cache = ProgramCache(context: c)
        let body = "out vec4 o;\nvoid main() {\n  o = vec4(undefined_thing);\n}\n"
        XCTAssertThrowsError(try cache.program(key: "broken", vertexBody: ProgramCache.fullscreenVertexBody, fragmentBody: body)) { e in
            guard let g = e as? GPUError, case .shaderCompile(let name, let stage, let log, let src) = g else {
                return XCTFail("expected shaderCompile, got \(e)")
            }
            XCTAssertEqual(name, "broken")
            XCTAssertEqual(stage, "fragment")
            XCTAssertTrue(log.contains("undefined_thing"), log)
            XCTAssertTrue(src.contains("   3:   o = vec4(undefined_thing);"), src)
            XCTAssertTrue(g.description.contains("undefined_thing"))
            XCTAssertFalse(g.description.contains("\n"))
        }
    }

    func testCacheKeyIgnoresDefineOrderAndReusesPrograms() throws {
        let c = try sharedContext()
        let cache = ProgramCache(context: c)
        XCTAssertEqual(ProgramCache.key(fragment: "a", vertex: "v", defines: ["B": "1", "A": "2"]),
                       ProgramCache.key(fragment: "a", vertex: "v", defines: ["A": "2", "B": "1"]))
        let p1 = try cache.program("color/copy.glsl", defines: ["X": "1", "Y": "2"])
        let p2 = try cache.program("color/copy.glsl", defines: ["Y": "2", "X": "1"])
        XCTAssertTrue(p1 === p2)
        XCTAssertEqual(cache.count, 1)
        XCTAssertThrowsError(try cache.program("color/does_not_exist.glsl"))
    }
}

final class FloatTextureTests: XCTestCase {
    func testRGBA32FExactThroughPassAndReadback() throws {
        let c = try sharedContext()
        let (w, h) = (13, 7)  // odd sizes
        var rng = TestRNG(seed: 1)
        let values: [Float] = (0..<(w * h * 4)).map { _ in Float(Int(rng.next() % 2_000_001) - 1_000_000) / 3.7 }
        let src = try Texture(context: c, width: w, height: h, format: .rgba32f)
        try src.upload(floats: values)
        let dst = try Framebuffer(context: c, color: Texture(context: c, width: w, height: h, format: .rgba32f))
        let cache = ProgramCache(context: c)
        let runner = PassRunner(context: c)
        try runner.drawFullscreen(program: cache.program("color/copy.glsl"), target: dst, textures: [("u_src", src)])
        XCTAssertEqual(try dst.readFloats(), values)
        // And straight from the uploaded texture.
        XCTAssertEqual(try Framebuffer(context: c, color: src).readFloats(), values)
    }

    func testRGBA16FExactFromHalfFloatBits() throws {
        let c = try sharedContext()
        let (w, h) = (9, 5)
        var rng = TestRNG(seed: 2)
        // Multiples of 1/256 below 8 are exact in fp16 (11-bit significand).
        let values: [Float] = (0..<(w * h * 4)).map { _ in Float(rng.int(-2047...2047)) / 256 }
        let bits = values.map { Float16($0).bitPattern }
        let src = try Texture(context: c, width: w, height: h, format: .rgba16f)
        try src.upload(halfFloats: bits)
        let dst = try Framebuffer(context: c, color: Texture(context: c, width: w, height: h, format: .rgba16f))
        try PassRunner(context: c).drawFullscreen(program: ProgramCache(context: c).program("color/copy.glsl"), target: dst,
                                        textures: [("u_src", src)])
        XCTAssertEqual(try dst.readFloats(), values)
        // Float uploads into a half texture round to fp16.
        try src.upload(floats: values)
        XCTAssertEqual(try Framebuffer(context: c, color: src).readFloats(), values)
    }

    func testSingleChannelFloatReadsBackAsRGBA() throws {
        let c = try sharedContext()
        let t = try Texture(context: c, width: 3, height: 2, format: .r32f)
        try t.upload(floats: [1, 2, 3, 4, 5, 6])
        let px = try Framebuffer(context: c, color: t).readFloats()
        XCTAssertEqual(stride(from: 0, to: px.count, by: 4).map { px[$0] }, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(px[3], 1)  // alpha of an R texture reads as 1
    }

    func testFeedbackLoopAndBadUploadsThrow() throws {
        let c = try sharedContext()
        let t = try Texture(context: c, width: 4, height: 4, format: .rgba8)
        let fb = try Framebuffer(context: c, color: t)
        let p = try ProgramCache(context: c).program("color/copy.glsl")
        XCTAssertThrowsError(try PassRunner(context: c).drawFullscreen(program: p, target: fb, textures: [("u_src", t)]))
        XCTAssertThrowsError(try t.upload(bytes: [1, 2, 3]))
        XCTAssertThrowsError(try Texture(context: c, width: 4, height: 4, format: .rgba32f, filter: .linear))
    }

    func testTexturePoolReusesByShape() throws {
        let c = try sharedContext()
        let pool = TexturePool(context: c)
        let a = try pool.acquire(width: 16, height: 8, format: .rgba16f)
        pool.recycle(a)
        let b = try pool.acquire(width: 16, height: 8, format: .rgba16f)
        XCTAssertTrue(a === b)
        let d = try pool.acquire(width: 16, height: 8, format: .rgba32f)
        XCTAssertFalse(d === b)
        XCTAssertEqual(pool.createdCount, 2)
    }
}
