// The baked-kernel warm-up's bookkeeping: where Mesa's cache is, and the marker that says the baked
// kernels of these networks are in it (the background compile itself takes a minute; not run here).
import Foundation
import XCTest
@testable import FaceFXNeural

final class BakedKernelWarmupTests: XCTestCase {
    func testCacheFolderFollowsMesa() {
        XCTAssertEqual(BakedKernelWarmup.cacheDirectory(["MESA_SHADER_CACHE_DIR": "/c"])?.path, "/c")
        XCTAssertEqual(BakedKernelWarmup.cacheDirectory(["XDG_CACHE_HOME": "/x", "HOME": "/h"])?.path, "/x/mesa_shader_cache")
        XCTAssertEqual(BakedKernelWarmup.cacheDirectory(["HOME": "/h"])?.path, "/h/.cache/mesa_shader_cache")
        XCTAssertNil(BakedKernelWarmup.cacheDirectory(["MESA_SHADER_CACHE_DISABLE": "true", "HOME": "/h"]))
    }

    func testMarkerIsPerNetworkAndMakesItReady() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bake-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["MESA_SHADER_CACHE_DIR": dir.path]
        let a = try TestModels.graph("emotion_fer_quantized.tflite")
        let b = try TestModels.graph("face_detector.tflite")
        XCTAssertFalse(BakedKernelWarmup.isReady([a], env: env))
        let marker = try XCTUnwrap(BakedKernelWarmup.marker(for: [a], env: env))
        XCTAssertNotEqual(marker, BakedKernelWarmup.marker(for: [b], env: env), "other weights, other marker")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: marker.path, contents: Data())
        XCTAssertTrue(BakedKernelWarmup.isReady([a], env: env))
        XCTAssertFalse(BakedKernelWarmup.isReady([b], env: env))
    }
}
