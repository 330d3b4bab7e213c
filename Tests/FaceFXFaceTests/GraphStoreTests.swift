// The face networks' graphs are read once per process and shared (GraphStore), and read again when the
// folder's files change.
import FaceFXNeural
import Foundation
import XCTest
@testable import FaceFXFace

final class GraphStoreTests: XCTestCase {
    /// The weights of a graph's first constant tensor: where its storage lives tells a shared read from a new one.
    private func firstWeights(_ g: Graph) -> UnsafeRawPointer? {
        g.tensors.first { $0.constant != nil }!.constant!.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    func testGraphsAreReadOnceAndAgainWhenTheFilesChange() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facefx-graphs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in [FaceNetworks.landmarkerBundle, FaceNetworks.emotionFile] {
            try FileManager.default.copyItem(at: GPUTestSupport.modelsDir.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        // A prefetch under way and a read at once: both get the one read.
        FaceNetworks.prefetchGraphs(modelsDirectory: dir)
        let a = try FaceNetworks.loadGraphs(modelsDirectory: dir)
        let b = try FaceNetworks.loadGraphs(modelsDirectory: dir)
        XCTAssertEqual(firstWeights(a.landmarks), firstWeights(b.landmarks), "the second read shares the first")
        XCTAssertEqual(a.emotion.name, FaceNetworks.emotionFile)

        // A changed file is read again: a broken one fails (and is not kept), a good one reads once more.
        let emotion = dir.appendingPathComponent(FaceNetworks.emotionFile)
        let good = try Data(contentsOf: emotion)
        try Data("not a model".utf8).write(to: emotion)
        XCTAssertThrowsError(try FaceNetworks.loadGraphs(modelsDirectory: dir))
        XCTAssertThrowsError(try FaceNetworks.loadGraphs(modelsDirectory: dir))
        try good.write(to: emotion)
        let c = try FaceNetworks.loadGraphs(modelsDirectory: dir)
        XCTAssertNotEqual(firstWeights(a.landmarks), firstWeights(c.landmarks), "read again after the change")
        XCTAssertEqual(c.emotion.tensors.count, a.emotion.tensors.count)
    }
}
