// Renders of every built-in filter on a real face (the astronaut photo with MediaPipe's own
// landmarks, blendshapes and pose) compared with committed references, plus behaviour checks.
// Record references: FACEFX_RECORD=1 swift test --filter RenderTests/testReferences
import FaceFXFace
import FaceFXGPU
import FaceFXMedia
import FaceFXOverlay
import FaceFXPipeline
import XCTest

final class RenderTests: XCTestCase {
    static let builtIns = ["mask", "glasses", "dog", "anonymize", "pixelate", "lipstick", "debug", "crown"]
    var refDir: URL { Fixture.root.appendingPathComponent("Tests/Fixtures/overlay") }

    /// The face as the references show it: mouth open enough for the dog's tongue, smiling (crown hearts).
    var face: OverlayFace {
        var f = Fixture.astronautFace
        f.blendshapes["jawOpen"] = 0.6
        return f
    }

    func testReferences() throws {
        let record = ProcessInfo.processInfo.environment["FACEFX_RECORD"] != nil
        var report: [String] = []
        for name in RenderTests.builtIns {
            let r = try Fixture.renderer([name])
            // Two frames 1 s apart so `when` fades have completed.
            _ = try Fixture.render(r, faces: [face], time: 0)
            let out = RenderTests.crop(try Fixture.render(r, faces: [face], time: 1, dump: "ref_" + name))
            let path = refDir.appendingPathComponent(name + ".png").path
            if record {
                try FileManager.default.createDirectory(at: refDir, withIntermediateDirectories: true)
                try PNGCodec.writeRGBA(path: path, width: out.width, height: out.height, pixels: out.pixels)
                continue
            }
            let (w, h, px) = try PNGCodec.decodeRGBA(path: path)
            let ref = RGBAImage(width: w, height: h, pixels: px)
            let e = Fixture.rmse(out, ref)
            report.append("\(name) \(String(format: "%.3f", e))")
            XCTAssertLessThanOrEqual(e, 2.0, "\(name): RMSE \(e) codes against \(path)")
            // The filter really changed the picture (a no-op render would also match a broken reference).
            XCTAssertGreaterThan(Fixture.rmse(out, RenderTests.crop(Fixture.astronaut)), 1.0, name)
        }
        print("overlay reference RMSE (codes): " + report.joined(separator: ", "))
    }

    /// References keep only the face's surroundings at full resolution (x 136..<328, y 0..<208):
    /// every filter's marks and a margin, at a third of a full frame's size.
    static func crop(_ im: RGBAImage) -> RGBAImage {
        var px: [UInt8] = []
        px.reserveCapacity(192 * 208 * 4)
        for y in 0..<208 { px += im.pixels[((y * im.width + 136) * 4)..<((y * im.width + 328) * 4)] }
        return RGBAImage(width: 192, height: 208, pixels: px)
    }

    func testMaskCoversTheFace() throws {
        let r = try Fixture.renderer(["mask"])
        let out = try Fixture.render(r, faces: [face])
        let changed = Fixture.changed(out, Fixture.astronaut)
        let hull = Fixture.hull(face)
        let iod = face.landmarks[33].x.distance(to: face.landmarks[263].x).magnitude
        let outer = Fixture.hull(face, margin: 0.15 * iod)
        var inHull = 0, inHullChanged = 0, outside = 0, outsideChanged = 0
        for y in 0..<512 { for x in 0..<512 {
            let p = SIMD2(Double(x) + 0.5, Double(y) + 0.5)
            if Fixture.inside(p, hull) { inHull += 1; if changed[y * 512 + x] { inHullChanged += 1 } }
            else if !Fixture.inside(p, outer) { outside += 1; if changed[y * 512 + x] { outsideChanged += 1 } }
        } }
        let covered = Double(inHullChanged) / Double(inHull), leaked = Double(outsideChanged) / Double(outside)
        print("mask: \(String(format: "%.1f", covered * 100))% of hull changed, \(String(format: "%.2f", leaked * 100))% outside")
        XCTAssertGreaterThanOrEqual(covered, 0.95)
        XCTAssertLessThanOrEqual(leaked, 0.05)
    }

    /// High-frequency energy: sum of squared Laplacian of luma over pixels inside the hull.
    func highFrequency(_ im: RGBAImage, inside poly: [SIMD2<Double>]) -> Double {
        func luma(_ x: Int, _ y: Int) -> Double {
            let i = (y * im.width + x) * 4
            return 0.299 * Double(im.pixels[i]) + 0.587 * Double(im.pixels[i + 1]) + 0.114 * Double(im.pixels[i + 2])
        }
        var e = 0.0
        for y in 1..<(im.height - 1) { for x in 1..<(im.width - 1) where Fixture.inside(SIMD2(Double(x) + 0.5, Double(y) + 0.5), poly) {
            let l = 4 * luma(x, y) - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1)
            e += l * l
        } }
        return e
    }

    func testAnonymizeBlursTheHull() throws {
        let r = try Fixture.renderer(["anonymize"])
        let out = try Fixture.render(r, faces: [face])
        let hull = Fixture.hull(face)
        let before = highFrequency(Fixture.astronaut, inside: hull), after = highFrequency(out, inside: hull)
        print("anonymize: high-frequency energy kept \(String(format: "%.2f", after / before * 100))%")
        XCTAssertLessThanOrEqual(after, 0.2 * before, "high-frequency energy must drop by ≥ 80%")
        // Far from the face nothing changes.
        let changed = Fixture.changed(out, Fixture.astronaut, threshold: 2)
        XCTAssertFalse(changed[500 * 512 + 500] || changed[10 * 512 + 10] || changed[500 * 512 + 10])
    }

    func testPixelateMakesCells() throws {
        let r = try Fixture.renderer(["pixelate"])
        let out = try Fixture.render(r, faces: [face])
        let hull = Fixture.hull(face, margin: -4)
        // Inside the face most horizontally adjacent pixels are equal (same cell).
        var same = 0, total = 0
        for y in 60..<190 { for x in 170..<280 where Fixture.inside(SIMD2(Double(x) + 0.5, Double(y) + 0.5), hull) && Fixture.inside(SIMD2(Double(x) + 1.5, Double(y) + 0.5), hull) {
            let i = (y * 512 + x) * 4
            total += 1
            if (0..<3).allSatisfy({ abs(Int(out.pixels[i + $0]) - Int(out.pixels[i + 4 + $0])) <= 1 }) { same += 1 }
        } }
        XCTAssertGreaterThan(Double(same) / Double(max(total, 1)), 0.8)
    }

    func testStackingOrderMatters() throws {
        // mask then pixelate: the mosaic covers the mask (mask colours averaged); pixelate then mask: a sharp mask on top.
        let a = try Fixture.render(Fixture.renderer(["mask", "pixelate"]), faces: [face])
        let b = try Fixture.render(Fixture.renderer(["pixelate", "mask"]), faces: [face])
        let maskOnly = try Fixture.render(Fixture.renderer(["mask"]), faces: [face])
        let pixOnly = try Fixture.render(Fixture.renderer(["pixelate"]), faces: [face])
        XCTAssertGreaterThan(Fixture.rmse(a, b), 3, "order changes the picture")
        XCTAssertLessThan(Fixture.rmse(b, maskOnly), Fixture.rmse(a, maskOnly), "mask last: the mask is intact")
        // Both visible in a stack of two different filters: glasses + dog each change their own area.
        let both = try Fixture.render(Fixture.renderer(["glasses", "dog"]), faces: [face])
        let glasses = try Fixture.render(Fixture.renderer(["glasses"]), faces: [face])
        let dog = try Fixture.render(Fixture.renderer(["dog"]), faces: [face])
        let cg = Fixture.changed(glasses, Fixture.astronaut), cd = Fixture.changed(dog, Fixture.astronaut), cb = Fixture.changed(both, Fixture.astronaut)
        let gOnly = (0..<cg.count).filter { cg[$0] && !cd[$0] }, dOnly = (0..<cd.count).filter { cd[$0] && !cg[$0] }
        XCTAssertGreaterThan(gOnly.count, 200); XCTAssertGreaterThan(dOnly.count, 200)
        XCTAssertGreaterThan(Double(gOnly.filter { cb[$0] }.count) / Double(gOnly.count), 0.95, "glasses visible in the stack")
        XCTAssertGreaterThan(Double(dOnly.filter { cb[$0] }.count) / Double(dOnly.count), 0.95, "dog visible in the stack")
        _ = pixOnly
    }

    func testTwoFaces() throws {
        // A second synthetic face (the same landmarks moved right) gets its own mask; ids are independent.
        let second = Fixture.shifted(face, dx: 200, dy: 150, id: 7)
        let out = try Fixture.render(Fixture.renderer(["mask", "debug"]), faces: [face, second], dump: "two_faces")
        let one = try Fixture.render(Fixture.renderer(["mask", "debug"]), faces: [face])
        let c = Fixture.changed(out, one)
        let hull2 = Fixture.hull(second)
        var inside = 0, changedInside = 0
        for y in 0..<512 { for x in 0..<512 where Fixture.inside(SIMD2(Double(x) + 0.5, Double(y) + 0.5), hull2) {
            inside += 1; if c[y * 512 + x] { changedInside += 1 }
        } }
        XCTAssertGreaterThan(Double(changedInside) / Double(inside), 0.9)
    }

    /// Share of the tongue's area (pixels the open-mouth render changes below the lower lip) that differs.
    func tongueVisible(_ r: OverlayRenderer, jawOpen: Float, time: Double) throws -> Double {
        var f = face
        f.blendshapes["jawOpen"] = jawOpen
        let out = try Fixture.render(r, faces: [f], time: time)
        let y0 = Int(face.landmarks[14].y) + 3, x0 = Int(face.landmarks[14].x)
        var s = 0.0, n = 0
        for y in y0..<(y0 + 12) { for x in (x0 - 4)...(x0 + 4) {
            let i = (y * 512 + x) * 4
            // The tongue is pink: red well above green.
            s += Double(out.pixels[i]) - Double(out.pixels[i + 1]); n += 1
        } }
        return s / Double(n)
    }

    func testTongueWhenJawOpenWithFade() throws {
        let r = try Fixture.renderer(["dog"])   // tongue: jawOpen > 0.4, fade 0.25 s
        let closed = try tongueVisible(r, jawOpen: 0.1, time: 0)
        XCTAssertEqual(r.fadeLevel(faceID: 0, filter: 0, element: 1), 0)
        _ = try tongueVisible(r, jawOpen: 0.1, time: 0.5)
        XCTAssertEqual(r.fadeLevel(faceID: 0, filter: 0, element: 1), 0, "closed mouth: no tongue")
        // Opening between frames 0.5 and 0.6: the fade (0.25 s) has run 0.1 s by frame 0.6.
        let half = try tongueVisible(r, jawOpen: 0.6, time: 0.6)
        XCTAssertEqual(try XCTUnwrap(r.fadeLevel(faceID: 0, filter: 0, element: 1)), 0.4, accuracy: 1e-3)
        _ = try tongueVisible(r, jawOpen: 0.6, time: 0.7)
        XCTAssertEqual(try XCTUnwrap(r.fadeLevel(faceID: 0, filter: 0, element: 1)), 0.8, accuracy: 1e-3)
        let full = try tongueVisible(r, jawOpen: 0.6, time: 0.9)
        XCTAssertEqual(r.fadeLevel(faceID: 0, filter: 0, element: 1), 1)
        XCTAssertGreaterThan(full, closed + 30, "tongue shows")
        XCTAssertGreaterThan(half, closed + 0.2 * (full - closed)); XCTAssertLessThan(half, full - 0.2 * (full - closed))
        _ = try tongueVisible(r, jawOpen: 0.3, time: 1.0)          // closing: fades out over 0.25 s
        XCTAssertEqual(try XCTUnwrap(r.fadeLevel(faceID: 0, filter: 0, element: 1)), 0.6, accuracy: 1e-3)
        _ = try tongueVisible(r, jawOpen: 0.3, time: 1.3)
        XCTAssertEqual(r.fadeLevel(faceID: 0, filter: 0, element: 1), 0)
        // A threshold exactly at 0.4 is not "> 0.4".
        _ = try tongueVisible(r, jawOpen: 0.4, time: 2.0)
        XCTAssertEqual(r.fadeLevel(faceID: 0, filter: 0, element: 1), 0)
    }

    func testEmotionCondition() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facefx-emo-\(UUID().uuidString)/happy")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        try #"{"name": "h", "elements": [{"kind": "pixelate", "when": {"emotion": "happy"}}]}"#
            .write(to: dir.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        let lib = FilterLibrary(folders: [URL(fileURLWithPath: dir.deletingLastPathComponent().path)], decoder: { _ in throw NSError(domain: "no", code: 0) })
        let r = try OverlayRenderer(context: Fixture.gpu(), filters: [lib.load("happy")], model: Fixture.model)
        var sad = face
        sad.emotions = OverlayFace.emotionDictionary([0, 0, 0, 0.1, 0.8, 0, 0.1])
        XCTAssertEqual(Fixture.rmse(try Fixture.render(r, faces: [sad]), Fixture.astronaut), 0)
        XCTAssertGreaterThan(Fixture.rmse(try Fixture.render(r, faces: [face]), Fixture.astronaut), 1)
    }

    func testGlassesTemplesOccludedByTheHead() throws {
        // The same glasses with occlusion off for the temples: on a turned head the far temple runs
        // behind the head, so only the occluded version hides it; facing the camera nothing is hidden.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facefx-occ-\(UUID().uuidString)")
        let copy = dir.appendingPathComponent("glasses")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Fixture.root.appendingPathComponent("Filters/glasses"), to: copy)
        let json = try String(contentsOf: copy.appendingPathComponent("filter.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"plane\": \"side\",", with: "\"plane\": \"side\", \"occluded\": false,")
        try json.write(to: copy.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        let lib = FilterLibrary(folders: [URL(fileURLWithPath: dir.path)], decoder: FilterCatalog.pngDecoder)
        let open = try OverlayRenderer(context: Fixture.gpu(), filters: [lib.load("glasses")], model: Fixture.model)
        let occluded = try Fixture.renderer(["glasses"])
        let grey = RGBAImage(width: 512, height: 512, pixels: [UInt8](repeating: 128, count: 512 * 512 * 4))
        func hiddenPixels(yaw: Double) throws -> (hidden: Int, drawn: Int) {
            let f = Fixture.syntheticFace(id: 0, center: SIMD2(256, 256), iod: 120, yaw: yaw)
            let a = try Fixture.render(occluded, image: grey, faces: [f], dump: "glasses_yaw\(Int(yaw))")
            let b = try Fixture.render(open, image: grey, faces: [f])
            let ca = Fixture.changed(a, grey), cb = Fixture.changed(b, grey)
            return ((0..<ca.count).filter { cb[$0] && !ca[$0] }.count, ca.filter { $0 }.count)
        }
        let turned = try hiddenPixels(yaw: 45), frontal = try hiddenPixels(yaw: 0)
        print("glasses: \(turned.hidden) temple pixels hidden at yaw 45°, \(frontal.hidden) at 0°")
        XCTAssertGreaterThan(turned.hidden, 50, "far temple hidden behind the head")
        XCTAssertLessThan(frontal.hidden, 5, "nothing hidden when facing the camera")
        XCTAssertGreaterThan(turned.drawn, 3000, "front and near temple drawn")
    }

    func testNoGLObjectsPerFrame() throws {
        let ctx = try Fixture.gpu()
        let r = try Fixture.renderer(RenderTests.builtIns)
        let t = try Texture(context: ctx, width: 512, height: 512, format: .rgba8)
        let fb = try Framebuffer(context: ctx, color: t)
        let faces = [face, Fixture.shifted(face, dx: 180, dy: 120, id: 3)]
        try t.upload(bytes: Fixture.astronaut.pixels)
        try r.render(into: fb, width: 512, height: 512, faces: faces, time: 0)   // first frame of a size: per-size targets
        let after1 = ctx.debugCounters
        for k in 1...5 { try r.render(into: fb, width: 512, height: 512, faces: faces, time: Double(k) / 30) }
        let after6 = ctx.debugCounters
        XCTAssertEqual(after1.totalCreated, after6.totalCreated, "no GL object created per frame")
    }
}
