// samples/: the example CSV matches today's columns, and the plotting script draws it.
import Foundation
import XCTest
@testable import FaceFXPipeline

final class SamplesTests: XCTestCase {
    var samples: URL { CLI.packageRoot.appendingPathComponent("samples") }

    /// samples/faces.csv must be regenerated when the columns change:
    /// `facefx analyze samples/face.mp4 --csv samples/faces.csv --overwrite`.
    func testExampleCSVHasCurrentHeader() throws {
        let (header, rows) = try readCSVWithPython(samples.appendingPathComponent("faces.csv"))
        XCTAssertEqual(header, FaceRecordColumns.csvHeader(landmarks: false))
        XCTAssertEqual(header, AnalyzeCLITests.expectedHeader(landmarks: false))
        XCTAssertEqual(rows.count, 120)   // one face on each of face.mp4's 120 frames
        XCTAssertEqual(Set(rows.map { $0[2] }), ["1"])
    }

    /// plot_expressions.sh makes its venv (matplotlib from PyPI) and writes a PNG; skipped when
    /// matplotlib cannot be installed (no network).
    func testPlotScriptWritesPNG() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("expr.png")
        let r = try CLI.run("/bin/bash", [samples.appendingPathComponent("plot_expressions.sh").path,
                                          samples.appendingPathComponent("faces.csv").path, png.path,
                                          "mouthSmileLeft", "jawOpen", "emotion_happy", "yaw"], timeout: 600)
        if r.status != 0 {
            let venvPython = samples.appendingPathComponent(".venv-plot/bin/python").path
            let probe = try? CLI.run(venvPython, ["-c", "import matplotlib"], timeout: 60)
            if probe?.status != 0 { throw XCTSkip("matplotlib not installable here: \(r.stderr.suffix(300))") }
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("4 series"), r.stdout)
        let data = try Data(contentsOf: png)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertGreaterThan(data.count, 10_000)

        // A column that does not exist: a clear one-line error, no PNG.
        let bad = try CLI.run("/bin/bash", [samples.appendingPathComponent("plot_expressions.sh").path,
                                            samples.appendingPathComponent("faces.csv").path, dir.appendingPathComponent("x.png").path,
                                            "smile"], timeout: 120)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("no column smile"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.png").path))
    }
}
