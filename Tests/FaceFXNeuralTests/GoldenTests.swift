import Foundation
import XCTest
@testable import FaceFXNeural

/// CPU reference vs the TFLite interpreter (builtin float kernels, XNNPACK off).
final class GoldenTests: XCTestCase {
    /// Max |error| allowed, as a fraction of the output's range (or of |value| for a scalar).
    let relativeTolerance: Float = 1e-4

    @discardableResult
    func check(_ caseName: String, tolerance: Float? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let g = try GoldenCase.load(caseName)
        let graph = try TestModels.graph(g.modelName)
        let t0 = Date()
        let outs = try CPUReference().run(graph: graph, inputs: [g.input])
        let seconds = Date().timeIntervalSince(t0)
        var errors: [Float] = []
        for (k, expected) in g.outputs.enumerated() {
            XCTAssertEqual(outs[k].count, expected.tensor.count, file: file, line: line)
            let err = outs[k].maxAbsDifference(expected.tensor)
            let scale = max(expected.range, expected.tensor.data.map(abs).max() ?? 0, 1e-6)
            errors.append(err)
            print(String(format: "golden %@ output %@: max abs error %.3g (range %.4g, rel %.3g), CPU %.2f s",
                         caseName, expected.name, err, expected.range, err / scale, seconds))
            XCTAssertLessThanOrEqual(err, (tolerance ?? relativeTolerance) * scale,
                                     "\(caseName) output \(expected.name)", file: file, line: line)
        }
        return errors
    }

    func testDetectorAstronaut() throws { try check("detector_astronaut") }
    func testDetectorCamera() throws { try check("detector_camera") }
    func testDetectorFullRange() throws { try check("detector_fullrange_astronaut") }
    func testBlendshapes() throws { try check("blendshapes_astronaut") }
    func testLandmarksAstronaut() throws { try check("landmarks_astronaut") }
    func testLandmarksCamera() throws { try check("landmarks_camera") }

    /// The emotion net's weights are int8; TFLite runs hybrid kernels (activations quantized on the fly),
    /// facefx dequantizes at load. Tight against the float-weights reference, loose against the hybrid output.
    func testEmotion() throws {
        let g = try GoldenCase.load("emotion_astronaut")
        let graph = try TestModels.graph(g.modelName)
        let out = try CPUReference().run(graph: graph, inputs: [g.input])[0]
        let fw = Tensor(shape: [1, 7], data: GoldenCase.floats(try Data(contentsOf: GoldenCase.dir.appendingPathComponent("emotion_astronaut.fw.out0.f32"))))
        let errFloat = out.maxAbsDifference(fw)
        let errHybrid = out.maxAbsDifference(g.outputs[0].tensor)
        print("golden emotion_astronaut: max abs error vs float-weights reference \(errFloat), vs TFLite hybrid \(errHybrid)")
        XCTAssertLessThanOrEqual(errFloat, 1e-4)
        XCTAssertLessThanOrEqual(errHybrid, 1e-2)
        XCTAssertEqual(out.data.firstIndex(of: out.data.max()!), 3)  // happy
    }
}
