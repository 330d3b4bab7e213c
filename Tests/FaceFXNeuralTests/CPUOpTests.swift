import Foundation
import XCTest
@testable import FaceFXNeural

/// Individual CPU ops on tiny hand-computed cases.
final class CPUOpTests: XCTestCase {
    func ramp(_ shape: [Int], from start: Float = 0) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { start + Float($0) })
    }
    func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    func assertClose(_ t: Tensor, _ shape: [Int], _ expected: [Float], accuracy: Float = 1e-5,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(t.shape, shape, file: file, line: line)
        XCTAssertEqual(t.data.count, expected.count, file: file, line: line)
        for (a, b) in zip(t.data, expected) { XCTAssertEqual(a, b, accuracy: accuracy, "\(t.data) vs \(expected)", file: file, line: line) }
    }

    func conv(_ p: Padding, stride: Int, act: FusedActivation = .none) -> Conv2DOptions {
        Conv2DOptions(padding: p, strideW: stride, strideH: stride, dilationW: 1, dilationH: 1, activation: act)
    }

    // SAME with stride 2 on an even size: total padding 1 goes after (bottom/right), none before.
    func testConvSameStride2Even() {
        let out = CPUReference.conv2D(ramp([1, 4, 4, 1], from: 1), filter: ones([1, 3, 3, 1]), bias: nil, conv(.same, stride: 2))
        assertClose(out, [1, 2, 2, 1], [54, 45, 72, 54])
    }

    // SAME with stride 2 on an odd size: total padding 2, one before and one after.
    func testConvSameStride2Odd() {
        let out = CPUReference.conv2D(ramp([1, 5, 5, 1], from: 1), filter: ones([1, 3, 3, 1]), bias: nil, conv(.same, stride: 2))
        XCTAssertEqual(out.shape, [1, 3, 3, 1])
        XCTAssertEqual(out.data[0], 16)   // rows 0-1, cols 0-1
        XCTAssertEqual(out.data[4], 117)  // rows 1-3, cols 1-3
        XCTAssertEqual(out.data[8], 88)   // rows 3-4, cols 3-4
    }

    func testConvValid() {
        let out = CPUReference.conv2D(ramp([1, 5, 5, 1], from: 1), filter: ones([1, 3, 3, 1]), bias: nil, conv(.valid, stride: 2))
        XCTAssertEqual(out.shape, [1, 2, 2, 1])
        XCTAssertEqual(out.data[0], 63)
    }

    func testConvChannelsBiasRelu() {
        let x = Tensor(shape: [1, 1, 1, 2], data: [1, 2])
        let f = Tensor(shape: [2, 1, 1, 2], data: [1, 1, 1, -1])
        let b = Tensor(shape: [2], data: [0.5, 0])
        assertClose(CPUReference.conv2D(x, filter: f, bias: b, conv(.valid, stride: 1)), [1, 1, 1, 2], [3.5, -1])
        assertClose(CPUReference.conv2D(x, filter: f, bias: b, conv(.valid, stride: 1, act: .relu)), [1, 1, 1, 2], [3.5, 0])
    }

    func testConvDilation() {
        // 1×5 row, 1×2 filter of ones dilated by 2: x[i] + x[i+2], VALID.
        let o = Conv2DOptions(padding: .valid, strideW: 1, strideH: 1, dilationW: 2, dilationH: 1, activation: .none)
        assertClose(CPUReference.conv2D(ramp([1, 1, 5, 1]), filter: ones([1, 1, 2, 1]), bias: nil, o), [1, 1, 3, 1], [2, 4, 6])
    }

    func testDepthwiseMultiplier() {
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        let f = Tensor(shape: [1, 1, 1, 4], data: [10, 20, 30, 40])
        let b = Tensor(shape: [4], data: [1, 2, 3, 4])
        let o = DepthwiseConv2DOptions(padding: .valid, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1,
                                       depthMultiplier: 2, activation: .none)
        assertClose(CPUReference.depthwiseConv2D(x, filter: f, bias: b, o), [1, 1, 2, 4], [11, 22, 63, 84, 31, 62, 123, 164])
    }

    func testDepthwiseSamePaddingCounts() {
        let o = DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1,
                                       depthMultiplier: 1, activation: .relu6)
        let out = CPUReference.depthwiseConv2D(ones([1, 3, 3, 1]), filter: ones([1, 3, 3, 1]), bias: nil, o)
        assertClose(out, [1, 3, 3, 1], [4, 6, 4, 6, 6, 6, 4, 6, 4])  // 9 clipped to 6 by RELU6
    }

    func testPools() {
        let x = ramp([1, 3, 3, 1], from: 1)
        let o = Pool2DOptions(padding: .same, strideW: 2, strideH: 2, filterW: 2, filterH: 2, activation: .none)
        assertClose(CPUReference.pool2D(x, o, max: true), [1, 2, 2, 1], [5, 6, 8, 9])
        // Average counts only in-bounds elements.
        assertClose(CPUReference.pool2D(x, o, max: false), [1, 2, 2, 1], [3, 4.5, 7.5, 9])
    }

    func testFullyConnected() {
        let out = CPUReference.fullyConnected(Tensor(shape: [1, 3], data: [1, 2, 3]),
                                              weights: Tensor(shape: [2, 3], data: [1, 0, 1, 0, 1, 0]),
                                              bias: Tensor(shape: [2], data: [0.5, -10]),
                                              FullyConnectedOptions(activation: .relu, keepNumDims: false))
        assertClose(out, [1, 2], [4.5, 0])
    }

    func testBroadcasting() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        assertClose(CPUReference.binary(a, Tensor(shape: [3], data: [10, 20, 30]), .none, +), [2, 3], [11, 22, 33, 14, 25, 36])
        assertClose(CPUReference.binary(Tensor(shape: [2, 1], data: [1, 2]), Tensor(shape: [1, 3], data: [1, 2, 3]), .none, *),
                    [2, 3], [1, 2, 3, 2, 4, 6])
        assertClose(CPUReference.binary(a, Tensor(shape: [], data: [2]), .none, -), [2, 3], [-1, 0, 1, 2, 3, 4])
        assertClose(CPUReference.binary(Tensor(shape: [1, 2, 1], data: [1, -2]), Tensor(shape: [2, 1, 1], data: [0, 1]), .relu, -),
                    [2, 2, 1], [1, 0, 0, 0])
        assertClose(CPUReference.binary(Tensor(shape: [2], data: [1, 3]), Tensor(shape: [2], data: [2, 4]), .none) { ($0 - $1) * ($0 - $1) },
                    [2], [1, 1])
    }

    func testPReLU() {
        let x = Tensor(shape: [1, 1, 2, 2], data: [-1, 2, -3, 4])
        assertClose(CPUReference.prelu(x, alpha: Tensor(shape: [1, 1, 2], data: [0.5, 0.25])), [1, 1, 2, 2], [-0.5, 2, -1.5, 4])
        // Alpha broadcast along a non-channel axis (generic path).
        let y = Tensor(shape: [2, 2], data: [-1, -2, -3, 4])
        assertClose(CPUReference.prelu(y, alpha: Tensor(shape: [2, 1], data: [0.5, 2])), [2, 2], [-0.5, -1, -6, 4])
    }

    func slice(_ b: [Int], _ e: [Int], _ s: [Int], begin: Int = 0, end: Int = 0, shrink: Int = 0) -> StridedSliceOptions {
        StridedSliceOptions(begin: b, end: e, strides: s, beginMask: begin, endMask: end, shrinkAxisMask: shrink, offset: false)
    }

    func testStridedSlice() {
        let x = ramp([3, 4])
        assertClose(CPUReference.stridedSlice(x, slice([1, 0], [3, 4], [1, 2])), [2, 2], [4, 6, 8, 10])
        // begin_mask on axis 0, end_mask on axis 1.
        assertClose(CPUReference.stridedSlice(x, slice([2, 1], [2, 0], [1, 1], begin: 1, end: 2)), [2, 3], [1, 2, 3, 5, 6, 7])
        // shrink_axis_mask drops axis 0.
        assertClose(CPUReference.stridedSlice(x, slice([1, 0], [2, 4], [1, 1], shrink: 1)), [4], [4, 5, 6, 7])
        // Negative strides, end_mask on axis 0 runs through index 0.
        assertClose(CPUReference.stridedSlice(x, slice([2, 3], [0, 0], [-1, -2], end: 1)), [3, 2], [11, 9, 7, 5, 3, 1])
        // Negative begin/end count from the end.
        assertClose(CPUReference.stridedSlice(x, slice([-1, -3], [3, -1], [1, 1])), [1, 2], [9, 10])
    }

    func testResizeBilinearModes() {
        let x = Tensor(shape: [1, 2, 2, 1], data: [0, 1, 2, 3])  // f(r, c) = 2r + c, so outputs are 2·ry + rx
        func expected(_ coords: [Float]) -> [Float] { coords.flatMap { y in coords.map { 2 * y + $0 } } }
        func run(_ align: Bool, _ half: Bool) -> Tensor {
            CPUReference.resizeBilinear(x, ResizeBilinearOptions(outHeight: 4, outWidth: 4, alignCorners: align, halfPixelCenters: half))
        }
        assertClose(run(false, false), [1, 4, 4, 1], expected([0, 0.5, 1, 1]))
        assertClose(run(true, false), [1, 4, 4, 1], expected([0, 1.0 / 3, 2.0 / 3, 1]))
        assertClose(run(false, true), [1, 4, 4, 1], expected([0, 0.25, 0.75, 1]))
    }

    func testDepthToSpace() {
        assertClose(CPUReference.depthToSpace(Tensor(shape: [1, 1, 1, 4], data: [1, 2, 3, 4]), blockSize: 2), [1, 2, 2, 1], [1, 2, 3, 4])
        // Two input pixels, one output channel: row 0 = (x0: c0 c1, x1: c0 c1), row 1 = (x0: c2 c3, x1: c2 c3).
        assertClose(CPUReference.depthToSpace(ramp([1, 1, 2, 4]), blockSize: 2), [1, 2, 4, 1], [0, 1, 4, 5, 2, 3, 6, 7])
        // Two output channels keep their pairs together.
        assertClose(CPUReference.depthToSpace(ramp([1, 1, 1, 8]), blockSize: 2), [1, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])
    }

    func testReductions() {
        let x = ramp([1, 2, 2, 2])
        assertClose(CPUReference.reduce(x, ReduceOptions(axes: [1, 2], keepDims: true), mean: true), [1, 1, 1, 2], [3, 4])
        assertClose(CPUReference.reduce(x, ReduceOptions(axes: [1, 2], keepDims: false), mean: true), [1, 2], [3, 4])
        assertClose(CPUReference.reduce(x, ReduceOptions(axes: [3], keepDims: false), mean: false), [1, 2, 2], [1, 5, 9, 13])
        assertClose(CPUReference.reduce(x, ReduceOptions(axes: [0, 1, 2, 3], keepDims: false), mean: false), [], [28])
    }

    func testSoftmaxBeta() {
        let out = CPUReference.softmax(Tensor(shape: [1, 3], data: [1, 2, 3]), beta: 2)
        let e: [Float] = [exp(-4), exp(-2), 1]
        let s = e.reduce(0, +)
        assertClose(out, [1, 3], e.map { $0 / s })
    }

    func testPadTransposeConcat() {
        let p = CPUReference.pad(Tensor(shape: [1, 1, 2, 1], data: [1, 2]), PadOptions(before: [0, 1, 0, 0], after: [0, 0, 1, 1]))
        assertClose(p, [1, 2, 3, 2], [0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0])
        assertClose(CPUReference.transpose(ramp([2, 3]), perm: [1, 0]), [3, 2], [0, 3, 1, 4, 2, 5])
        assertClose(CPUReference.transpose(ramp([2, 1, 3]), perm: [2, 0, 1]), [3, 2, 1], [0, 3, 1, 4, 2, 5])
        let c = CPUReference.concatenation([ramp([2, 1]), ramp([2, 2], from: 10)], ConcatenationOptions(axis: 1, activation: .none))
        assertClose(c, [2, 3], [0, 10, 11, 1, 12, 13])
    }

    func testUnaryOps() {
        let x = Tensor(shape: [4], data: [-7, -1, 4, 9])
        func op(_ k: OpKind) -> Tensor { CPUReference.evaluate(GraphOp(kind: k, options: .none, inputs: [0], outputs: [1], sourceIndex: 0), [x]) }
        assertClose(op(.relu), [4], [0, 0, 4, 9])
        assertClose(op(.relu6), [4], [0, 0, 4, 6])
        assertClose(op(.neg), [4], [7, 1, -4, -9])
        assertClose(op(.logistic), [4], x.data.map { 1 / (1 + exp(-$0)) })
        let pos = Tensor(shape: [2], data: [4, 9])
        func op2(_ k: OpKind) -> Tensor { CPUReference.evaluate(GraphOp(kind: k, options: .none, inputs: [0], outputs: [1], sourceIndex: 0), [pos]) }
        assertClose(op2(.sqrt), [2], [2, 3])
        assertClose(op2(.rsqrt), [2], [0.5, 1.0 / 3])
    }

    /// SAME output sizes and leading padding (TFLite ComputePaddingHeightWidth).
    func testWindowArithmetic() {
        XCTAssertEqual(Graph.window(128, filter: 3, stride: 2, dilation: 1, padding: .same).out, 64)
        XCTAssertEqual(Graph.window(128, filter: 3, stride: 2, dilation: 1, padding: .same).padBefore, 0)
        XCTAssertEqual(Graph.window(5, filter: 3, stride: 2, dilation: 1, padding: .same).padBefore, 1)
        XCTAssertEqual(Graph.window(5, filter: 5, stride: 1, dilation: 1, padding: .same).padBefore, 2)
        XCTAssertEqual(Graph.window(7, filter: 3, stride: 2, dilation: 1, padding: .valid).out, 3)
        XCTAssertEqual(Graph.window(7, filter: 3, stride: 1, dilation: 2, padding: .valid).out, 3)
    }
}
