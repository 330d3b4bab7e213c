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
