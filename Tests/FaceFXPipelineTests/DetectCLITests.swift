// `facefx detect` through the built binary: JSON shape and content, the table, zero faces, errors.
// The networks run on the CPU reference (a few seconds per image in debug).
import Foundation
import XCTest

final class DetectCLITests: XCTestCase {
    var samples: URL { CLI.packageRoot.appendingPathComponent("samples") }

    func testAstronautJSON() throws {
        let r = try CLI.facefx(["detect", samples.appendingPathComponent("astronaut.png").path, "--json"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(json["width"] as? Int, 512)
        XCTAssertEqual(json["height"] as? Int, 512)
        let faces = try XCTUnwrap(json["faces"] as? [[String: Any]])
        XCTAssertEqual(faces.count, 1)
        let f = try XCTUnwrap(faces.first)
        XCTAssertEqual(f["id"] as? Int, 1)
        let lm = try XCTUnwrap(f["landmarks"] as? [[Double]])
        XCTAssertEqual(lm.count, 478)
        XCTAssertTrue(lm.allSatisfy { $0.count == 3 })
        let box = try XCTUnwrap(f["box"] as? [String: Double])
        XCTAssertEqual(Set(box.keys), ["x", "y", "width", "height"])
        XCTAssertEqual(box["x"]!, 180, accuracy: 5); XCTAssertEqual(box["y"]!, 71, accuracy: 5)
        XCTAssertGreaterThan(f["score"] as? Double ?? 0, 0.9)
        let bs = try XCTUnwrap(f["blendshapes"] as? [String: Double])
        XCTAssertEqual(bs.count, 52)
        XCTAssertGreaterThan(bs["mouthSmileLeft"] ?? 0, 0.5)
        let emo = try XCTUnwrap(f["emotions"] as? [String: Double])
        XCTAssertEqual(Set(emo.keys), ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
        XCTAssertEqual(f["top_emotion"] as? String, "happy")
        let pose = try XCTUnwrap(f["pose"] as? [String: Any])
        XCTAssertEqual((pose["matrix"] as? [Double])?.count, 16)
        XCTAssertEqual(pose["pitch"] as? Double ?? 0, -14.9, accuracy: 2)
        // The still went through FFmpeg (RGB → full-range 4:4:4 YUV) and the GPU colour stage: landmarks
        // still agree with MediaPipe's on the original RGB pixels.
        let gold = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/goldens/pipeline_astronaut.json")
        if let g = try? JSONSerialization.jsonObject(with: Data(contentsOf: gold)) as? [String: Any],
           let mp = ((g["faces"] as? [[String: Any]])?.first?["landmarks_xyz"] as? [[Double]]) {
            let err = zip(lm, mp).map { hypot($0[0] - $1[0] * 512, $0[1] - $1[1] * 512) }.reduce(0, +) / 478
            print(String(format: "facefx detect astronaut.png: mean landmark distance to MediaPipe %.3f px", err))
            XCTAssertLessThan(err, 0.6)   // 1% of the 60 px eye distance
        }
    }

    /// A JPEG (4:2:0, full range, centred chroma) and the table output.
    /// The assumed camera field of view changes the head's distance (same picture, narrower lens = farther away).
    func testFieldOfViewIsOverridable() throws {
        func tz(_ extra: [String]) throws -> Double {
            let r = try CLI.facefx(["detect", samples.appendingPathComponent("astronaut.png").path, "--json"] + extra, timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let face = try XCTUnwrap((json["faces"] as? [[String: Any]])?.first)
            let t = try XCTUnwrap((face["pose"] as? [String: Any])?["translation"] as? [Double])
            return t[2]
        }
        let normal = try tz([]), narrow = try tz(["--fov", "40"])
        XCTAssertEqual(normal, -70, accuracy: 3, "63° like MediaPipe: MediaPipe puts the astronaut 70 cm away")
        XCTAssertLessThan(narrow, normal - 30)
    }

    func testJPEGTable() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let jpg = dir.appendingPathComponent("astronaut.jpg")
        try CLI.ffmpeg(["-i", samples.appendingPathComponent("astronaut.png").path, "-q:v", "2", jpg.path])
        let r = try CLI.facefx(["detect", jpg.path], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "astronaut.jpg: 512x512, 1 face")
        XCTAssertEqual(lines.count, 3, r.stdout)
        XCTAssertTrue(lines[1].hasPrefix("id"))
        XCTAssertTrue(lines.last?.hasPrefix("1 ") ?? false)
        XCTAssertTrue(lines.last?.contains("happy") ?? false, r.stdout)
        XCTAssertTrue(lines.last?.contains("mouthSmile") ?? false, r.stdout)
    }

    func testNoFaceIsAnEmptyListAndSuccess() throws {
        let noface = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/noface.png").path
        let r = try CLI.facefx(["detect", noface, "--json"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["faces"] as? [Any])?.count, 0)
    }

    func testErrors() throws {
        let missing = try CLI.facefx(["detect", "/nonexistent/x.png"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "facefx: error: /nonexistent/x.png: no such file\n")
        let notMedia = try CLI.facefx(["detect", CLI.packageRoot.appendingPathComponent("Package.swift").path])
        XCTAssertEqual(notMedia.status, 1)
        XCTAssertTrue(notMedia.stderr.hasPrefix("facefx: error: ") && notMedia.stderr.contains("Package.swift"), notMedia.stderr)
        XCTAssertEqual(notMedia.stderr.filter { $0 == "\n" }.count, 1)
        let badCount = try CLI.facefx(["detect", samples.appendingPathComponent("astronaut.png").path, "--max-faces", "0"])
        XCTAssertEqual(badCount.status, 2)
        let badModels = try CLI.run(CLI.facefxPath, ["detect", samples.appendingPathComponent("astronaut.png").path],
                                    env: ["FACEFX_MODELS_DIR": "/nonexistent"])
        XCTAssertEqual(badModels.status, 2)
        XCTAssertTrue(badModels.stderr.contains("FACEFX_MODELS_DIR"), badModels.stderr)
    }
}
