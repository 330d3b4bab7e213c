// Every way a filter pack can be wrong must fail before any frame, with file + field in one line.
@testable import FaceFXOverlay
import FaceFXPipeline
import XCTest

final class ManifestTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("facefx-filters-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Writes Filters/<name>/filter.json (+ a valid PNG "a.png") and returns the load error text.
    func loadError(_ json: String, name: String = "bad", setup: ((URL) throws -> Void)? = nil) throws -> String {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try json.write(to: folder.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Fixture.root.appendingPathComponent("Filters/crown/heart.png"),
                                         to: folder.appendingPathComponent("a.png"))
        try setup?(folder)
        let lib = FilterLibrary(folders: [URL(fileURLWithPath: dir.path)], decoder: FilterCatalog.pngDecoder)
        do {
            _ = try lib.load(name)
            XCTFail("\(name) loaded but should fail")
            return ""
        } catch let e as FilterError {
            let text = e.description
            XCTAssertFalse(text.contains("\n"), "one line: \(text)")
            XCTAssertTrue(text.contains("\(name)/filter.json"), "names the file: \(text)")
            return text
        }
    }

    func sprite(_ image: String) -> String {
        """
        {"name": "x", "elements": [{"kind": "blur"}, {"kind": "blur"},
          {"kind": "sprite", "image": "\(image)", "width": 1, "anchors": [{"landmark": 1, "at": [0, 0]}]}]}
        """
    }

    func testInvalidJSON() throws {
        let e = try loadError("{\"name\": \"x\", \"elements\": [")
        XCTAssertTrue(e.hasSuffix("bad/filter.json: elements[0]: the document ends early (line 1)"), e)
    }

    /// Strict JSON: what Foundation's parser accepts or reports without a place is refused with the JSON
    /// path and the line (tools/fuzz makes the same mutations).
    func testStrictJSONNamesThePlace() throws {
        let ok = #"{"name": "x", "elements": [{"kind": "blur", "strength": 0.5}]}"#
        func error(_ json: String) throws -> String { try loadError(json, name: "j\(UUID().uuidString.prefix(6))") }
        XCTAssertTrue(try error(ok.replacingOccurrences(of: #""elements""#, with: #""name": "y", "elements""#))
            .hasSuffix("filter.json: name: duplicate key (line 1)"))
        XCTAssertTrue(try error(ok.replacingOccurrences(of: "}]}", with: "},]}")).contains("elements[1]: trailing comma before ']'"))
        let big = try error(ok.replacingOccurrences(of: "0.5", with: "1e309"))
        XCTAssertTrue(big.contains("elements[0].strength: 1e309 is out of range"), big)
        XCTAssertTrue(try error(ok.replacingOccurrences(of: "0.5", with: "NaN")).contains("elements[0].strength: NaN is not a JSON number"))
        let comma = try error(ok.replacingOccurrences(of: "0.5", with: "2.5,"))
        XCTAssertTrue(comma.contains("elements[0]: trailing comma before '}'"), comma)
        XCTAssertTrue(try error(String(ok.dropLast(3))).contains("elements[0].strength: expected ',' or '}'"))
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        XCTAssertTrue(try error(ok.replacingOccurrences(of: "0.5", with: deep)).contains("nested deeper than 32 levels"))
    }

    /// A pack may not ask more of a render than the limits (elements, image size, image memory), refused
    /// before any image is decoded, the limit named.
    func testPackLimits() throws {
        let many = "{\"name\": \"x\", \"elements\": [" + Array(repeating: #"{"kind": "blur"}"#, count: 33).joined(separator: ",") + "]}"
        XCTAssertTrue(try loadError(many, name: "many").contains("elements: 33 elements, more than the 32 a filter may have"))
        // Only the PNG header is read before the limits are checked: a header is all these files hold.
        func pngHeader(_ w: UInt32, _ h: UInt32) -> Data {
            Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
                 + withUnsafeBytes(of: w.bigEndian, Array.init) + withUnsafeBytes(of: h.bigEndian, Array.init) + [8, 6, 0, 0, 0])
        }
        let wide = try loadError(sprite("wide.png"), name: "wide") { folder in
            try pngHeader(20000, 20000).write(to: folder.appendingPathComponent("wide.png"))
        }
        XCTAssertTrue(wide.contains("'wide.png' is 20000×20000 pixels, larger than the 4096×4096 a filter image may be"), wide)
        let images = (0..<5).map { "{\"kind\": \"sprite\", \"image\": \"b\($0).png\", \"width\": 1, \"anchors\": [{\"landmark\": 1, \"at\": [0, 0]}]}" }
        let heavy = try loadError("{\"name\": \"x\", \"elements\": [" + images.joined(separator: ",") + "]}", name: "heavy") { folder in
            for k in 0..<5 { try pngHeader(4096, 4096).write(to: folder.appendingPathComponent("b\(k).png")) }
        }
        XCTAssertTrue(heavy.contains("elements[4].image: the images up to 'b4.png' need 320 MB of GPU memory, more than the 256 MB a filter may use"), heavy)
    }

    /// A sprite offset of 1e20 (tools/fuzz: it crashed render converting the sprite's pixel bounds to Int)
    /// is refused when the pack loads; and pixel bounds from any geometry clip instead of trapping.
    func testHugeSpriteGeometryIsRefusedAndCannotTrap() throws {
        let sprite = #"{"name": "x", "elements": [{"kind": "sprite", "image": "a.png", "width": 1, "anchors": [{"landmark": 1, "at": [0, 0]}], "offset": [0, 0, 99999999999999999999]}]}"#
        XCTAssertTrue(try loadError(sprite, name: "far").contains("elements[0].offset: each value must be within ±50 inter-ocular units"))
        let wide = #"{"name": "x", "elements": [{"kind": "sprite", "image": "a.png", "width": 1e6, "anchors": [{"landmark": 1, "at": [0, 0]}]}]}"#
        XCTAssertTrue(try loadError(wide, name: "wide").contains("elements[0].width: expected more than 0 and at most 50"))
        XCTAssertEqual(OverlayRenderer.pixel(1e20, limit: 640, up: true), 641)
        XCTAssertEqual(OverlayRenderer.pixel(-1e20, limit: 640, up: false), -1)
        XCTAssertEqual(OverlayRenderer.pixel(.nan, limit: 640, up: true), -1)
        XCTAssertEqual(OverlayRenderer.pixel(.infinity, limit: 640, up: true), 641)
        XCTAssertEqual(OverlayRenderer.pixel(12.2, limit: 640, up: true), 13)
        XCTAssertEqual(OverlayRenderer.pixel(12.8, limit: 640, up: false), 12)
    }

    func testUnknownKind() throws {
        let e = try loadError(#"{"name": "x", "elements": [{"kind": "blur"}, {"kind": "hologram"}]}"#)
        XCTAssertTrue(e.contains("elements[1].kind: unknown element kind 'hologram'"), e)
    }

    func testUnknownFieldAndMissingField() throws {
        var e = try loadError(#"{"name": "x", "elements": [{"kind": "sprite", "imgae": "a.png"}]}"#)
        XCTAssertTrue(e.contains("elements[0].imgae: unknown field"), e)
        e = try loadError(#"{"name": "x", "elements": [{"kind": "mesh"}]}"#, name: "bad2")
        XCTAssertTrue(e.contains("elements[0].texture: missing"), e)
        e = try loadError(#"{"name": "x", "elements": [{"kind": "tint", "region": "lips", "color": "red"}]}"#, name: "bad3")
        XCTAssertTrue(e.contains("elements[0].color: expected \"#rrggbb\""), e)
        e = try loadError(#"{"name": "x", "elements": [{"kind": "blur", "when": {"jawOpn": ">0.4"}}]}"#, name: "bad4")
        XCTAssertTrue(e.contains("elements[0].when.jawOpn"), e)
    }

    func testMissingAsset() throws {
        let e = try loadError(sprite("nothere.png"))
        XCTAssertTrue(e.contains("elements[2].image: 'nothere.png' does not exist"), e)
    }

    func testParentPath() throws {
        let e = try loadError(sprite("../x.png"))
        XCTAssertTrue(e.contains("elements[2].image: '../x.png' leaves the filter folder"), e)
    }

    func testAbsolutePath() throws {
        let e = try loadError(sprite(Fixture.root.appendingPathComponent("Filters/crown/heart.png").path))
        XCTAssertTrue(e.contains("elements[2].image:") && e.contains("is an absolute path"), e)
    }

    func testSymlinkOut() throws {
        let e = try loadError(sprite("link.png")) { folder in
            try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("link.png").path,
                                                       withDestinationPath: Fixture.root.appendingPathComponent("samples/astronaut.png").path)
        }
        XCTAssertTrue(e.contains("elements[2].image: 'link.png' is a symlink leading outside the filter folder"), e)
    }

    func testNotAPNG() throws {
        let e = try loadError(sprite("text.png")) { folder in
            try "hello".write(to: folder.appendingPathComponent("text.png"), atomically: true, encoding: .utf8)
        }
        XCTAssertTrue(e.contains("elements[2].image: 'text.png' is not a readable PNG"), e)
    }

    func testSymlinkInsideIsFine() throws {
        let folder = dir.appendingPathComponent("ok")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixture.root.appendingPathComponent("Filters/crown/heart.png"), to: folder.appendingPathComponent("a.png"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("b.png").path, withDestinationPath: "a.png")
        try sprite("b.png").write(to: folder.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        let lib = FilterLibrary(folders: [URL(fileURLWithPath: dir.path)], decoder: FilterCatalog.pngDecoder)
        XCTAssertEqual(try lib.load("ok").images.count, 1)
    }

    func testSearchOrderAndBuiltIns() throws {
        // A user folder's filter of the same name hides the built-in one.
        let folder = dir.appendingPathComponent("mask")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #"{"name": "Mine", "description": "user mask", "elements": [{"kind": "blur"}]}"#
            .write(to: folder.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        let lib = FilterLibrary(folders: [URL(fileURLWithPath: dir.path)], decoder: FilterCatalog.pngDecoder)
        XCTAssertEqual(try lib.load("mask").manifest.description, "user mask")
        XCTAssertThrowsError(try lib.load("nosuchfilter")) { XCTAssertTrue("\($0)".contains("not found")) }
        // Every built-in filter validates, and there are at least the 8 the project ships.
        let builtIn = Fixture.library()
        let names = builtIn.list().map(\.name)
        for n in ["mask", "glasses", "dog", "anonymize", "pixelate", "lipstick", "debug", "crown"] { XCTAssertTrue(names.contains(n), n) }
        for n in names { XCTAssertNoThrow(try builtIn.load(n), n) }
    }

    func testConditions() throws {
        let m = try FilterPack.decodeManifest(Data(#"{"name": "x", "elements": [{"kind": "blur", "when": {"jawOpen": ">0.4", "emotion": "happy"}}]}"#.utf8),
                                              shownPath: "f.json")
        let c = try XCTUnwrap(m.elements[0].when)
        XCTAssertTrue(c.holds(blendshapes: ["jawOpen": 0.5], emotions: ["happy": 0.7, "sad": 0.1]))
        XCTAssertFalse(c.holds(blendshapes: ["jawOpen": 0.4], emotions: ["happy": 0.7]))
        XCTAssertFalse(c.holds(blendshapes: ["jawOpen": 0.9], emotions: ["happy": 0.2, "sad": 0.5]))
    }

    /// A classifier's labels (`--classifier`): `class_<label>` comparisons and `"class"` for the most
    /// probable label; the labels a pack tests are listed for the check against the classifier.
    func testClassConditions() throws {
        let m = try FilterPack.decodeManifest(Data(#"{"name": "x", "elements": [{"kind": "blur", "when": {"class_tongue": ">0.6"}}, {"kind": "blur", "when": {"class": "wink", "jawOpen": "<0.5"}}]}"#.utf8),
                                              shownPath: "f.json")
        let a = try XCTUnwrap(m.elements[0].when), b = try XCTUnwrap(m.elements[1].when)
        XCTAssertEqual(a.classLabels, ["tongue"])
        XCTAssertEqual(b.classLabels, ["wink"])
        XCTAssertTrue(a.holds(blendshapes: [:], emotions: [:], classes: ["tongue": 0.7, "wink": 0.3]))
        XCTAssertFalse(a.holds(blendshapes: [:], emotions: [:], classes: ["tongue": 0.6]))
        XCTAssertFalse(a.holds(blendshapes: [:], emotions: [:]), "no classifier: the label scores 0")
        XCTAssertTrue(b.holds(blendshapes: ["jawOpen": 0.1], emotions: [:], classes: ["tongue": 0.2, "wink": 0.8]))
        XCTAssertFalse(b.holds(blendshapes: ["jawOpen": 0.1], emotions: [:], classes: ["tongue": 0.8, "wink": 0.2]))
        XCTAssertThrowsError(try FilterPack.decodeManifest(Data(#"{"name": "x", "elements": [{"kind": "blur", "when": {"class_": ">0.6"}}]}"#.utf8),
                                                           shownPath: "f.json"))
    }

    /// The JSON Schema and the Codable types list the same element kinds.
    func testSchemaListsEveryKind() throws {
        let text = try String(contentsOf: Fixture.root.appendingPathComponent("Filters/filter.schema.json"), encoding: .utf8)
        for k in ElementKind.allCases { XCTAssertTrue(text.contains("\"const\": \"\(k.rawValue)\""), k.rawValue) }
    }
}
