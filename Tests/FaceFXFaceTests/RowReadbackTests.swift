// The detector's compacted readback (only anchors whose score logit passes the threshold, gathered
// on the GPU by nn/compact_rows.glsl) gives exactly the rows of the full readback, in row order,
// and the same detections.
import FaceFXGPU
import FaceFXNeural
import Foundation
import XCTest
@testable import FaceFXFace

final class RowReadbackTests: XCTestCase {
    func testCompactedDetectorRowsMatchFullReadback() throws {
        guard let u8 = TestSupport.golden("detector_astronaut.in.u8") else { throw MissingTestInput("golden detector_astronaut.in.u8 absent") }
        let face = try Data(contentsOf: u8).map { Float($0) / 127.5 - 1 }
        XCTAssertEqual(face.count, 128 * 128 * 3)
        let det = try GPUTestSupport.networks.get().detector
        let decoder = DetectionDecoder()
        let counts = det.outputElementCounts
        let s = try XCTUnwrap(counts.firstIndex(of: decoder.anchors.count))
        // Items: face, blank grey, face (texels RGBA, lane 3 = 0; the target holds 4 items).
        func texels(_ rgb: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: 128 * 128 * 4)
            for i in 0..<(128 * 128) { for c in 0..<3 { out[4 * i + c] = rgb[3 * i + c] } }
            return out
        }
        let items = [texels(face), [Float](repeating: 0, count: 128 * 128 * 4), texels(face), [Float](repeating: 0, count: 128 * 128 * 4)]
        let target = try det.inputTarget(capacity: 3)
        XCTAssertEqual(target.height, 4 * 128)
        try target.color.upload(floats: items.flatMap { $0 })
        let full = try det.run(count: 3)
        for threshold in [decoder.logitThreshold, -2, 1e9] {
            let rows = try det.runRows(count: 3, score: s, data: 1 - s, threshold: threshold)
            XCTAssertEqual(rows.count, 3)
            for n in 0..<3 {
                let scores = full[n][s].data, regs = full[n][1 - s].data
                let expected = scores.indices.filter { scores[$0] >= threshold }
                XCTAssertEqual(rows[n].map(\.row), expected, "item \(n), threshold \(threshold): rows")
                for r in rows[n] {
                    XCTAssertEqual(r.replica, n)
                    XCTAssertEqual(r.score, scores[r.row])
                    XCTAssertEqual(r.values, Array(regs[(r.row * 16)..<(r.row * 16 + 16)]), "item \(n) row \(r.row)")
                }
            }
            if threshold == decoder.logitThreshold {
                XCTAssertFalse(rows[0].isEmpty, "the face passes")
                XCTAssertTrue(rows[1].isEmpty, "nothing passes on the blank item")
                // Same detections as decoding the full outputs.
                let a = decoder.decode(regressors: full[0][1 - s].data, scores: full[0][s].data)
                let b = decoder.decode(rows: rows[2])
                XCTAssertEqual(a.count, 1)
                XCTAssertEqual(a, b)
            }
        }
        XCTAssertTrue(try det.runRows(count: 3, score: s, data: 1 - s, threshold: 1e9).allSatisfy(\.isEmpty))
    }
}
