import XCTest
import Foundation
@testable import FaceFXNeural

final class ScratchDump: XCTestCase {
    func testDumpGraphs() throws {
        let dir = URL(fileURLWithPath: "/work/shared/models")
        var models: [TFLiteModel] = []
        let task = try TaskBundle(contentsOf: dir.appendingPathComponent("face_landmarker.task"))
        for m in task.memberNames where m.hasSuffix(".tflite") { models.append(try task.model(m)) }
        for f in ["emotion_fer_quantized.tflite", "face_detection_full_range_sparse.tflite", "face_detection_short_range.tflite", "face_landmark.tflite", "iris_landmark.tflite"] {
            models.append(try TFLiteModel(contentsOf: dir.appendingPathComponent(f)))
        }
        for m in models {
            let t0 = Date()
            do {
                let g = try Graph(model: m)
                print(g.summary(), "load", Date().timeIntervalSince(t0))
                if ProcessInfo.processInfo.environment["LISTING"] == m.name { print(g.opListing()); for op in g.ops { print(op.kind, op.options) } }
            } catch { print("ERROR", error) }
        }
    }
}
