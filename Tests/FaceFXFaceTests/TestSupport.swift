import Foundation
import XCTest
@testable import FaceFXFace

enum TestSupport {
    /// The package root: the nearest folder above this file holding Package.swift.
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    static var facemeshDir: URL { packageRoot.appendingPathComponent("Models/facemesh") }
    static var goldensDir: URL { packageRoot.appendingPathComponent("Tests/Fixtures/goldens") }

    static let canonicalModel: CanonicalFaceModel = {
        do { return try CanonicalFaceModel.load(directory: facemeshDir) } catch { fatalError("canonical model: \(error)") }
    }()

    static func golden(_ name: String) -> URL? {
        let u = goldensDir.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    static func readF32(_ url: URL) throws -> [Float] {
        let d = try Data(contentsOf: url)
        return d.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// Deterministic Gaussian noise (xorshift + Box–Muller) so tests are repeatable.
    struct Noise {
        var state: UInt64
        init(seed: UInt64) { state = seed | 1 }
        mutating func uniform() -> Double {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func gaussian() -> Double {
            sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform())
        }
    }

    /// A synthetic 478-point face: the canonical mesh under a pose, projected into a frame; the
    /// 10 iris points are copies of nearby eye points.
    static func syntheticFace(center: Point2, iod: Double, yaw: Double = 0, pitch: Double = 0, roll: Double = 0,
                              frame: (w: Double, h: Double) = (1920, 1080)) -> [Point] {
        HeadPoseEstimator(model: canonicalModel).syntheticFace(center: center, iod: iod,
                                                               rotation: HeadPose.rotation(yaw: yaw, pitch: pitch, roll: roll),
                                                               frameWidth: frame.w, frameHeight: frame.h).landmarks
    }
}

/// A model, golden, sample, tool or GL context the tests need is missing: a failure, never a skip
/// (CI must not go green with the GPU path or the models gone).
struct MissingTestInput: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
