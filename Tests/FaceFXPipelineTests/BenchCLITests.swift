// `facefx bench`: the GPU benchmarks from the main binary (the same code as facefx-gpubench).
import Foundation
import XCTest

final class BenchCLITests: XCTestCase {
    /// One network, one run: the table row, the pass kind and the CPU-reference check are printed.
    func testBenchNetworksRunsAndChecks() throws {
        let r = try CLI.facefx(["bench", "networks", "--only", "emotion", "--iters", "1", "--batch", "1,2",
                                "--precision", "fp16", "--check"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("| emotion 64 | fp16 | 1 |"), r.stdout)
        XCTAssertTrue(r.stdout.contains("| emotion 64 | fp16 | 2 |"), r.stdout)
        XCTAssertTrue(r.stdout.contains("passes: "), r.stdout)
        // The emotion net against the CPU reference: fp16 storage, error well under 1e-2 of the range.
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.contains("check emotion 64 fp16 batch 1") })
        let value = try XCTUnwrap(line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }.last)
        XCTAssertLessThan(value, 1e-2, String(line))
    }

    /// The pass-cost table: one row per pass size, three positive costs each.
    func testBenchFloorPrintsPassCosts() throws {
        let r = try CLI.facefx(["bench", "floor"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.contains("texels") }
        XCTAssertEqual(rows.map { $0.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" },
                       ["1", "256", "4096", "65536"], r.stdout)
        for row in rows {
            let costs = row.split(separator: "|").dropFirst().compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            XCTAssertEqual(costs.count, 3, String(row))
            XCTAssertTrue(costs.allSatisfy { $0 > 0 && $0.isFinite }, String(row))
        }
    }

    /// Training steps of both inputs: one row per batch, positive times; a wrong input is a usage error.
    func testBenchTrainRunsBothInputs() throws {
        for (input, parameters) in [("grey64", 5987), ("rgb128", 6131)] {
            let r = try CLI.facefx(["bench", "train", "--input", input, "--batch", "2", "--iters", "1"], timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("FaceClassifierNet \(input), 3 classes, \(parameters) parameters"), r.stdout)
            let row = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("| 2 |") }, r.stdout)
            let values = row.split(separator: "|").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            XCTAssertEqual(values.count, 5, String(row))
            XCTAssertTrue(values.allSatisfy { $0 > 0 && $0.isFinite }, String(row))
        }
        let bad = try CLI.facefx(["bench", "train", "--input", "rgb64"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--input must be grey64 or rgb128"), bad.stderr)
    }

    /// The smoothing bench: a row per face count and pass, positive costs, on one thread and on all.
    func testBenchSmoothingPrintsCostsPerFaceFrame() throws {
        for threads in [["--threads", "1"], []] {
            let r = try CLI.facefx(["bench", "smoothing", "--faces", "2", "--frames", "60"] + threads, timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("| 2 |") }
            XCTAssertEqual(rows.count, 2, r.stdout)
            for row in rows {
                let values = row.split(separator: "|").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                XCTAssertEqual(values.count, 3, String(row))
                XCTAssertTrue(values.allSatisfy { $0 > 0 && $0.isFinite }, String(row))
            }
        }
    }

    func testBenchUnknownCommandIsAUsageError() throws {
        let r = try CLI.facefx(["bench", "nonsense"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("unknown command nonsense"), r.stderr)
    }
}
