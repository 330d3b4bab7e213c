import Foundation
import XCTest
@testable import FaceFXGPU

/// The renderer knobs parsed from an environment dictionary (no process environment involved), and the
/// README's table kept in step with `GPUTuning.variables`.
final class GPUTuningTests: XCTestCase {
    func testUnsetAndEmptyMeanDefaults() throws {
        XCTAssertEqual(try GPUTuning(environment: [:]), GPUTuning())
        XCTAssertEqual(try GPUTuning(environment: ["FACEFX_NN_PASSES": "", "FACEFX_FRAME_BATCH": " ", "PATH": "/bin"]), GPUTuning())
    }

    func testEveryVariableSetsItsField() throws {
        let t = try GPUTuning(environment: [
            "FACEFX_NN": "FP32", "FACEFX_NN_PASSES": "fragment", "FACEFX_NN_BAKE": "1", "FACEFX_NN_BAKE_MIN_PIXELS": "16",
            "FACEFX_NN_FETCH": "texture", "FACEFX_NN_WEIGHTS": "fp16", "FACEFX_NN_GATHER": "0", "FACEFX_NN_FUSE_DW": "0", "FACEFX_NN_CONV_PIXELS": "0",
            "FACEFX_NN_FUSE_POOL": "0", "FACEFX_NN_CHAIN": "0",
            "FACEFX_BLENDSHAPES": "gpu", "FACEFX_CROP_PASSES": "compute", "FACEFX_READ_PBO": "0", "FACEFX_CS_GROUP": "16x4",
            "FACEFX_FRAME_BATCH": "3", "FACEFX_TRACK_BATCH": "2", "FACEFX_READBACK_DEPTH": "1", "FACEFX_FORCE_RGBA": "1", "FACEFX_GL_PROFILE": "1",
        ])
        XCTAssertEqual(t.networks, .fp32)
        XCTAssertEqual(t.networkPasses, .fragment)
        XCTAssertEqual(t.bakedKernels, true)
        XCTAssertEqual(t.bakeMinPixels, 16)
        XCTAssertEqual(t.texelFetch, false)
        XCTAssertEqual(t.halfWeights, true)
        XCTAssertEqual(t.gatherOutputs, false)
        XCTAssertEqual(t.depthwisePointwise, false)
        XCTAssertEqual(t.pixelMajorConv, false)
        XCTAssertEqual(t.poolResiduals, false)
        XCTAssertEqual(t.itemChains, false)
        XCTAssertEqual(t.blendshapesOnCPU, false)
        XCTAssertEqual(t.cropPasses, .compute)
        XCTAssertFalse(t.readThroughPackBuffer)
        XCTAssertEqual(t.computeGroup, GPUTuning.ComputeGroup(x: 16, y: 4))
        XCTAssertEqual(t.frameBatch, 3)
        XCTAssertEqual(t.trackBatch, 2)
        XCTAssertEqual(t.readbackDepth, 1)
        XCTAssertTrue(t.forceRGBA)
        XCTAssertTrue(t.profileGLThread)
        XCTAssertEqual(GPUTuning.variables.count, 20, "every variable above is listed once")
        XCTAssertEqual(Set(GPUTuning.variables.map(\.name)).count, GPUTuning.variables.count)
    }

    /// A value a variable does not take is an error naming the variable, the value and what it takes.
    func testBadValuesNameTheVariable() {
        let cases: [(String, String, String)] = [
            ("FACEFX_NN_PASSES", "vulkan", "FACEFX_NN_PASSES=vulkan: expected compute, fragment"),
            ("FACEFX_NN", "int8", "FACEFX_NN=int8: expected fp16, fp32, cpu"),
            ("FACEFX_NN_BAKE", "yes", "FACEFX_NN_BAKE=yes: expected 1, 0"),
            ("FACEFX_FRAME_BATCH", "0", "FACEFX_FRAME_BATCH=0: expected integer ≥ 1"),
            ("FACEFX_TRACK_BATCH", "eight", "FACEFX_TRACK_BATCH=eight: expected integer ≥ 1"),
            ("FACEFX_CS_GROUP", "64x64", "FACEFX_CS_GROUP=64x64: expected WxH, 1 to 1024 invocations"),
            ("FACEFX_CS_GROUP", "8", "FACEFX_CS_GROUP=8: expected WxH, 1 to 1024 invocations"),
            ("FACEFX_NN_FETCH", "both", "FACEFX_NN_FETCH=both: expected texel, texture"),
        ]
        for (name, value, message) in cases {
            XCTAssertThrowsError(try GPUTuning(environment: [name: value]), name) { error in
                XCTAssertEqual((error as? GPUTuningError)?.description, message)
            }
        }
    }

    /// README's environment table lists every variable `GPUTuning` reads, with its default.
    func testREADMEListsEveryVariable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        for v in GPUTuning.variables {
            XCTAssertTrue(readme.contains("| `\(v.name)` |"), "README's environment table lacks \(v.name)")
        }
    }

    /// The context carries the tuning it was made with, and the programs read it.
    func testContextCarriesItsTuning() throws {
        var t = GPUTuning()
        t.computeGroup = GPUTuning.ComputeGroup(x: 4, y: 4)
        let c = try GPUContext(device: .cpu, tuning: t)
        XCTAssertEqual(c.tuning, t)
        XCTAssertEqual(ProgramCache(context: c).computeGroup, GPUTuning.ComputeGroup(x: 4, y: 4))
    }
}
