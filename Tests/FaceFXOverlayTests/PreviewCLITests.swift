// `facefx filters` and `facefx preview` through the built binary.
import FaceFXMedia
import Foundation
import XCTest

final class PreviewCLITests: XCTestCase {
    var facefx: String {
        var dir = Bundle(for: PreviewCLITests.self).bundleURL
        for _ in 0..<3 {
            let c = dir.appendingPathComponent("facefx").path
            if FileManager.default.isExecutableFile(atPath: c) { return c }
            dir = dir.deletingLastPathComponent()
        }
        return Fixture.root.appendingPathComponent(".build/debug/facefx").path
    }

    func run(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: facefx)
        p.arguments = args
        p.currentDirectoryURL = Fixture.root
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testFiltersListing() throws {
        let (code, out, _) = try run(["filters"])
        XCTAssertEqual(code, 0)
        for n in RenderTests.builtIns { XCTAssertTrue(out.contains("\n\(n) ") || out.hasPrefix("\(n) "), n) }
    }

    func testPreviewSheetAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facefx-preview-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sheet = dir.appendingPathComponent("sheet.png").path
        let faces = "Tests/Fixtures/goldens/pipeline_astronaut.json"
        var (code, out, err) = try run(["preview", "samples/face.mp4", "--filter", "mask", "--filter", "debug", "-o", sheet, "--frames", "4", "--faces", faces])
        XCTAssertEqual(code, 0, err)
        XCTAssertTrue(out.contains("4 frames"), out)
        let (w, h, _) = try PNGCodec.decodeRGBA(path: sheet)
        XCTAssertEqual(w, 960); XCTAssertEqual(h, 540)
        // Usage errors: exit 2, one line naming the problem.
        (code, _, err) = try run(["preview", "samples/face.mp4", "--filter", "nosuch", "-o", dir.appendingPathComponent("x.png").path, "--faces", faces])
        XCTAssertEqual(code, 2); XCTAssertTrue(err.contains("filter 'nosuch' not found"), err)
        (code, _, err) = try run(["preview", "samples/face.mp4", "--filter", "mask", "-o", sheet, "--faces", faces])
        XCTAssertEqual(code, 2); XCTAssertTrue(err.contains("already exists"), err)
        (code, _, err) = try run(["preview", "samples/face.mp4", "--filter", "mask", "-o", dir.appendingPathComponent("y.png").path,
                                  "--faces", "Package.swift"])
        XCTAssertEqual(code, 2); XCTAssertTrue(err.contains("Package.swift"), err)
        XCTAssertEqual(err.split(separator: "\n").count, 1)
    }
}
