// The detector's gated readback (scores first, box regressors only for tiles with a candidate)
// gives exactly the outputs of the plain run for the kept tiles and empty ones for the others.
import FaceFXGPU
import FaceFXNeural
import Foundation
import XCTest
@testable import FaceFXFace

final class GatedReadbackTests: XCTestCase {
    func testGatedDetectorReadbackMatchesFullReadback() throws {
        guard let u8 = TestSupport.golden("detector_astronaut.in.u8") else { throw XCTSkip("detector golden absent") }
        let face = try Data(contentsOf: u8).map { Float($0) / 127.5 - 1 }
        XCTAssertEqual(face.count, 128 * 128 * 3)
        let det = try GPUTestSupport.networks.get().detector
        let decoder = DetectionDecoder()
        let counts = det.outputElementCounts
        let scoreOutput = try XCTUnwrap(counts.firstIndex(of: decoder.anchors.count))
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
        let gated = try det.run(count: 3, gate: scoreOutput, keep: { decoder.anyCandidate(scores: $0) })
        XCTAssertEqual(gated.count, 3)
        for n in [0, 2] {
            XCTAssertTrue(decoder.anyCandidate(scores: full[n][scoreOutput].data), "item \(n) has a face")
            for k in counts.indices { XCTAssertEqual(gated[n][k].data, full[n][k].data, "item \(n) output \(k)") }
        }
        XCTAssertFalse(decoder.anyCandidate(scores: full[1][scoreOutput].data), "the blank item has no candidate")
        XCTAssertEqual(gated[1][scoreOutput].data, full[1][scoreOutput].data)
        XCTAssertEqual(gated[1][1 - scoreOutput].count, 0, "no regressors read for the blank item")
        // Same detections either way.
        let a = decoder.decode(regressors: full[0][1 - scoreOutput].data, scores: full[0][scoreOutput].data)
        let b = decoder.decode(regressors: gated[2][1 - scoreOutput].data, scores: gated[2][scoreOutput].data)
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(a.map(\.box.minX), b.map(\.box.minX))
    }
}
