// The blendshapes network runs on the CPU on a software renderer and on the GPU otherwise
// (FaceNetworks.gpu(blendshapesOnCPU:)): both paths give the same scores.
import FaceFXGPU
import FaceFXNeural
import XCTest
@testable import FaceFXFace

final class BlendshapesBackendTests: XCTestCase {
    func testCPUAndGPUBlendshapesAgree() throws {
        let context = try GPUTestSupport.sharedContext()
        let dir = GPUTestSupport.modelsDir
        let onCPU = try FaceNetworks.gpu(context: context, modelsDirectory: dir, blendshapesOnCPU: true)
        let onGPU = try FaceNetworks.gpu(context: context, modelsDirectory: dir, blendshapesOnCPU: false)
        XCTAssertTrue(onCPU.blendshapes is CPUNetworkRunner)
        XCTAssertTrue(onGPU.blendshapes is GPUNetworkRunner)
        // Three faces of plausible landmark pixels (a 256-px crop), odd batch.
        var rng = UInt64(7)
        let items = (0..<3).map { _ -> Tensor in
            Tensor(shape: [1, 146, 2], data: (0..<292).map { _ in
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return 64 + Float(rng >> 40) / Float(1 << 24) * 128
            })
        }
        let a = try onCPU.blendshapes.run(batch: items)
        let b = try onGPU.blendshapes.run(batch: items)
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(b.count, 3)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x[0].count, y[0].count)
            let err = zip(x[0].data, y[0].data).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(err, 2e-2, "blendshape scores differ by \(err)")
        }
    }
}
