import Foundation
import XCTest
@testable import FaceFXNeural

/// Every network parses into the known op lists, tensor counts and shapes.
final class ModelLoadingTests: XCTestCase {
    struct Facts {
        let file: String
        let tensors: Int
        let rawOperators: Int
        let inputs: [[Int]]
        let outputs: [[Int]]
        let ops: [OpKind: Int]
    }

    static let detectorOps: [OpKind: Int] = [.conv2D: 21, .depthwiseConv2D: 16, .add: 16, .relu: 17, .pad: 11,
                                             .maxPool2D: 3, .reshape: 4, .concatenation: 2]
    static let facts: [Facts] = [
        Facts(file: "face_detector.tflite", tensors: 250, rawOperators: 164, inputs: [[1, 128, 128, 3]],
              outputs: [[1, 896, 16], [1, 896, 1]], ops: detectorOps),
        Facts(file: "face_detection_short_range.tflite", tensors: 250, rawOperators: 164, inputs: [[1, 128, 128, 3]],
              outputs: [[1, 896, 16], [1, 896, 1]], ops: detectorOps),
        Facts(file: "face_landmarks_detector.tflite", tensors: 727, rawOperators: 471, inputs: [[1, 256, 256, 3]],
              outputs: [[1, 1, 1, 1434], [1, 1, 1, 1], [1, 1]],
              ops: [.conv2D: 72, .depthwiseConv2D: 34, .add: 34, .prelu: 69, .logistic: 1, .pad: 3, .maxPool2D: 6, .reshape: 1]),
        Facts(file: "face_blendshapes.tflite", tensors: 245, rawOperators: 182, inputs: [[1, 146, 2]], outputs: [[52]],
              ops: [.conv2D: 19, .add: 24, .sub: 1, .mul: 26, .div: 1, .squaredDifference: 8, .logistic: 1, .neg: 8,
                    .sqrt: 1, .rsqrt: 8, .mean: 18, .sum: 1, .reshape: 2, .transpose: 10, .stridedSlice: 4, .concatenation: 1]),
        Facts(file: "emotion_fer_quantized.tflite", tensors: 78, rawOperators: 33, inputs: [[1, 64, 64, 1]], outputs: [[1, 7]],
              ops: [.conv2D: 15, .depthwiseConv2D: 8, .add: 4, .maxPool2D: 4, .mean: 1, .softmax: 1]),
        Facts(file: "face_detection_full_range_sparse.tflite", tensors: 577, rawOperators: 388, inputs: [[1, 192, 192, 3]],
              outputs: [[1, 2304, 16], [1, 2304, 1]],
              ops: [.conv2D: 49, .depthwiseConv2D: 42, .add: 19, .pad: 43, .reshape: 2, .resizeBilinear: 3, .depthToSpace: 2]),
        Facts(file: "face_landmark.tflite", tensors: 327, rawOperators: 210, inputs: [[1, 192, 192, 3]],
              outputs: [[1, 1, 1, 1404], [1, 1, 1, 1]],
              ops: [.conv2D: 25, .depthwiseConv2D: 20, .add: 20, .prelu: 23, .pad: 3, .maxPool2D: 6]),
        Facts(file: "iris_landmark.tflite", tensors: 386, rawOperators: 169, inputs: [[1, 64, 64, 3]], outputs: [[1, 213], [1, 15]],
              ops: [.conv2D: 55, .depthwiseConv2D: 26, .add: 26, .prelu: 53, .pad: 1, .maxPool2D: 6, .reshape: 2]),
    ]

    func testEveryModelMatchesKnownFacts() throws {
        for f in Self.facts {
            let model = try TestModels.model(f.file)
            XCTAssertEqual(model.subgraphs[0].tensors.count, f.tensors, f.file)
            XCTAssertEqual(model.subgraphs[0].operators.count, f.rawOperators, f.file)
            let g = try Graph(model: model)
            XCTAssertEqual(g.inputShapes, f.inputs, f.file)
            XCTAssertEqual(g.outputShapes, f.outputs, f.file)
            var counts: [OpKind: Int] = [:]
            for op in g.ops { counts[op.kind, default: 0] += 1 }
            XCTAssertEqual(counts, f.ops, f.file)
            // Only compute ops on float tensors remain: every op input is a float constant or computed.
            let produced = Set(g.ops.flatMap(\.outputs)).union(g.inputs)
            for op in g.ops { for t in op.inputs { XCTAssertTrue(g.tensors[t].isConstant || produced.contains(t), f.file) } }
            XCTAssertTrue(g.summary().contains("CONV_2D"), f.file)
        }
    }

    func testGoldenOpSequencesAgree() throws {
        // The goldens' JSON lists the TFLite op sequence written by the Python side; compare compute ops.
        for name in ["detector_astronaut", "landmarks_astronaut", "blendshapes_astronaut", "emotion_astronaut", "detector_fullrange_astronaut"] {
            let golden = try GoldenCase.load(name)
            let seq = ((golden.json["model"] as! [String: Any])["ops"] as! [String: Any])["sequence"] as! [String]
            let compute = seq.filter { $0 != "DEQUANTIZE" && $0 != "DENSIFY" }
            let g = try TestModels.graph(golden.modelName)
            XCTAssertEqual(g.ops.map(\.kind.rawValue), compute, name)
        }
    }

    func testEmotionHasInt8WeightsOnly() throws {
        let model = try TestModels.model("emotion_fer_quantized.tflite")
        let sg = model.subgraphs[0]
        let int8 = sg.tensors.filter { $0.type == .int8 }
        XCTAssertEqual(int8.count, 9)
        // All int8 tensors are constants (weights); activations stay float32, no QUANTIZE op.
        for t in int8 { XCTAssertFalse(model.bufferRanges[t.buffer].isEmpty, t.name) }
        XCTAssertFalse(model.operatorCodes.contains { $0.name == "QUANTIZE" || $0.name == "DEQUANTIZE" })
        let g = try Graph(model: model)
        XCTAssertTrue(g.notes.contains { $0.contains("hybrid") }, g.notes.description)
        // Per-channel scales: dequantized weights are not all on one grid.
        let conv = g.ops.first { $0.kind == .conv2D && model.subgraphs[0].tensors[$0.inputs[1]].type == .int8 }!
        XCTAssertGreaterThan(model.subgraphs[0].tensors[conv.inputs[1]].quantization!.scale.count, 1)
    }

    func testSparseWeightsDensified() throws {
        let model = try TestModels.model("face_detection_full_range_sparse.tflite")
        let sparse = model.subgraphs[0].tensors.filter { $0.sparsity != nil }
        XCTAssertEqual(sparse.count, 46)
        let g = try Graph(model: model)
        XCTAssertTrue(g.notes.contains("46 sparse constants densified at load"), g.notes.description)
    }

    func testTaskBundleMembers() throws {
        let bundle = try TaskBundle(contentsOf: try TestModels.url("face_landmarker.task"))
        XCTAssertEqual(Set(bundle.memberNames), ["face_detector.tflite", "face_landmarks_detector.tflite", "face_blendshapes.tflite",
                                                 "geometry_pipeline_metadata_landmarks.binarypb"])
        XCTAssertEqual(try bundle.data(of: "geometry_pipeline_metadata_landmarks.binarypb").count, 19376)
        XCTAssertThrowsError(try bundle.data(of: "nope.tflite")) { XCTAssertTrue("\($0)".contains("nope.tflite")) }
        // The bundle's detector is the same network as the standalone short-range file.
        let a = try bundle.data(of: "face_detector.tflite")
        XCTAssertEqual(a.count, 229_746)
        var corrupted = bundle.bytes
        let member = bundle.members.first { $0.name == "face_detector.tflite" }!
        corrupted[member.localHeader + 100] ^= 0xff
        XCTAssertThrowsError(try TaskBundle(bytes: corrupted, name: "x.task").data(of: "face_detector.tflite")) {
            XCTAssertTrue("\($0)".contains("CRC"), "\($0)")
        }
        XCTAssertThrowsError(try TaskBundle(bytes: [UInt8](repeating: 0, count: 100), name: "zero.task"))
    }

    func testWithBatch() throws {
        let g = try TestModels.graph("face_detector.tflite")
        let g3 = try g.withBatch(3)
        XCTAssertEqual(g3.inputShapes, [[3, 128, 128, 3]])
        XCTAssertEqual(g3.outputShapes, [[3, 896, 16], [3, 896, 1]])
        XCTAssertEqual(try g3.withBatch(1).outputShapes, g.outputShapes)
        // The blendshape net concatenates a constant [1,1,1,64] token with the batch: batch 1 only.
        XCTAssertThrowsError(try TestModels.graph("face_blendshapes.tflite").withBatch(2))
    }

    /// Two different images in one batch give the same results as two single runs.
    func testBatchedRunMatchesSingleRuns() throws {
        let a = try GoldenCase.load("detector_astronaut"), b = try GoldenCase.load("detector_camera")
        let g = try TestModels.graph("face_detector.tflite")
        let both = Tensor(shape: [2, 128, 128, 3], data: a.input.data + b.input.data)
        let outs = try CPUReference().run(graph: try g.withBatch(2), inputs: [both])
        XCTAssertEqual(outs[0].shape, [2, 896, 16])
        let single = try CPUReference().run(graph: g, inputs: [b.input])
        XCTAssertEqual(Array(outs[0].data[(896 * 16)...]), single[0].data)
    }

    func testTraceFetchesIntermediatesByName() throws {
        let g = try TestModels.graph("emotion_fer_quantized.tflite")
        let x = Tensor(shape: [1, 64, 64, 1], repeating: 0.25)
        let trace = try CPUReference().trace(graph: g, inputs: [x])
        let firstOut = g.tensors[g.ops[0].outputs[0]]
        XCTAssertEqual(trace.tensor(named: firstOut.name)?.shape, firstOut.shape)
        XCTAssertEqual(trace.outputs[0], try CPUReference().run(graph: g, inputs: [x])[0])
        XCTAssertThrowsError(try CPUReference().run(graph: g, inputs: [Tensor(shape: [1, 32, 32, 1])]))
    }
}
