import Foundation
import XCTest
@testable import FaceFXNeural

/// Every `OpKind` runs through `CPUReference.evaluate` on a tiny case with a known answer.
/// A new op must add a case here (the switch below is exhaustive), next to its GPU parity test.
final class OpCoverageTests: XCTestCase {
    func expectation(for kind: OpKind) -> (GraphOp, [Tensor], Tensor) {
        let v = Tensor(shape: [1, 1, 2, 2], data: [-1, 4, 9, -16])
        let w = Tensor(shape: [1, 1, 2, 2], data: [2, 2, 3, 4])
        func op(_ o: OpOptions, _ n: Int = 1) -> GraphOp { GraphOp(kind: kind, options: o, inputs: Array(0..<n), outputs: [n], sourceIndex: 0) }
        func t(_ d: [Float], _ s: [Int] = [1, 1, 2, 2]) -> Tensor { Tensor(shape: s, data: d) }
        switch kind {
        case .conv2D:
            let o = Conv2DOptions(padding: .valid, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, activation: .none)
            return (op(.conv2D(o), 3), [v, t([1, 1], [1, 1, 1, 2]), t([0.5], [1])], t([3.5, -6.5], [1, 1, 2, 1]))
        case .depthwiseConv2D:
            let o = DepthwiseConv2DOptions(padding: .valid, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, depthMultiplier: 1, activation: .relu)
            return (op(.depthwiseConv2D(o), 2), [v, t([1, 2, 3, 4], [1, 1, 2, 2])], t([26, 0], [1, 1, 1, 2]))
        case .fullyConnected:
            return (op(.fullyConnected(FullyConnectedOptions(activation: .none, keepNumDims: false)), 2),
                    [v, t([1, 1, 1, 1], [1, 4])], t([-4], [1, 1]))
        case .add: return (op(.elementwise(.none), 2), [v, w], t([1, 6, 12, -12]))
        case .sub: return (op(.elementwise(.none), 2), [v, w], t([-3, 2, 6, -20]))
        case .mul: return (op(.elementwise(.relu6), 2), [v, w], t([0, 6, 6, 0]))
        case .div: return (op(.elementwise(.none), 2), [v, w], t([-0.5, 2, 3, -4]))
        case .squaredDifference: return (op(.none, 2), [v, w], t([9, 4, 36, 400]))
        case .relu: return (op(.none), [v], t([0, 4, 9, 0]))
        case .relu6: return (op(.none), [v], t([0, 4, 6, 0]))
        case .prelu: return (op(.none, 2), [v, t([0.5, 0.25], [1, 1, 2])], t([-0.5, 4, 9, -4]))
        case .logistic: return (op(.none), [v], t(v.data.map { 1 / (1 + exp(-$0)) }))
        case .neg: return (op(.none), [v], t([1, -4, -9, 16]))
        case .sqrt: return (op(.none), [w], t([sqrtf(2), sqrtf(2), sqrtf(3), 2]))
        case .rsqrt: return (op(.none), [w], t([1 / sqrtf(2), 1 / sqrtf(2), 1 / sqrtf(3), 0.5]))
        case .pad: return (op(.pad(PadOptions(before: [0, 0, 0, 1], after: [0, 0, 0, 0]))), [v], t([0, -1, 4, 0, 9, -16], [1, 1, 2, 3]))
        case .maxPool2D:
            return (op(.pool2D(Pool2DOptions(padding: .valid, strideW: 1, strideH: 1, filterW: 2, filterH: 1, activation: .none))), [v], t([9, 4], [1, 1, 1, 2]))
        case .averagePool2D:
            return (op(.pool2D(Pool2DOptions(padding: .valid, strideW: 1, strideH: 1, filterW: 2, filterH: 1, activation: .none))), [v], t([4, -6], [1, 1, 1, 2]))
        case .mean: return (op(.reduce(ReduceOptions(axes: [2], keepDims: true))), [v], t([4, -6], [1, 1, 1, 2]))
        case .sum: return (op(.reduce(ReduceOptions(axes: [3], keepDims: false))), [v], t([3, -7], [1, 1, 2]))
        case .softmax: return (op(.softmax(SoftmaxOptions(beta: 1))), [t([0, 0, 0, 0])], t([0.5, 0.5, 0.5, 0.5]))
        case .reshape: return (op(.reshape(ReshapeOptions(newShape: [4]))), [v], t(v.data, [4]))
        case .transpose: return (op(.transpose(TransposeOptions(perm: [0, 1, 3, 2]))), [v], t([-1, 9, 4, -16]))
        case .stridedSlice:
            let o = StridedSliceOptions(begin: [0, 0, 1, 0], end: [1, 1, 2, 2], strides: [1, 1, 1, 1], beginMask: 0, endMask: 0, shrinkAxisMask: 4, offset: false)
            return (op(.stridedSlice(o)), [v], t([9, -16], [1, 1, 2]))
        case .concatenation: return (op(.concatenation(ConcatenationOptions(axis: 3, activation: .relu)), 2), [v, w], t([0, 4, 2, 2, 9, 0, 3, 4], [1, 1, 2, 4]))
        case .resizeBilinear:
            return (op(.resizeBilinear(ResizeBilinearOptions(outHeight: 1, outWidth: 1, alignCorners: false, halfPixelCenters: true))),
                    [t([0, 2, 4, 6], [1, 2, 2, 1])], t([3], [1, 1, 1, 1]))
        case .depthToSpace: return (op(.depthToSpace(DepthToSpaceOptions(blockSize: 2))), [t([1, 2, 3, 4], [1, 1, 1, 4])], t([1, 2, 3, 4], [1, 2, 2, 1]))
        }
    }

    func testEveryOpKindEvaluates() {
        for kind in OpKind.allCases {
            let (op, args, expected) = expectation(for: kind)
            let out = CPUReference.evaluate(op, args)
            XCTAssertEqual(out.shape, expected.shape, kind.rawValue)
            XCTAssertEqual(out.data.count, expected.data.count, kind.rawValue)
            for (a, b) in zip(out.data, expected.data) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(kind.rawValue): \(out.data)") }
        }
    }
}
