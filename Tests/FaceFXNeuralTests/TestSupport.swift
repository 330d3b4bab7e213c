import Foundation
import XCTest
@testable import FaceFXNeural

/// Finds network files: `Models/` at the package root when present, else the shared copy.
enum TestModels {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ file: String) throws -> URL {
        let candidates = [packageRoot.appendingPathComponent("Models"), packageRoot.appendingPathComponent("Tests/Fixtures/models")]
        for dir in candidates {
            let u = dir.appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: u.path) { return u }
        }
        throw MissingTestInput("network file \(file) not found in Models/ or Tests/Fixtures/models/")
    }

    /// A `.tflite` file, or a member of the landmarker bundle (`face_landmarker.task`).
    static func model(_ name: String) throws -> TFLiteModel {
        if ["face_detector.tflite", "face_landmarks_detector.tflite", "face_blendshapes.tflite"].contains(name) {
            return try TaskBundle(contentsOf: try url("face_landmarker.task")).model(name)
        }
        return try TFLiteModel(contentsOf: try url(name))
    }

    static func graph(_ name: String) throws -> Graph { try Graph(model: try model(name)) }
}

/// One golden case written by tools/goldens (TFLite interpreter outputs on real faces).
struct GoldenCase {
    let name: String
    let modelName: String
    let input: Tensor
    let outputs: [(name: String, tensor: Tensor, range: Float)]
    let json: [String: Any]

    static let dir = TestModels.packageRoot.appendingPathComponent("Tests/Fixtures/goldens")

    static func load(_ name: String) throws -> GoldenCase {
        let jsonURL = dir.appendingPathComponent("\(name).json")
        guard FileManager.default.fileExists(atPath: jsonURL.path) else { throw MissingTestInput("golden \(name) not present") }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: jsonURL)) as! [String: Any]
        let model = json["model"] as! [String: Any]
        let modelName = (model["member"] as? String) ?? URL(fileURLWithPath: model["file"] as! String).lastPathComponent
        let inp = json["input"] as! [String: Any]
        let shape = (inp["shape"] as! [Int])
        let raw = try Data(contentsOf: dir.appendingPathComponent(inp["file"] as! String))
        var values: [Float]
        if (inp["file_dtype"] as! String) == "uint8" {
            let scale = Float(inp["mapping_scale"] as! Double), offset = Float(inp["mapping_offset"] as! Double)
            values = raw.map { Float($0) * scale + offset }
        } else {
            values = floats(raw)
        }
        var outs: [(String, Tensor, Float)] = []
        for o in json["outputs"] as! [[String: Any]] {
            let t = Tensor(shape: o["shape"] as! [Int], data: floats(try Data(contentsOf: dir.appendingPathComponent(o["file"] as! String))))
            outs.append((o["name"] as! String, t, Float(o["range"] as? Double ?? 0)))
        }
        return GoldenCase(name: name, modelName: modelName, input: Tensor(shape: shape, data: values), outputs: outs, json: json)
    }

    static func floats(_ d: Data) -> [Float] {
        d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) } }
    }
}

/// A model, golden, sample, tool or GL context the tests need is missing: a failure, never a skip
/// (CI must not go green with the GPU path or the models gone).
struct MissingTestInput: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
