import Foundation
import XCTest

/// Mutated copies of a real clip (byte flips, truncations, zeroed ranges) through the real binary:
/// every run must end (per-file timeout), never crash (a signal), and leave no file at the target path
/// when it fails. Deterministic: the mutations come from a fixed seed.
final class FuzzTests: XCTestCase {
    func testTwoHundredMutatedFilesNeverCrashHangOrLeaveOutput() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("seed.mp4").path
        let image = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        try CLI.ffmpeg(["-loop", "1", "-framerate", "15", "-i", image, "-f", "lavfi", "-i", "sine=frequency=500",
                        "-t", "0.8", "-vf", "scale=160:160,format=yuv420p", "-c:v", "libx264", "-g", "4",
                        "-c:a", "aac", "-shortest", source])
        let original = try Data(contentsOf: URL(fileURLWithPath: source))
        var rng = SplitMix64(seed: 0xFACEF)
        var outcomes = [Int32: Int]()
        let count = Int(ProcessInfo.processInfo.environment["FACEFX_FUZZ_COUNT"] ?? "") ?? 200
        for i in 0..<count {
            var data = original
            switch i % 4 {
            case 0: // byte flips
                for _ in 0..<(1 + Int(rng.next() % 24)) {
                    let at = Int(rng.next() % UInt64(data.count))
                    data[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                }
            case 1: // truncation
                data = data.prefix(Int(rng.next() % UInt64(data.count)))
            case 2: // zeroed range
                let at = Int(rng.next() % UInt64(data.count))
                let len = min(data.count - at, 1 + Int(rng.next() % 4096))
                data.replaceSubrange(at..<(at + len), with: Data(count: len))
            default: // flips in the first 2 KB, where the container headers live
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    let at = Int(rng.next() % UInt64(min(2048, data.count)))
                    data[at] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            let input = dir.appendingPathComponent("m\(i).mp4")
            try data.write(to: input)
            let target = dir.appendingPathComponent("out\(i).mp4")
            let r = try CLI.facefx([input.path, target.path, "--quiet"], timeout: 60)
            XCTAssertFalse(r.timedOut, "mutation \(i) hung")
            XCTAssertTrue(r.status == 0 || r.status == 1 || r.status == 2, "mutation \(i) crashed: status \(r.status) \(r.stderr)")
            if r.status != 0 {
                XCTAssertFalse(FileManager.default.fileExists(atPath: target.path), "mutation \(i) left output")
                // Warnings (corrupt packets) may come first; the error is the last line, and there is one.
                let lines = r.stderr.split(separator: "\n")
                XCTAssertTrue(lines.last?.hasPrefix("facefx: error: ") ?? false, "mutation \(i): \(r.stderr)")
                XCTAssertEqual(lines.filter { $0.hasPrefix("facefx: error: ") }.count, 1, "mutation \(i): \(r.stderr)")
            }
            if r.status > 2 || r.timedOut, let keep = ProcessInfo.processInfo.environment["FACEFX_FUZZ_KEEP"] {
                // Keep the input that broke facefx for debugging.
                try? data.write(to: URL(fileURLWithPath: keep).appendingPathComponent("fuzz-\(i).mp4"))
            }
            outcomes[r.status, default: 0] += 1
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: target)
            let leftovers = listing(dir).filter { $0.hasSuffix(".tmp") }
            XCTAssertEqual(leftovers, [], "mutation \(i) left a temporary file")
        }
        print("fuzz outcomes (exit status: count): \(outcomes.sorted { $0.key < $1.key })")
    }
}

/// Small deterministic PRNG (SplitMix64) so fuzz cases are the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
