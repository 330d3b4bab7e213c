// Shared GPU context for the tests (creating one per test would dominate run time on llvmpipe)
// and a small deterministic RNG.
import XCTest
@testable import FaceFXGPU

enum Shared {
    static let context: Result<GPUContext, Error> = Result { try GPUContext(device: .auto) }
}

func sharedContext() throws -> GPUContext {
    switch Shared.context {
    case .success(let c): return c
    case .failure(let e): throw e
    }
}

/// SplitMix64: fixed seeds, identical on every machine.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}
