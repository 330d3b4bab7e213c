// Every GPU kernel against the CPU reference on random tensors with odd shapes (13 channels,
// 7x9 pixels, batch 3 replicas) so leftover-channel and broadcast paths run; fp32 within
// 1e-4 x output range, fp16 within 1e-2 x range; each as fragment passes, as compute passes, and as
// compute passes with their convolutions chained where they can be (fusion G, one pass a chain).
import XCTest
@testable import FaceFXNeural

final class GPUOpTests: XCTestCase {
    let x4 = [1, 7, 9, 13]

    /// Builds a graph with `make`, checks it in fp32 and fp16.
    func both(_ label: String, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line,
              _ make: (inout TestGraphBuilder) -> [Int]) throws {
        var b = TestGraphBuilder(seed: seed)
        let outs = make(&b)
        let g = b.graph(outputs: outs)
        for p in TensorPrecision.allCases {
            for (kind, chains) in [(NeuralEngine.PassKind.fragment, false), (.compute, false), (.compute, true)] {
                let r = try checkParity(g, precision: p, kind: kind, chains: chains, inputRanges: b.inputRanges, label: label, file: file, line: line)
                print(String(format: "GPU op %@ [%@ %@%@]: max error %.3g (range %.3g), %d passes", label, p.rawValue, kind.rawValue,
                             chains ? " chains" : "", r.maxError, r.range, r.passes))
            }
        }
    }

    func conv(_ pad: Padding, _ s: Int, _ d: Int = 1, _ act: FusedActivation = .none) -> OpOptions {
        .conv2D(Conv2DOptions(padding: pad, strideW: s, strideH: s, dilationW: d, dilationH: d, activation: act))
    }

    func testConv2D() throws {
        try both("conv 3x3 SAME s1") { b in
            let x = b.input(x4)
            return [b.op(.conv2D, conv(.same, 1), [x, b.constant([6, 3, 3, 13]), b.constant([6])])]
        }
        try both("conv 3x3 VALID s2 relu6 no bias") { b in
            let x = b.input(x4, -3, 3)
            return [b.op(.conv2D, conv(.valid, 2, 1, .relu6), [x, b.constant([5, 3, 3, 13])])]
        }
        try both("conv 2x2 s2 SAME dilation tanh") { b in
            let x = b.input(x4)
            return [b.op(.conv2D, .conv2D(Conv2DOptions(padding: .same, strideW: 2, strideH: 1, dilationW: 1, dilationH: 2, activation: .tanh)),
                         [x, b.constant([17, 2, 2, 13]), b.constant([17])])]
        }
        try both("conv 1x1 relu_n1_to_1 + 5x5 SAME s2 on 3 channels") { b in
            let x = b.input([1, 8, 10, 3])
            let y = b.op(.conv2D, conv(.same, 2), [x, b.constant([24, 5, 5, 3]), b.constant([24])])
            return [b.op(.conv2D, conv(.valid, 1, 1, .reluN1To1), [y, b.constant([9, 1, 1, 24]), b.constant([9])])]
        }
    }

    /// The pixel-major compute kernel with several output slices an invocation (small tensors take one, see
    /// `Conv2DKernel.pixelMajorSlices`): against the CPU reference, and the same values as the kernel of one
    /// output texel an invocation. 5x5/2 from 3 channels (the detectors' first layer); 3x3 with a residual and
    /// PReLU (the weights of 4 slices fit the 16 KB of shared memory GLES guarantees: its 6 slices go as 3 + 3);
    /// a 1x1 of 11 slices (6 + 5).
    func testPixelMajorConvSlices() throws {
        var b = TestGraphBuilder(seed: 5)
        let x = b.input([1, 12, 10, 3])
        let c1 = b.op(.conv2D, conv(.same, 2, 1, .relu), [x, b.constant([24, 5, 5, 3]), b.constant([24])])
        let c2 = b.op(.conv2D, conv(.same, 1), [c1, b.constant([24, 3, 3, 24]), b.constant([24])])
        let r = b.op(.prelu, .none, [b.op(.add, .elementwise(.none), [c2, c1]), b.constant([1, 1, 24])])
        let c3 = b.op(.conv2D, conv(.valid, 1), [r, b.constant([44, 1, 1, 24]), b.constant([44])])
        let out = b.op(.relu, .none, [c3])
        let g = b.graph(outputs: [out])
        for p in TensorPrecision.allCases {
            let several = NeuralEngine(context: try gpuContext(), precision: p)
            several.passKind = .compute
            several.halfWeightsOverride = false
            several.pixelMajorInvocations = 0
            several.itemChains = false
            let net = try several.compile(g, batch: 2)
            let listing = net.passListing()
            for label in ["5x5/2 3->24 [pixels, 6 slices]", "3x3/1 24->24 [pixels, 3 slices]", "1x1/1 24->44 [pixels, 6 slices]"] {
                XCTAssertTrue(listing.contains(label), "\(label) in\n\(listing)")
            }
            let single = NeuralEngine(context: try gpuContext(), precision: p)
            single.passKind = .compute
            single.halfWeightsOverride = false
            single.pixelMajorConv = false
            single.itemChains = false
            let reference = try single.compile(g, batch: 2)
            XCTAssertFalse(reference.passListing().contains("[pixels"), reference.passListing())
            var rng = SeededRNG(seed: 3)
            let input = rng.tensor([2, 12, 10, 3])
            let got = try net.run(inputs: [input])[0].data, want = try reference.run(inputs: [input])[0].data
            let range = max((want.max() ?? 0) - (want.min() ?? 0), 1e-3)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            // The same sums in the same order: equal up to the compiler's choice of fused multiply-adds.
            XCTAssertLessThanOrEqual(worst, range * (p == .fp32 ? 1e-6 : 1e-3), "\(p)")
            let cpu = try CPUReference().run(graph: g, inputs: [Tensor(shape: [1, 12, 10, 3], data: Array(input.data[0..<360]))])[0].data
            let cpuWorst = zip(got.prefix(cpu.count), cpu).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(cpuWorst, range * (p == .fp32 ? 1e-4 : 1e-2), "\(p) vs CPU reference")
            print(String(format: "pixel-major conv [%@]: max difference %.3g from the one-texel kernel, %.3g from the CPU reference (range %.3g)",
                         p.rawValue, worst, cpuWorst, range))
        }
    }

    func testDepthwiseConv2D() throws {
        func dw(_ pad: Padding, _ s: Int, _ act: FusedActivation = .none) -> OpOptions {
            .depthwiseConv2D(DepthwiseConv2DOptions(padding: pad, strideW: s, strideH: s, dilationW: 1, dilationH: 1,
                                                    depthMultiplier: 1, activation: act))
        }
        try both("depthwise 3x3 SAME s1 relu") { b in
            let x = b.input(x4)
            return [b.op(.depthwiseConv2D, dw(.same, 1, .relu), [x, b.constant([1, 3, 3, 13]), b.constant([13])])]
        }
        try both("depthwise 3x3 multiplier 2 s2") { b in
            let x = b.input(x4)
            return [b.op(.depthwiseConv2D, dw(.same, 2), [x, b.constant([1, 3, 3, 26]), b.constant([26])])]
        }
        try both("depthwise 5x5 VALID dilation 2") { b in
            let x = b.input([1, 11, 12, 13])
            return [b.op(.depthwiseConv2D, .depthwiseConv2D(DepthwiseConv2DOptions(padding: .valid, strideW: 1, strideH: 1,
                dilationW: 2, dilationH: 2, depthMultiplier: 1, activation: .none)), [x, b.constant([1, 5, 5, 13])])]
        }
    }

    func testFullyConnected() throws {
        try both("fully connected [1,13] -> 7 relu") { b in
            let x = b.input([1, 13])
            return [b.op(.fullyConnected, .fullyConnected(FullyConnectedOptions(activation: .relu, keepNumDims: false)),
                         [x, b.constant([7, 13]), b.constant([7])])]
        }
        try both("fully connected [1,5,13] keep dims") { b in
            let x = b.input([1, 5, 13])
            return [b.op(.fullyConnected, .fullyConnected(FullyConnectedOptions(activation: .none, keepNumDims: true)),
                         [x, b.constant([9, 13])])]
        }
    }

    func testBinaryOps() throws {
        let kinds: [OpKind] = [.add, .sub, .mul, .div, .squaredDifference]
        for k in kinds {
            let opt: OpOptions = k == .squaredDifference ? .none : .elementwise(k == .add ? .relu : .none)
            try both("\(k.rawValue) same shape") { b in
                let x = b.input(x4), y = b.input(x4, k == .div ? 0.5 : -1, k == .div ? 2 : 1)
                return [b.op(k, opt, [x, y])]
            }
            try both("\(k.rawValue) broadcast const channel vector, [1,7,9,1], scalar, [1,1,9,13]") { b in
                let x = b.input(x4)
                let lo: Float = k == .div ? 0.5 : -1, hi: Float = k == .div ? 2 : 1
                let c = b.op(k, opt, [x, b.constant([13], lo, hi)])
                let col = b.input([1, 7, 9, 1], lo, hi)
                let d = b.op(k, opt, [col, x])
                let s = b.op(k, opt, [x, b.constant([], lo, hi)])
                let row = b.input([1, 1, 9, 13], lo, hi)
                return [c, d, s, b.op(k, opt, [row, x])]
            }
        }
        try both("rank-3 layer-norm style broadcast [1,97,1] x [64]") { b in
            let x = b.input([1, 1, 97, 1])
            return [b.op(.mul, .elementwise(.none), [x, b.constant([64])])]
        }
    }

    func testPReLU() throws {
        try both("prelu per channel") { b in
            let x = b.input(x4)
            return [b.op(.prelu, .none, [x, b.constant([1, 1, 13])])]
        }
        try both("prelu full alpha") { b in
            let x = b.input(x4)
            return [b.op(.prelu, .none, [x, b.constant([7, 9, 13])])]
        }
    }

    func testUnaryOps() throws {
        for k: OpKind in [.relu, .relu6, .logistic, .neg, .sqrt, .rsqrt] {
            try both(k.rawValue) { b in
                let positive = k == .sqrt || k == .rsqrt
                let x = b.input(x4, positive ? 0.1 : -8, 8)
                return [b.op(k, .none, [x])]
            }
        }
    }

    func testPad() throws {
        try both("pad all axes") { b in
            let x = b.input(x4)
            return [b.op(.pad, .pad(PadOptions(before: [0, 1, 2, 3], after: [0, 2, 1, 0])), [x])]
        }
    }

    func testPool2D() throws {
        func pool(_ pad: Padding, _ k: Int, _ s: Int, _ act: FusedActivation = .none) -> OpOptions {
            .pool2D(Pool2DOptions(padding: pad, strideW: s, strideH: s, filterW: k, filterH: k, activation: act))
        }
        for kind: OpKind in [.maxPool2D, .averagePool2D] {
            try both("\(kind.rawValue) 3x3 s2 SAME") { b in [b.op(kind, pool(.same, 3, 2), [b.input(x4)])] }
            try both("\(kind.rawValue) 2x2 s2 VALID relu") { b in [b.op(kind, pool(.valid, 2, 2, .relu), [b.input(x4)])] }
        }
    }

    func testReduce() throws {
        for kind: OpKind in [.mean, .sum] {
            try both("\(kind.rawValue) spatial keep dims") { b in
                [b.op(kind, .reduce(ReduceOptions(axes: [1, 2], keepDims: true)), [b.input(x4)])]
            }
            try both("\(kind.rawValue) channels drop dims") { b in
                [b.op(kind, .reduce(ReduceOptions(axes: [3], keepDims: false)), [b.input(x4)])]
            }
            try both("\(kind.rawValue) rank 3 axis 1") { b in
                [b.op(kind, .reduce(ReduceOptions(axes: [1], keepDims: true)), [b.input([1, 146, 2])])]
            }
        }
    }

    func testSoftmax() throws {
        try both("softmax [1,7]") { b in [b.op(.softmax, .softmax(SoftmaxOptions(beta: 1)), [b.input([1, 7], -5, 5)])] }
        try both("softmax [1,7,9,13] beta 0.5") { b in [b.op(.softmax, .softmax(SoftmaxOptions(beta: 0.5)), [b.input(x4, -5, 5)])] }
    }

    func testReshapeTransposeSlice() throws {
        try both("reshape gather + alias") { b in
            let x = b.input(x4)
            let r1 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 63, 13])), [x])
            let r2 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 819])), [x])
            let r3 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [7, 9, 13])), [x])
            return [r1, r2, r3]
        }
        try both("transpose") { b in
            let x = b.input(x4)
            let t1 = b.op(.transpose, .transpose(TransposeOptions(perm: [0, 2, 1, 3])), [x])
            let t2 = b.op(.transpose, .transpose(TransposeOptions(perm: [0, 3, 1, 2])), [x])
            let t3 = b.op(.transpose, .transpose(TransposeOptions(perm: [0, 2, 1])), [b.input([1, 9, 13])])
            return [t1, t2, t3]
        }
        try both("strided slice") { b in
            let x = b.input(x4)
            let s1 = b.op(.stridedSlice, .stridedSlice(StridedSliceOptions(begin: [0, 1, 2, 3], end: [1, 7, 9, 12], strides: [1, 2, 3, 1],
                beginMask: 0, endMask: 0, shrinkAxisMask: 0, offset: false)), [x])
            let s2 = b.op(.stridedSlice, .stridedSlice(StridedSliceOptions(begin: [0, 0, 4, 0], end: [1, 7, 5, 13], strides: [1, 1, 1, 1],
                beginMask: 0, endMask: 0, shrinkAxisMask: 4, offset: false)), [x])
            let s3 = b.op(.stridedSlice, .stridedSlice(StridedSliceOptions(begin: [0, -1, 0, 0], end: [1, 0, 9, 13], strides: [1, -2, 1, 2],
                beginMask: 0, endMask: 2, shrinkAxisMask: 0, offset: false)), [x])
            let y = b.input([1, 52])
            let s4 = b.op(.stridedSlice, .stridedSlice(StridedSliceOptions(begin: [0], end: [1], strides: [1],
                beginMask: 0, endMask: 0, shrinkAxisMask: 1, offset: false)), [y])
            return [s1, s2, s3, s4]
        }
    }

    func testConcatenation() throws {
        try both("concat channels + constant along W") { b in
            let x = b.input(x4), y = b.input([1, 7, 9, 5])
            let c1 = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 3, activation: .none)), [x, y])
            let z = b.input([1, 1, 96, 13])
            let c2 = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 2, activation: .relu)), [b.constant([1, 1, 1, 13]), z])
            let u = b.input([1, 5, 3]), v = b.input([1, 4, 3]), w = b.input([1, 2, 3])
            let c3 = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 1, activation: .none)), [u, v, w])
            return [c1, c2, c3]
        }
    }

    /// RESHAPEs read only by a CONCATENATION (the detectors' heads) fold into it: no copy pass, the
    /// concatenation reads each head in the reshaped element order (channel counts that do not fill a
    /// texel, and one that does; a reshape also read elsewhere keeps its pass).
    func testReshapesFoldIntoConcatenation() throws {
        var g: Graph!
        try both("heads reshaped into a concatenation") { b in
            let x = b.input([1, 4, 6, 13]), y = b.input([1, 2, 3, 9])
            let h1 = b.op(.conv2D, conv(.same, 1), [x, b.constant([2, 1, 1, 13]), b.constant([2])])
            let h2 = b.op(.conv2D, conv(.same, 1), [y, b.constant([6, 1, 1, 9]), b.constant([6])])
            let h3 = b.op(.conv2D, conv(.same, 1), [x, b.constant([8, 1, 1, 13]), b.constant([8])])
            let r1 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 48, 1])), [h1])
            let r2 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 36, 1])), [h2])
            let r3 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 48, 4])), [h3])
            let c1 = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 1, activation: .none)), [r1, r2])
            let c2 = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 2, activation: .none)), [r3, r3])
            let shared = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 54, 1])), [b.op(.logistic, .none, [y])])
            let r4 = b.op(.reshape, .reshape(ReshapeOptions(newShape: [1, 36, 1])), [h2])
            let c3 = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 1, activation: .none)), [shared, r4])
            g = b.graph(outputs: [c1, c2, c3, shared])
            return [c1, c2, c3, shared]
        }
        let net = try gpuEngine(.fp32).compile(g, batch: 2)
        // 3 convolutions, the logistic, its reshape (an output), 3 concatenations
        XCTAssertEqual(net.passCount, 8, net.passListing())
        XCTAssertEqual(net.passListing().components(separatedBy: "+RESHAPE").count - 1, 3, net.passListing())
    }

    /// Compute passes: a DEPTHWISE_CONV_2D read only by a 1x1 CONV_2D runs in that convolution's pass
    /// (strides 1 and 2, dilation, ReLU / PReLU on either, a residual with fewer channels, 150 channels:
    /// more slices than a group has lanes), with the same values as the two passes; a depthwise read
    /// twice, or read by a 3x3 convolution, keeps its own pass.
    func testDepthwiseFoldsIntoPointwise() throws {
        var g: Graph!
        func dw(_ s: Int, _ d: Int = 1, _ act: FusedActivation = .none) -> OpOptions {
            .depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: s, strideH: s, dilationW: d, dilationH: d,
                                                    depthMultiplier: 1, activation: act))
        }
        try both("depthwise + 1x1") { b in
            let x = b.input([1, 9, 11, 13])
            let d1 = b.op(.depthwiseConv2D, dw(1), [x, b.constant([1, 3, 3, 13]), b.constant([13])])
            let c1 = b.op(.conv2D, conv(.same, 1), [d1, b.constant([20, 1, 1, 13]), b.constant([20])])
            let a1 = b.op(.prelu, .none, [b.op(.add, .elementwise(.none), [c1, b.op(.pad, .pad(PadOptions(before: [0, 0, 0, 0],
                after: [0, 0, 0, 7])), [x])]), b.constant([1, 1, 20])])
            let d2 = b.op(.depthwiseConv2D, dw(2, 1, .relu), [a1, b.constant([1, 3, 3, 20]), b.constant([20])])
            let c2 = b.op(.conv2D, conv(.same, 1, 1, .relu6), [d2, b.constant([150, 1, 1, 20]), b.constant([150])])
            let d3 = b.op(.prelu, .none, [b.op(.depthwiseConv2D, dw(1, 2), [c2, b.constant([1, 3, 3, 150])]), b.constant([1, 1, 150])])
            let c3 = b.op(.conv2D, conv(.same, 1), [d3, b.constant([7, 1, 1, 150]), b.constant([7])])
            let d4 = b.op(.depthwiseConv2D, dw(1), [c3, b.constant([1, 3, 3, 7]), b.constant([7])])
            let c4 = b.op(.conv2D, conv(.same, 1), [d4, b.constant([5, 1, 1, 7]), b.constant([5])])
            let c5 = b.op(.conv2D, conv(.same, 1), [d4, b.constant([6, 1, 1, 7]), b.constant([6])])
            let d5 = b.op(.depthwiseConv2D, dw(1), [c3, b.constant([1, 3, 3, 7]), b.constant([7])])
            let c6 = b.op(.conv2D, conv(.same, 1), [d5, b.constant([4, 3, 3, 7]), b.constant([4])])
            let out = b.op(.concatenation, .concatenation(ConcatenationOptions(axis: 3, activation: .none)), [c4, c5, c6])
            g = b.graph(outputs: [out])
            return [out]
        }
        var rng = SeededRNG(seed: 9)
        let input = rng.tensor([2, 9, 11, 13])
        for p in TensorPrecision.allCases {
            let fused = try gpuEngine(p, .compute, halfWeights: false, chains: false).compile(g, batch: 2)
            let separate = NeuralEngine(context: try gpuContext(), precision: p)
            separate.passKind = .compute
            separate.halfWeightsOverride = false
            separate.depthwisePointwise = false
            separate.itemChains = false
            let unfused = try separate.compile(g, batch: 2)
            // 12 passes; 3 pairs folded (d4 has two readers, d5 feeds a 3x3 convolution)
            XCTAssertEqual(unfused.passCount, 12, unfused.passListing())
            XCTAssertEqual(fused.passCount, 9, fused.passListing())
            XCTAssertEqual(fused.passListing().components(separatedBy: "DEPTHWISE_CONV_2D").count - 1, 5, fused.passListing())
            XCTAssertEqual(try fused.run(inputs: [input])[0].data, try unfused.run(inputs: [input])[0].data, "\(p): same values as two passes")
        }
    }

    /// Fusion F: a 2x2/2 max pool read only as a convolution's residual (through a channel PAD, as in the
    /// detector's stride-2 blocks; into a depthwise + 1x1 pass and into a plain convolution) is computed in that
    /// convolution's pass, with the same values; a pool read by another op too, and a pool whose last window
    /// would be clipped (odd size, SAME), keep their pass. In fp16 with every tensor but the outputs fp16
    /// (fp32ElementLimit 0), a pool of an output (fp32) rounds as the pool's own fp16 texture would have.
    func testMaxPoolFoldsIntoResidual() throws {
        var g: Graph!
        let dw = OpOptions.depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: 2, strideH: 2, dilationW: 1, dilationH: 1,
                                                                 depthMultiplier: 1, activation: .none))
        func pool(_ padding: Padding) -> OpOptions {
            .pool2D(Pool2DOptions(padding: padding, strideW: 2, strideH: 2, filterW: 2, filterH: 2, activation: .none))
        }
        func channelPad(_ extra: Int) -> OpOptions { .pad(PadOptions(before: [0, 0, 0, 0], after: [0, 0, 0, extra])) }
        try both("max pool into residual") { b in
            let x = b.input([1, 12, 8, 10])
            // depthwise 3x3/2 + 1x1 10->16, residual = channel PAD of the pool (folded)
            let c1 = b.op(.conv2D, conv(.same, 1), [b.op(.depthwiseConv2D, dw, [x, b.constant([1, 3, 3, 10]), b.constant([10])]),
                                                     b.constant([16, 1, 1, 10]), b.constant([16])])
            let p1 = b.op(.maxPool2D, pool(.valid), [x])
            let a1 = b.op(.relu, .none, [b.op(.add, .elementwise(.none), [c1, b.op(.pad, channelPad(6), [p1])])])
            // 2x2/2 convolution 16->16, residual = the pool itself (folded; a1 is an output, so fp32)
            let c2 = b.op(.conv2D, conv(.valid, 2), [a1, b.constant([16, 2, 2, 16]), b.constant([16])])
            let p2 = b.op(.maxPool2D, pool(.same), [a1])
            let a2 = b.op(.add, .elementwise(.none), [c2, p2])
            // odd size (3x2 → 2x1 SAME): the last window is clipped, the pool keeps its pass
            let c3 = b.op(.conv2D, conv(.same, 2), [a2, b.constant([16, 3, 3, 16]), b.constant([16])])
            let a3 = b.op(.add, .elementwise(.none), [c3, b.op(.maxPool2D, pool(.same), [a2])])
            // a pool also read by another op keeps its pass
            let p4 = b.op(.maxPool2D, pool(.valid), [a1])
            let c4 = b.op(.conv2D, conv(.valid, 2), [a1, b.constant([16, 2, 2, 16]), b.constant([16])])
            let a4 = b.op(.add, .elementwise(.none), [c4, p4])
            let outs = [a3, a4, b.op(.maxPool2D, pool(.valid), [p4]), a1]
            g = b.graph(outputs: outs)
            return outs
        }
        var rng = SeededRNG(seed: 11)
        let input = rng.tensor([2, 12, 8, 10])
        try forEachPrecisionAndFP32Limit { p, limit, engine in
            func compile(fold: Bool) throws -> CompiledNetwork {
                try engine { $0.poolResiduals = fold; $0.itemChains = false }.compile(g, batch: 2)
            }
            let folded = try compile(fold: true), separate = try compile(fold: false)
            let listing = folded.passListing()
            XCTAssertEqual(separate.passCount - folded.passCount, 2, "two pools folded:\n\(listing)")
            XCTAssertEqual(listing.components(separatedBy: "+MAX_POOL").count - 1, 2, listing)
            XCTAssertEqual(try folded.run(inputs: [input]).map(\.data), try separate.run(inputs: [input]).map(\.data),
                           "\(p), fp32 up to \(limit) elements: same values as the pool's own pass")
        }
    }

    /// Fusion G: a chain of small convolutions as one pass, a work group per item, intermediates in shared memory
    /// (the landmark network's tail in small: a 2x2/2 convolution with PReLU reading its input from a texture, a
    /// depthwise + 1x1 block whose residual is the channel-PADded max pool of a texture, a 1x1 and a block whose
    /// residual is in shared memory, a 2x2/2 convolution and a block whose residual is the max pool of a tensor in
    /// shared memory). The same values as a pass per node, in fp32 and fp16, with fp16 intermediates too
    /// (fp32ElementLimit 0: the roundings), and with shared memory so small that depthwise results go in rounds of a
    /// few pixels and the chain breaks up. A head that reads the chain's last tensor beside another stays a pass of
    /// its own; an intermediate read outside the chain ends it there.
    func testItemChainsComputeWhatTheirPassesDo() throws {
        var g: Graph!
        func dw(_ s: Int, _ act: FusedActivation = .none) -> OpOptions {
            .depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: s, strideH: s, dilationW: 1, dilationH: 1,
                                                    depthMultiplier: 1, activation: act))
        }
        let pool = OpOptions.pool2D(Pool2DOptions(padding: .valid, strideW: 2, strideH: 2, filterW: 2, filterH: 2, activation: .none))
        try both("item chain") { b in
            let x = b.input([1, 8, 8, 12])
            func block(_ t: Int, _ c: Int, residual: Int) -> Int {
                let d = b.op(.depthwiseConv2D, dw(1, .relu), [t, b.constant([1, 3, 3, c]), b.constant([c])])
                let p = b.op(.conv2D, conv(.valid, 1), [d, b.constant([16, 1, 1, c]), b.constant([16])])
                return b.op(.prelu, .none, [b.op(.add, .elementwise(.none), [p, residual]), b.constant([1, 1, 16], -0.5, 0.5)])
            }
            let c1 = b.op(.prelu, .none, [b.op(.conv2D, conv(.valid, 2), [x, b.constant([8, 2, 2, 12]), b.constant([8])]),
                                          b.constant([1, 1, 8], -0.5, 0.5)])
            let r1 = b.op(.pad, .pad(PadOptions(before: [0, 0, 0, 0], after: [0, 0, 0, 4])), [b.op(.maxPool2D, pool, [x])])
            let a1 = block(c1, 8, residual: r1)
            let c2 = b.op(.conv2D, conv(.valid, 1, 1, .relu), [a1, b.constant([8, 1, 1, 16]), b.constant([8])])
            let a2 = block(c2, 8, residual: a1)
            let c3 = b.op(.conv2D, conv(.valid, 2, 1, .relu6), [a2, b.constant([8, 2, 2, 16]), b.constant([8])])
            let a3 = block(c3, 8, residual: b.op(.maxPool2D, pool, [a2]))
            let heads = [b.op(.conv2D, conv(.valid, 1), [a3, b.constant([5, 2, 2, 16]), b.constant([5])]),
                         b.op(.conv2D, conv(.same, 1, 1, .tanh), [a3, b.constant([3, 1, 1, 16]), b.constant([3])])]
            g = b.graph(outputs: heads)
            return heads
        }
        var rng = SeededRNG(seed: 17)
        let input = rng.tensor([3, 8, 8, 12])
        try forEachPrecisionAndFP32Limit { p, limit, engine in
            func compile(chains: Bool, shared: Int = 32768) throws -> CompiledNetwork {
                try engine { $0.itemChains = chains; $0.chainSharedBytes = shared }.compile(g, batch: 3)
            }
            let separate = try compile(chains: false)
            let expected = try separate.run(inputs: [input]).map(\.data)
            // 32 KB: one chain of the six nodes up to a3 (the heads read a3 side by side: passes of their own).
            // 1792 bytes (112 texels): the same chain, a2's depthwise results in two rounds of 8 pixels beside a1
            // and c2. 1 KB: a 4x4x16 tensor (64 texels) leaves no room beside it: pieces of two, not chained.
            for (shared, chainLength) in [(32768, 6), (1792, 6), (1024, 0)] {
                let chained = try compile(chains: true, shared: shared)
                let listing = chained.passListing()
                if chainLength > 0 {
                    XCTAssertTrue(listing.contains("CHAIN \(chainLength):"), "\(shared) bytes:\n\(listing)")
                    XCTAssertEqual(chained.passCount, separate.passCount - chainLength + 1, listing)
                } else {
                    XCTAssertFalse(listing.contains("CHAIN"), listing)
                }
                XCTAssertEqual(try chained.run(inputs: [input]).map(\.data), expected,
                               "\(p), fp32 up to \(limit) elements, \(shared) bytes of shared memory: the values of a pass per node")
            }
        }
    }

    func testResizeBilinear() throws {
        for (align, half) in [(false, true), (true, false), (false, false)] {
            try both("resize bilinear align \(align) half-pixel \(half)") { b in
                [b.op(.resizeBilinear, .resizeBilinear(ResizeBilinearOptions(outHeight: 14, outWidth: 17, alignCorners: align,
                                                                               halfPixelCenters: half)), [b.input(x4)])]
            }
        }
    }

    func testDepthToSpace() throws {
        try both("depth to space") { b in
            let d1 = b.op(.depthToSpace, .depthToSpace(DepthToSpaceOptions(blockSize: 2)), [b.input([1, 7, 9, 52])])
            let d2 = b.op(.depthToSpace, .depthToSpace(DepthToSpaceOptions(blockSize: 2)), [b.input([1, 3, 5, 4])])
            return [d1, d2]
        }
    }

    /// The fused paths: PAD folded into a conv, conv + residual ADD (+ channel PAD) + PRELU,
    /// ADD + PRELU, depthwise + RELU, RESHAPE alias feeding a pass.
    func testFusedChains() throws {
        var g: Graph!
        try both("fused chains") { b in
            let x = b.input(x4)
            let p = b.op(.pad, .pad(PadOptions(before: [0, 1, 1, 0], after: [0, 1, 1, 0])), [x])
            let c = b.op(.conv2D, conv(.valid, 1), [p, b.constant([13, 3, 3, 13]), b.constant([13])])
            let a = b.op(.add, .elementwise(.none), [c, x])
            let r = b.op(.prelu, .none, [a, b.constant([1, 1, 13])])
            let c2 = b.op(.conv2D, conv(.same, 1), [r, b.constant([16, 1, 1, 13]), b.constant([16])])
            let cp = b.op(.pad, .pad(PadOptions(before: [0, 0, 0, 0], after: [0, 0, 0, 3])), [r])
            let a2 = b.op(.add, .elementwise(.none), [cp, c2])
            let pr = b.op(.prelu, .none, [a2, b.constant([1, 1, 16])])
            let d = b.op(.depthwiseConv2D, .depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 1, dilationW: 1,
                dilationH: 1, depthMultiplier: 1, activation: .none)), [pr, b.constant([1, 3, 3, 16])])
            let relu = b.op(.relu, .none, [d])
            let a3 = b.op(.add, .elementwise(.none), [relu, pr])
            let pr3 = b.op(.prelu, .none, [a3, b.constant([1, 1, 16])])
            let rs = b.op(.reshape, .reshape(ReshapeOptions(newShape: [7, 9, 16])), [pr3])
            let out = b.op(.logistic, .none, [rs])
            g = b.graph(outputs: [out])
            return [out]
        }
        let net = try gpuEngine(.fp32).compile(g, batch: 2)
        print(net.passListing())
        // pad+conv+add+prelu, conv+pad+add+prelu, depthwise+relu, add+prelu, logistic
        XCTAssertEqual(net.passCount, 5, net.passListing())
    }

    /// Baked convolutions (GPU/BakedConv.swift): planar intermediates on odd shapes (37 channels = 10 slices,
    /// two draws of 8 + 2 slices), read by baked and standard convs (input and residual), a baked depthwise
    /// and a max pool; standard input / residual into baked convs; batch 3, both precisions.
    func testBakedPlanarChains() throws {
        var g: Graph!
        try both("baked planar chains") { b in
            let x = b.input([1, 9, 11, 13])
            let c1 = b.op(.conv2D, conv(.same, 1, 1, .relu), [x, b.constant([37, 1, 1, 13]), b.constant([37])])
            let d = b.op(.depthwiseConv2D, .depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 1, dilationW: 1,
                dilationH: 1, depthMultiplier: 1, activation: .none)), [c1, b.constant([1, 3, 3, 37]), b.constant([37])])
            let c2 = b.op(.conv2D, conv(.same, 1), [d, b.constant([13, 1, 1, 37]), b.constant([13])])
            let a2 = b.op(.add, .elementwise(.none), [c2, x])
            let r2 = b.op(.prelu, .none, [a2, b.constant([1, 1, 13])])
            let c3 = b.op(.conv2D, conv(.same, 1), [r2, b.constant([13, 3, 3, 13]), b.constant([13])])
            let a3 = b.op(.add, .elementwise(.none), [c3, r2])
            let mp = b.op(.maxPool2D, .pool2D(Pool2DOptions(padding: .same, strideW: 2, strideH: 2, filterW: 2, filterH: 2, activation: .none)), [a3])
            let c4 = b.op(.conv2D, conv(.valid, 2, 1, .relu6), [a3, b.constant([5, 3, 3, 13]), b.constant([5])])
            let c5 = b.op(.conv2D, conv(.same, 1), [a3, b.constant([13, 1, 1, 13])])
            let a5 = b.op(.add, .elementwise(.none), [c5, a3])
            g = b.graph(outputs: [mp, c4, a5])
            return [mp, c4, a5]
        }
        let net = try bakedEngine(.fp32).compile(g, batch: 3)
        print(net.passListing())
        XCTAssertEqual(net.planarTensorCount, 4, net.passListing())  // c1, d, r2, a3
        XCTAssertTrue(net.passListing().contains("[baked 8..<10]"), net.passListing())
        // Planar intermediates read back through the layered framebuffers.
        let keep = try bakedEngine(.fp32).compile(g, batch: 3, keepIntermediates: true)
        var rng = SeededRNG(seed: 3)
        let input = Tensor(shape: [3, 9, 11, 13], data: rng.floats(3 * 9 * 11 * 13))
        _ = try keep.run(inputs: [input])
        let one = Tensor(shape: [1, 9, 11, 13], data: Array(input.data[0..<(9 * 11 * 13)]))
        let ref = try CPUReference().trace(graph: g, inputs: [one])
        let c1 = g.ops[0].outputs[0]
        let got = try keep.readTensor(c1)
        let want = ref.values[c1]!.data
        let n = want.count
        var err: Float = 0
        for i in 0..<n { err = max(err, abs(got.data[i] - want[i])) }
        XCTAssertLessThan(err, 1e-3 * max(1, want.map(abs).max() ?? 1), "planar readTensor")
    }
}
