import Foundation
import XCTest
@testable import FaceFXNeural

/// Layer-by-layer comparison with the TFLite interpreter's intermediate tensors, for debugging.
/// Opt in: dump with
///   tools/.venv/bin/python tools/goldens/make_goldens.py --dump-intermediates DIR --case C ...
/// (in the goldens worktree; add --float-weights for emotion), then run with FACEFX_DUMP_DIR=DIR.
final class IntermediateTests: XCTestCase {
    func testEveryIntermediateMatchesTFLite() throws {
        guard let dir = ProcessInfo.processInfo.environment["FACEFX_DUMP_DIR"] else {
            throw XCTSkip("set FACEFX_DUMP_DIR to a --dump-intermediates folder")
        }
        let root = URL(fileURLWithPath: dir)
        let cases = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        for c in cases {
            let indexURL = root.appendingPathComponent(c).appendingPathComponent("index.json")
            guard let data = try? Data(contentsOf: indexURL) else { continue }
            let index = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            let golden = try GoldenCase.load(c)
            let graph = try TestModels.graph(golden.modelName)
            let trace = try CPUReference().trace(graph: graph, inputs: [golden.input])
            var worst: [(Float, String)] = []
            for entry in index["tensors"] as! [[String: Any]] {
                guard let file = entry["file"] as? String, let i = entry["index"] as? Int, i < graph.tensors.count,
                      let mine = trace.values[i], !graph.tensors[i].isConstant,
                      graph.ops.contains(where: { $0.outputs.contains(i) }) else { continue }
                XCTAssertEqual(entry["name"] as? String, graph.tensors[i].name)
                let theirs = try Self.readNpy(root.appendingPathComponent(c).appendingPathComponent(file))
                XCTAssertEqual(theirs.count, mine.count, graph.tensors[i].name)
                guard theirs.count == mine.count else { continue }
                var err: Float = 0, lo = Float.infinity, hi = -Float.infinity
                for k in 0..<mine.count {
                    err = max(err, abs(mine.data[k] - theirs[k]))
                    lo = min(lo, theirs[k]); hi = max(hi, theirs[k])
                }
                let rel = err / max(hi - lo, abs(hi), abs(lo), 1e-6)
                let op = graph.ops.first { $0.outputs.contains(i) }!
                worst.append((rel, "\(op.kind.rawValue) #\(op.sourceIndex) \(graph.tensors[i].name)"))
            }
            worst.sort { $0.0 > $1.0 }
            print("intermediates \(c): \(worst.count) tensors compared, worst relative errors:")
            for w in worst.prefix(3) { print(String(format: "  %.3g  %@", w.0, w.1)) }
            XCTAssertGreaterThan(worst.count, 0, c)
            XCTAssertLessThanOrEqual(worst.first?.0 ?? 0, 1e-4, c)
        }
    }

    /// Little-endian float32 .npy (as written by numpy.save), C order.
    static func readNpy(_ url: URL) throws -> [Float] {
        let d = [UInt8](try Data(contentsOf: url))
        guard d.count > 10, d[0] == 0x93, d[1] == UInt8(ascii: "N") else { throw CocoaError(.fileReadCorruptFile) }
        let major = d[6]
        let headerLength = major == 1 ? Int(d[8]) | Int(d[9]) << 8 : Int(d[8]) | Int(d[9]) << 8 | Int(d[10]) << 16 | Int(d[11]) << 24
        let start = (major == 1 ? 10 : 12) + headerLength
        let header = String(decoding: d[(major == 1 ? 10 : 12)..<start], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False") else { throw CocoaError(.fileReadCorruptFile) }
        return stride(from: start, to: d.count - 3, by: 4).map {
            Float(bitPattern: UInt32(d[$0]) | UInt32(d[$0 + 1]) << 8 | UInt32(d[$0 + 2]) << 16 | UInt32(d[$0 + 3]) << 24)
        }
    }
}
