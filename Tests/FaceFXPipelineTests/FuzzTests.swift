import Foundation
import XCTest

/// The small fixed-seed corpus of facefx's fuzzer (`tools/fuzz`, README: fuzzing): mutated mp4, webm,
/// mkv, MPEG-TS (a frame size change included) and PNG files through render and detect, and mutated filter
/// packs through `filters --check`. Every run must end (time limit), never crash, fail with exactly one
/// `facefx: error:` line and leave nothing at the target. `make fuzz` runs 1000 inputs with analysis too.
final class FuzzTests: XCTestCase {
    func testFixedSeedCorpusHasNoCrashHangOrMessyError() throws {
        let p = Process()
        p.executableURL = CLI.packageRoot.appendingPathComponent("tools/fuzz")
        p.arguments = ["--facefx", CLI.facefxPath, "--count", "80", "--seed", "1", "--quick", "--timeout", "60"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        print(report)
        XCTAssertEqual(p.terminationStatus, 0, "findings:\n\(report)")
        XCTAssertTrue(report.contains("fuzz: 80 inputs (seed 1)"), report)
    }
}

/// Inputs fuzzing found mishandled, kept as fixtures (Tests/Fixtures/fuzz): each must now fail in
/// render and analyze alike, exit 1, blaming the input and leaving no output.
final class FuzzRegressionTests: XCTestCase {
    func testFuzzFindingsBlameTheInputInEveryCommand() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixtures = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/fuzz")
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).sorted()
        // no-frame-size.webm: header bytes of a VP9 WebM flipped; render blamed its output
        // ("o.mp4: encoder error (input has no frame size)") where analyze blamed the input.
        XCTAssertTrue(files.contains("no-frame-size.webm"))
        for name in files {
            let input = fixtures.appendingPathComponent(name).path
            for (command, output) in [([input, dir.appendingPathComponent("o.mp4").path], "o.mp4"),
                                      (["analyze", input, "--csv", dir.appendingPathComponent("o.csv").path], "o.csv")] {
                let r = try CLI.facefx(command, timeout: 60)
                XCTAssertEqual(r.status, 1, "\(name) \(command[0]): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("facefx: error: \(input): "), "\(name): blames the input: \(r.stderr)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(output).path))
            }
        }
    }
}
