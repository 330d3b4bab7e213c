// Every OpKind has a GPU kernel with a shader that exists, a CPU reference (CPUReference.evaluate
// handles every case: the switch is exhaustive over the loader's pairs) and a parity test in
// GPUOpTests; activations stay finite for +-1e4 inputs in both precisions.
import XCTest
import FaceFXShaders
@testable import FaceFXNeural

final class GPUCoverageTests: XCTestCase {
    /// Ops with a GPU parity test in GPUOpTests (update with a new op and its test).
    static let testedOps: Set<OpKind> = [
        .conv2D, .depthwiseConv2D, .fullyConnected, .add, .sub, .mul, .div, .squaredDifference, .relu, .relu6,
        .prelu, .logistic, .neg, .sqrt, .rsqrt, .pad, .maxPool2D, .averagePool2D, .mean, .sum, .softmax, .reshape,
        .transpose, .stridedSlice, .concatenation, .resizeBilinear, .depthToSpace,
    ]

    func testEveryOpHasAKernelShaderAndTest() {
        for kind in OpKind.allCases {
            guard let k = KernelRegistry.kernel(for: kind) else { XCTFail("no GPU kernel for \(kind.rawValue)"); continue }
            XCTAssertNotNil(ShaderLibrary.source(k.shader), "\(kind.rawValue): shader \(k.shader) missing")
            XCTAssertTrue(Self.testedOps.contains(kind), "\(kind.rawValue) has no GPU parity test")
        }
        // No op claimed by two kernels.
        let claimed = KernelRegistry.kernels.flatMap { $0.kinds }
        XCTAssertEqual(claimed.count, Set(claimed).count)
        XCTAssertEqual(Set(claimed), Set(OpKind.allCases))
    }

    /// +-1e4 (and +-1e30 for fp32) through every activation / elementwise kernel: finite outputs.
    func testActivationsStayFiniteForHugeInputs() throws {
        for p in TensorPrecision.allCases {
            for scale: Float in p == .fp32 ? [1e4, 1e30] : [1e4] {
                var b = TestGraphBuilder(seed: 2)
                let x = b.input([1, 3, 5, 13], -scale, scale)
                let y = b.input([1, 3, 5, 13], -scale, scale)
                var outs: [Int] = []
                for k: OpKind in [.relu, .relu6, .logistic, .neg, .sqrt, .rsqrt] { outs.append(b.op(k, .none, [x])) }
                for k: OpKind in [.add, .sub, .mul, .div] {
                    outs.append(b.op(k, .elementwise(.none), [x, y]))
                    outs.append(b.op(k, .elementwise(.tanh), [x, y]))
                }
                outs.append(b.op(.squaredDifference, .none, [x, y]))
                outs.append(b.op(.prelu, .none, [x, b.constant([13])]))
                outs.append(b.op(.softmax, .softmax(SoftmaxOptions(beta: 1)), [x]))
                outs.append(b.op(.mean, .reduce(ReduceOptions(axes: [3], keepDims: true)), [x]))
                outs.append(b.op(.sum, .reduce(ReduceOptions(axes: [1, 2, 3], keepDims: true)), [x]))
                outs.append(b.op(.conv2D, .conv2D(Conv2DOptions(padding: .same, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1,
                                                                 activation: .tanh)), [x, b.constant([5, 3, 3, 13], -9, 9)]))
                // A zero divisor and zero / negative roots.
                let z = b.input([1, 3, 5, 13], 0, 0)
                outs.append(b.op(.div, .elementwise(.none), [x, z]))
                outs.append(b.op(.div, .elementwise(.none), [z, z]))
                outs.append(b.op(.rsqrt, .none, [z]))
                outs.append(b.op(.sqrt, .none, [b.op(.neg, .none, [b.op(.relu, .none, [x])])]))
                let g = b.graph(outputs: outs)
                let net = try gpuEngine(p).compile(g, batch: 2)
                var rng = SeededRNG(seed: 4)
                let inputs = b.inputRanges.enumerated().map { k, r in rng.tensor([2, 3, 5, 13], r.0, r.1) }
                for (k, o) in try net.run(inputs: inputs).enumerated() {
                    XCTAssertTrue(o.data.allSatisfy(\.isFinite), "[\(p)] output \(k) (\(g.tensors[outs[k]].name)) not finite at scale \(scale)")
                }
            }
        }
    }
}
