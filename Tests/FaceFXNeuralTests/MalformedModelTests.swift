import Foundation
import XCTest
@testable import FaceFXNeural

/// Corrupt or unsupported files must throw a clear error, never trap.
final class MalformedModelTests: XCTestCase {
    /// 300 mutations (bit flips, byte overwrites in the header region, truncations, u32 stomps).
    func testFuzzedModelsThrowOrLoad() throws {
        let original = try TestModels.model("emotion_fer_quantized.tflite").bytes.bytes
        var rng = SplitMix64(seed: 0xFACE_F0C5)
        var loaded = 0, thrown = 0, ran = 0
        let reference = try Graph(model: try TFLiteModel(bytes: original, name: "emotion"))
        for i in 0..<300 {
            var b = original
            switch i % 5 {
            case 0:  // random bit flips anywhere
                for _ in 0..<(1 + Int(rng.next() % 8)) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8)) }
            case 1:  // bytes in the first 4 KB and the last 8 KB, where tables, vtables and vectors live
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let region = rng.next() % 2 == 0 ? Int(rng.next() % 4096) : b.count - 1 - Int(rng.next() % 8192)
                    b[region] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 2:  // truncation
                b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
            case 3:  // stomp a 4-byte word with an extreme value
                let p = Int(rng.next() % UInt64(b.count - 4))
                let v: UInt32 = [0, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, UInt32(b.count), UInt32(truncatingIfNeeded: rng.next())][Int(rng.next() % 6)]
                for k in 0..<4 { b[p + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
            default:  // stomp a 2-byte word (vtable entries are u16)
                let p = Int(rng.next() % UInt64(min(b.count, 8192) - 2))
                b[p] = UInt8(truncatingIfNeeded: rng.next()); b[p + 1] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                let g = try Graph(model: try TFLiteModel(bytes: b, name: "fuzz\(i).tflite"))
                loaded += 1
                // A loaded graph must also run without trapping (when it is still small).
                if ran < 8, g.tensors.allSatisfy({ $0.elementCount <= 1 << 20 }), g.inputShapes == reference.inputShapes {
                    _ = try CPUReference().run(graph: g, inputs: [Tensor(shape: g.inputShapes[0], repeating: 0.5)])
                    ran += 1
                }
            } catch {
                thrown += 1
                XCTAssertFalse("\(error)".isEmpty)
            }
        }
        print("fuzz: \(loaded) loaded, \(thrown) threw, \(ran) run")
        XCTAssertEqual(loaded + thrown, 300)
        XCTAssertGreaterThan(thrown, 30)
    }

    /// Long soak over more models and the zip reader; opt in with FACEFX_FUZZ=<iterations> (release build advised).
    func testLongFuzzOptIn() throws {
        guard let n = ProcessInfo.processInfo.environment["FACEFX_FUZZ"].flatMap(Int.init) else {
            throw XCTSkip("set FACEFX_FUZZ=<iterations> to run")
        }
        var rng = SplitMix64(seed: 42)
        for file in ["face_detection_full_range_sparse.tflite", "face_blendshapes.tflite", "emotion_fer_quantized.tflite"] {
            let original = try TestModels.model(file).bytes.bytes
            var loaded = 0
            for _ in 0..<n {
                var b = original
                let hot = rng.next() % 2 == 0
                for _ in 0..<(1 + Int(rng.next() % 6)) {
                    // Half the mutations hit the structural regions (first 16 KB, last 32 KB).
                    let p: Int
                    if hot {
                        p = rng.next() % 2 == 0 ? Int(rng.next() % 16384) : b.count - 1 - Int(rng.next() % 32768)
                    } else {
                        p = Int(rng.next() % UInt64(b.count))
                    }
                    b[p] = rng.next() % 3 == 0 ? b[p] ^ UInt8(1 << (rng.next() % 8)) : UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.next() % 10 == 0 { b = Array(b.prefix(Int(rng.next() % UInt64(b.count)))) }
                if (try? Graph(model: try TFLiteModel(bytes: b, name: file))) != nil { loaded += 1 }
            }
            print("long fuzz \(file): \(n) mutations, \(loaded) loaded")
        }
        let task = try TaskBundle(contentsOf: try TestModels.url("face_landmarker.task")).bytes
        for _ in 0..<n {
            var b = task
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let p = rng.next() % 2 == 0 ? b.count - 1 - Int(rng.next() % 400) : Int(rng.next() % 200)
                b[p] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let bundle = try? TaskBundle(bytes: b, name: "f.task") {
                for m in bundle.memberNames { _ = try? bundle.data(of: m) }
            }
        }
    }

    func testEmptyAndTinyFilesThrow() {
        for bytes: [UInt8] in [[], [1, 2, 3], [UInt8](repeating: 0xff, count: 64), [8, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]] {
            XCTAssertThrowsError(try Graph(model: try TFLiteModel(bytes: bytes, name: "tiny.tflite")))
        }
    }

    /// Patches SOFTMAX's operator code to SPLIT_V in memory: the load error names the op and the model.
    func testUnsupportedOperatorNamesOpAndModel() throws {
        let model = try TestModels.model("emotion_fer_quantized.tflite")
        var bytes = model.bytes.bytes
        let root = try model.bytes.root()
        var patched = false
        for code in try root.tables(1) where try max(Int32(code.i8(0)), code.i32(3)) == 25 {
            if let p = try code.fieldPos(0, size: 1) { bytes[p] = 102 }
            if let p = try code.fieldPos(3, size: 4) { bytes[p] = 102; bytes[p + 1] = 0; bytes[p + 2] = 0; bytes[p + 3] = 0 }
            patched = true
        }
        XCTAssertTrue(patched)
        XCTAssertThrowsError(try Graph(model: try TFLiteModel(bytes: bytes, name: "emotion_fer_quantized.tflite"))) { error in
            XCTAssertEqual("\(error)", "emotion_fer_quantized.tflite: unsupported operator SPLIT_V")
        }
    }

    func testWrongFileIdentifierThrows() throws {
        var bytes = try TestModels.model("emotion_fer_quantized.tflite").bytes.bytes
        bytes[4] = UInt8(ascii: "X")
        XCTAssertThrowsError(try TFLiteModel(bytes: bytes, name: "e.tflite")) { XCTAssertTrue("\($0)".contains("identifier")) }
    }
}

/// Small deterministic generator for reproducible fuzzing.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
