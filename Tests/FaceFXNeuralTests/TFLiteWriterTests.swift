// The `.tflite` writer (what `facefx train` will save): a small classifier written, read back by
// facefx's reader, run by the CPU reference and the GPU engine, against a plain-loop computation
// written here and against the TFLite interpreter's outputs for the same file
// (Tests/Fixtures/goldens/tflite_writer_classifier.{tflite,json}, made by
// tools/goldens/written_model_golden.py with ai-edge-litert 1.4.0).
import Foundation
import XCTest
@testable import FaceFXNeural

final class TFLiteWriterTests: XCTestCase {
    /// 6×6×1 → CONV_2D 3×3 SAME 1→2 +RELU → MAX_POOL 2×2/2 → RESHAPE 18 → FULLY_CONNECTED 18→3 → SOFTMAX,
    /// weights from a fixed formula; labels in the metadata.
    static let labels = ["open", "closed", "tongue"]
    static func filter() -> [Float] { (0..<18).map { Float(($0 * 7) % 11) / 10 - 0.5 } }          // [2, 3, 3, 1]
    static func convBias() -> [Float] { [0.1, -0.2] }
    static func dense() -> [Float] { (0..<54).map { Float(($0 * 5) % 13) / 13 - 0.45 } }          // [3, 18]
    static func denseBias() -> [Float] { [0.05, -0.1, 0.02] }
    static func input() -> [Float] { (0..<36).map { Float(($0 * 3) % 17) / 17 } }

    static func model() -> [UInt8] {
        var w = TFLiteWriter()
        let x = w.addTensor("input", shape: [1, 6, 6, 1])
        let f = w.addTensor("conv/filter", shape: [2, 3, 3, 1], data: filter())
        let b = w.addTensor("conv/bias", shape: [2], data: convBias())
        let c = w.addTensor("conv", shape: [1, 6, 6, 2])
        w.addOperator(.conv2D(strideH: 1, strideW: 1, padding: .same, activation: .relu), inputs: [x, f, b], outputs: [c])
        let p = w.addTensor("pool", shape: [1, 3, 3, 2])
        w.addOperator(.maxPool2D(filterH: 2, filterW: 2, strideH: 2, strideW: 2, padding: .valid), inputs: [c], outputs: [p])
        let shape = w.addInt32Tensor("flat/shape", values: [1, 18])
        let r = w.addTensor("flat", shape: [1, 18])
        w.addOperator(.reshape(newShape: [1, 18]), inputs: [p, shape], outputs: [r])
        let dw = w.addTensor("dense/weights", shape: [3, 18], data: dense())
        let db = w.addTensor("dense/bias", shape: [3], data: denseBias())
        let logits = w.addTensor("logits", shape: [1, 3])
        w.addOperator(.fullyConnected(activation: .none), inputs: [r, dw, db], outputs: [logits])
        let probs = w.addTensor("probabilities", shape: [1, 3])
        w.addOperator(.softmax(beta: 1), inputs: [logits], outputs: [probs])
        return w.write(inputs: [x], outputs: [probs], metadata: [("facefx.labels", Array(labels.joined(separator: "\n").utf8))])
    }

    /// The same network as plain loops (NHWC, TFLite's SAME padding: one row/column of zeros each side).
    static func expected() -> [Float] {
        let x = input(), f = filter(), cb = convBias()
        var conv = [Float](repeating: 0, count: 6 * 6 * 2)
        for y in 0..<6 { for xx in 0..<6 { for o in 0..<2 {
            var s = cb[o]
            for ky in 0..<3 { for kx in 0..<3 {
                let iy = y + ky - 1, ix = xx + kx - 1
                if iy >= 0, iy < 6, ix >= 0, ix < 6 { s += f[(o * 3 + ky) * 3 + kx] * x[iy * 6 + ix] }
            }}
            conv[(y * 6 + xx) * 2 + o] = max(s, 0)
        }}}
        var pool = [Float](repeating: 0, count: 18)
        for y in 0..<3 { for xx in 0..<3 { for o in 0..<2 {
            pool[(y * 3 + xx) * 2 + o] = [conv[((2 * y) * 6 + 2 * xx) * 2 + o], conv[((2 * y) * 6 + 2 * xx + 1) * 2 + o],
                                          conv[((2 * y + 1) * 6 + 2 * xx) * 2 + o], conv[((2 * y + 1) * 6 + 2 * xx + 1) * 2 + o]].max()!
        }}}
        let d = dense(), db = denseBias()
        let logits = (0..<3).map { k in db[k] + (0..<18).reduce(Float(0)) { $0 + d[k * 18 + $1] * pool[$1] } }
        let m = logits.max()!
        let e = logits.map { Foundation.exp($0 - m) }
        return e.map { $0 / e.reduce(0, +) }
    }

    func testWrittenModelLoadsAndRunsAsWritten() throws {
        let bytes = Self.model()
        let model = try TFLiteModel(bytes: bytes, name: "classifier.tflite")
        XCTAssertEqual(model.subgraphs[0].operators.count, 5)
        let labelsBuffer = try XCTUnwrap(model.metadata["facefx.labels"])
        XCTAssertEqual(String(decoding: try XCTUnwrap(model.bufferBytes(labelsBuffer)), as: UTF8.self), Self.labels.joined(separator: "\n"))
        let graph = try Graph(model: model)
        XCTAssertEqual(graph.inputShapes, [[1, 6, 6, 1]])
        let cpu = try CPUReference().run(graph: graph, inputs: [Tensor(shape: [1, 6, 6, 1], data: Self.input())])[0].data
        let expected = Self.expected()
        for (a, b) in zip(cpu, expected) { XCTAssertEqual(a, b, accuracy: 1e-6, "CPU reference vs the loops") }
        // The GPU engine in fp32 (and fp16 within its storage precision).
        for (precision, tolerance) in [(TensorPrecision.fp32, Float(1e-5)), (.fp16, 2e-3)] {
            let net = try gpuEngine(precision).compile(graph, batch: 1)
            let gpu = try net.run(inputs: [Tensor(shape: [36], data: Self.input())])[0].data
            for (a, b) in zip(gpu, expected) { XCTAssertEqual(a, b, accuracy: tolerance, "GPU \(precision) vs the loops") }
        }
    }

    /// Byte for byte the fixture the interpreter ran (the writer is deterministic), and the CPU reference's
    /// outputs equal the interpreter's (fp32, 1e-6). FACEFX_WRITE_FIXTURES=1 rewrites the .tflite fixture;
    /// then regenerate the JSON with tools/goldens/written_model_golden.py.
    func testInterpreterGivesTheSameOutputs() throws {
        let bytes = Self.model()
        let fixture = GoldenCase.dir.appendingPathComponent("tflite_writer_classifier.tflite")
        if ProcessInfo.processInfo.environment["FACEFX_WRITE_FIXTURES"] == "1" {
            try Data(bytes).write(to: fixture)
        }
        XCTAssertEqual(bytes, [UInt8](try Data(contentsOf: fixture)), "the writer's bytes changed: rewrite the fixture and its golden")
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: GoldenCase.dir.appendingPathComponent("tflite_writer_classifier.json"))) as! [String: Any]
        let interpreter = (golden["output"] as! [NSNumber]).map(\.floatValue)
        XCTAssertEqual((golden["input"] as! [NSNumber]).map(\.floatValue), Self.input())
        let graph = try Graph(model: try TFLiteModel(bytes: bytes, name: "classifier.tflite"))
        let cpu = try CPUReference().run(graph: graph, inputs: [Tensor(shape: [1, 6, 6, 1], data: Self.input())])[0].data
        XCTAssertEqual(interpreter.count, 3)
        for (a, b) in zip(cpu, interpreter) { XCTAssertEqual(a, b, accuracy: 1e-6, "facefx vs the TFLite interpreter") }
    }
}
