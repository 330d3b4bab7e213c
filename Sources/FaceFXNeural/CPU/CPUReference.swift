// Plain-Swift reference interpreter: one straightforward function per op on NHWC float
// tensors, following TFLite's float kernels (reference_ops). Independent from any GPU code;
// GPU kernels are tested against it, and it is tested against the TFLite interpreter's goldens.
import Foundation

/// Every tensor of one run, for layer-by-layer comparison with TFLite.
public struct CPUTrace {
    public let graph: Graph
    /// Indexed like `graph.tensors`; constants included.
    public let values: [Tensor?]

    public func tensor(named name: String) -> Tensor? {
        guard let t = graph.tensor(named: name) else { return nil }
        return values[t.index]
    }
    public var outputs: [Tensor] { graph.outputs.map { values[$0]! } }
}

public struct CPUReference {
    public init() {}

    /// Runs the graph; `inputs` match `graph.inputs` in order and shape.
    public func run(graph: Graph, inputs: [Tensor]) throws -> [Tensor] {
        try execute(graph: graph, inputs: inputs, keepAll: false).outputs
    }

    /// Runs the graph and keeps every intermediate tensor (fetch them by name).
    public func trace(graph: Graph, inputs: [Tensor]) throws -> CPUTrace {
        try execute(graph: graph, inputs: inputs, keepAll: true)
    }

    func execute(graph: Graph, inputs: [Tensor], keepAll: Bool) throws -> CPUTrace {
        guard inputs.count == graph.inputs.count else {
            throw GraphError.inputMismatch("\(graph.name): \(inputs.count) inputs given, the graph takes \(graph.inputs.count)")
        }
        var values = [Tensor?](repeating: nil, count: graph.tensors.count)
        for t in graph.tensors { if let c = t.constant { values[t.index] = Tensor(shape: t.shape, data: c) } }
        for (k, i) in graph.inputs.enumerated() {
            guard inputs[k].shape == graph.tensors[i].shape, inputs[k].data.count == graph.tensors[i].elementCount else {
                throw GraphError.inputMismatch("\(graph.name): input \(k) has shape \(inputs[k].shape), the graph expects \(graph.tensors[i].shape)")
            }
            values[i] = inputs[k]
        }
        // Free activations after their last reader unless tracing.
        var lastUse = [Int](repeating: -1, count: graph.tensors.count)
        for (k, op) in graph.ops.enumerated() { for t in op.inputs { lastUse[t] = k } }
        for o in graph.outputs { lastUse[o] = Int.max }
        for (k, op) in graph.ops.enumerated() {
            let args = op.inputs.map { values[$0]! }
            var result = Self.evaluate(op, args)
            result.shape = graph.tensors[op.outputs[0]].shape  // e.g. SUM to a rank-0/1 shape
            values[op.outputs[0]] = result
            if !keepAll {
                for t in op.inputs where lastUse[t] == k && !graph.tensors[t].isConstant { values[t] = nil }
            }
        }
        return CPUTrace(graph: graph, values: values)
    }

    /// One op on already-shaped arguments (`GraphOp.inputs` order).
    public static func evaluate(_ op: GraphOp, _ a: [Tensor]) -> Tensor {
        switch (op.kind, op.options) {
        case let (.conv2D, .conv2D(o)): return conv2D(a[0], filter: a[1], bias: a.count > 2 ? a[2] : nil, o)
        case let (.depthwiseConv2D, .depthwiseConv2D(o)):
            return depthwiseConv2D(a[0], filter: a[1], bias: a.count > 2 ? a[2] : nil, o)
        case let (.fullyConnected, .fullyConnected(o)):
            return fullyConnected(a[0], weights: a[1], bias: a.count > 2 ? a[2] : nil, o)
        case let (.maxPool2D, .pool2D(o)): return pool2D(a[0], o, max: true)
        case let (.averagePool2D, .pool2D(o)): return pool2D(a[0], o, max: false)
        case let (.add, .elementwise(act)): return binary(a[0], a[1], act) { $0 + $1 }
        case let (.sub, .elementwise(act)): return binary(a[0], a[1], act) { $0 - $1 }
        case let (.mul, .elementwise(act)): return binary(a[0], a[1], act) { $0 * $1 }
        case let (.div, .elementwise(act)): return binary(a[0], a[1], act) { $0 / $1 }
        case (.squaredDifference, _): return binary(a[0], a[1], .none) { ($0 - $1) * ($0 - $1) }
        case (.prelu, _): return prelu(a[0], alpha: a[1])
        case (.relu, _): return unary(a[0]) { max($0, 0) }
        case (.relu6, _): return unary(a[0]) { min(max($0, 0), 6) }
        case (.logistic, _): return unary(a[0]) { 1 / (1 + Foundation.exp(-$0)) }
        case (.neg, _): return unary(a[0]) { -$0 }
        case (.sqrt, _): return unary(a[0]) { $0.squareRoot() }
        case (.rsqrt, _): return unary(a[0]) { 1 / $0.squareRoot() }
        case let (.pad, .pad(o)): return pad(a[0], o)
        case let (.mean, .reduce(o)): return reduce(a[0], o, mean: true)
        case let (.sum, .reduce(o)): return reduce(a[0], o, mean: false)
        case let (.softmax, .softmax(o)): return softmax(a[0], beta: o.beta)
        case let (.reshape, .reshape(o)): return Tensor(shape: o.newShape, data: a[0].data)
        case let (.transpose, .transpose(o)): return transpose(a[0], perm: o.perm)
        case let (.stridedSlice, .stridedSlice(o)): return stridedSlice(a[0], o)
        case let (.concatenation, .concatenation(o)): return concatenation(a, o)
        case let (.resizeBilinear, .resizeBilinear(o)): return resizeBilinear(a[0], o)
        case let (.depthToSpace, .depthToSpace(o)): return depthToSpace(a[0], blockSize: o.blockSize)
        default:
            preconditionFailure("\(op.kind.rawValue) with options \(op.options)")  // the loader pairs them
        }
    }

    // MARK: - Convolutions

    /// x [N,H,W,C], filter [O,KH,KW,C], bias [O] → [N,OH,OW,O].
    public static func conv2D(_ x: Tensor, filter f: Tensor, bias: Tensor?, _ o: Conv2DOptions) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oc, kh, kw) = (f.shape[0], f.shape[1], f.shape[2])
        let hy = Graph.window(h, filter: kh, stride: o.strideH, dilation: o.dilationH, padding: o.padding)
        let wx = Graph.window(w, filter: kw, stride: o.strideW, dilation: o.dilationW, padding: o.padding)
        let (oh, ow) = (hy.out, wx.out)
        var out = [Float](repeating: 0, count: n * oh * ow * oc)
        x.data.withUnsafeBufferPointer { xp in
        f.data.withUnsafeBufferPointer { fp in
        out.withUnsafeMutableBufferPointer { op in
            for b in 0..<n {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let base = ((b * oh + oy) * ow + ox) * oc
                        if let bias { for k in 0..<oc { op[base + k] = bias.data[k] } }
                        for ky in 0..<kh {
                            let iy = oy * o.strideH - hy.padBefore + ky * o.dilationH
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kw {
                                let ix = ox * o.strideW - wx.padBefore + kx * o.dilationW
                                if ix < 0 || ix >= w { continue }
                                let xi = ((b * h + iy) * w + ix) * c
                                for k in 0..<oc {
                                    let wi = ((k * kh + ky) * kw + kx) * c
                                    op[base + k] += Self.dot(xp.baseAddress! + xi, fp.baseAddress! + wi, c)
                                }
                            }
                        }
                        for k in 0..<oc { op[base + k] = o.activation.apply(op[base + k]) }
                    }
                }
            }
        }}}
        return Tensor(shape: [n, oh, ow, oc], data: out)
    }

    /// Sum of a[i] * b[i] in fp32 with 16 partial sums (SIMD; ~6x the scalar loop, which the compiler
    /// may not reorder). Every conv / FC inner product of the reference goes through here.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 16 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            i += 16
        }
        if i + 8 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var s = (s0 + s1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// x [N,H,W,C], filter [1,KH,KW,C·M], bias [C·M]; output channel k reads input channel k / M.
    public static func depthwiseConv2D(_ x: Tensor, filter f: Tensor, bias: Tensor?, _ o: DepthwiseConv2DOptions) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw, oc) = (f.shape[1], f.shape[2], f.shape[3])
        let m = oc / c
        let hy = Graph.window(h, filter: kh, stride: o.strideH, dilation: o.dilationH, padding: o.padding)
        let wx = Graph.window(w, filter: kw, stride: o.strideW, dilation: o.dilationW, padding: o.padding)
        let (oh, ow) = (hy.out, wx.out)
        var out = [Float](repeating: 0, count: n * oh * ow * oc)
        x.data.withUnsafeBufferPointer { xp in
        f.data.withUnsafeBufferPointer { fp in
        out.withUnsafeMutableBufferPointer { op in
            for b in 0..<n {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let base = ((b * oh + oy) * ow + ox) * oc
                        if let bias { for k in 0..<oc { op[base + k] = bias.data[k] } }
                        for ky in 0..<kh {
                            let iy = oy * o.strideH - hy.padBefore + ky * o.dilationH
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kw {
                                let ix = ox * o.strideW - wx.padBefore + kx * o.dilationW
                                if ix < 0 || ix >= w { continue }
                                let xi = ((b * h + iy) * w + ix) * c
                                let wi = (ky * kw + kx) * oc
                                if m == 1 {
                                    for k in 0..<oc { op[base + k] += xp[xi + k] * fp[wi + k] }
                                } else {
                                    for k in 0..<oc { op[base + k] += xp[xi + k / m] * fp[wi + k] }
                                }
                            }
                        }
                        for k in 0..<oc { op[base + k] = o.activation.apply(op[base + k]) }
                    }
                }
            }
        }}}
        return Tensor(shape: [n, oh, ow, oc], data: out)
    }

    /// x flattened to [B, K], weights [U, K], bias [U] → [B, U] (or x's leading dims + [U] with keep_num_dims).
    public static func fullyConnected(_ x: Tensor, weights wt: Tensor, bias: Tensor?, _ o: FullyConnectedOptions) -> Tensor {
        let (units, depth) = (wt.shape[0], wt.shape[1])
        let rows = x.count / depth
        var out = [Float](repeating: 0, count: rows * units)
        x.data.withUnsafeBufferPointer { xp in
        wt.data.withUnsafeBufferPointer { wp in
            for r in 0..<rows {
                for u in 0..<units {
                    let s = (bias?.data[u] ?? 0) + Self.dot(xp.baseAddress! + r * depth, wp.baseAddress! + u * depth, depth)
                    out[r * units + u] = o.activation.apply(s)
                }
            }
        }}
        let shape = o.keepNumDims ? Array(x.shape.dropLast()) + [units] : [rows, units]
        return Tensor(shape: shape, data: out)
    }

    /// MAX_POOL_2D ignores padded positions; AVERAGE_POOL_2D divides by the in-bounds count (TFLite).
    public static func pool2D(_ x: Tensor, _ o: Pool2DOptions, max isMax: Bool) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let hy = Graph.window(h, filter: o.filterH, stride: o.strideH, dilation: 1, padding: o.padding)
        let wx = Graph.window(w, filter: o.filterW, stride: o.strideW, dilation: 1, padding: o.padding)
        let (oh, ow) = (hy.out, wx.out)
        var out = [Float](repeating: 0, count: n * oh * ow * c)
        for b in 0..<n {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let y0 = oy * o.strideH - hy.padBefore, x0 = ox * o.strideW - wx.padBefore
                    let ys = max(y0, 0)..<min(y0 + o.filterH, h)
                    let xs = max(x0, 0)..<min(x0 + o.filterW, w)
                    let count = Float(ys.count * xs.count)
                    for ch in 0..<c {
                        var acc: Float = isMax ? -Float.greatestFiniteMagnitude : 0
                        for iy in ys {
                            for ix in xs {
                                let v = x.data[((b * h + iy) * w + ix) * c + ch]
                                acc = isMax ? max(acc, v) : acc + v
                            }
                        }
                        if !isMax { acc = count > 0 ? acc / count : 0 }
                        out[((b * oh + oy) * ow + ox) * c + ch] = o.activation.apply(acc)
                    }
                }
            }
        }
        return Tensor(shape: [n, oh, ow, c], data: out)
    }

    // MARK: - Elementwise

    public static func unary(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map(f))
    }

    /// Numpy-style broadcasting (shapes aligned on the right), then the fused activation.
    public static func binary(_ a: Tensor, _ b: Tensor, _ act: FusedActivation, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            var out = [Float](repeating: 0, count: a.count)
            for i in 0..<a.count { out[i] = act.apply(f(a.data[i], b.data[i])) }
            return Tensor(shape: a.shape, data: out)
        }
        let shape = Graph.broadcast(a.shape, b.shape)!
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        var idx = [Int](repeating: 0, count: shape.count)
        var ia = 0, ib = 0
        for i in 0..<out.count {
            out[i] = act.apply(f(a.data[ia], b.data[ib]))
            // Odometer increment over the output index, moving both input offsets.
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1; ia += sa[d]; ib += sb[d]
                if idx[d] < shape[d] { break }
                ia -= sa[d] * shape[d]; ib -= sb[d] * shape[d]; idx[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, data: out)
    }

    /// Strides of `shape` seen through an output of rank `to.count`; 0 on broadcast axes.
    static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        let own = Tensor.strides(shape)
        let lead = out.count - shape.count
        return (0..<out.count).map { d in d < lead || shape[d - lead] == 1 ? 0 : own[d - lead] }
    }

    /// x ≥ 0 ? x : alpha·x, alpha broadcast to x's shape.
    public static func prelu(_ x: Tensor, alpha: Tensor) -> Tensor {
        let c = x.shape.last ?? 1
        if alpha.count == c, alpha.shape.dropLast().allSatisfy({ $0 == 1 }), alpha.shape.last == c {
            var out = x.data
            for i in 0..<out.count where out[i] < 0 { out[i] *= alpha.data[i % c] }
            return Tensor(shape: x.shape, data: out)
        }
        return binary(x, alpha, .none) { $0 >= 0 ? $0 : $0 * $1 }
    }

    // MARK: - Data movement

    /// Zero padding; `before`/`after` per axis.
    public static func pad(_ x: Tensor, _ o: PadOptions) -> Tensor {
        let r = x.shape.count
        let outShape = (0..<r).map { x.shape[$0] + o.before[$0] + o.after[$0] }
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        if x.count == 0 { return Tensor(shape: outShape, data: out) }
        let os = Tensor.strides(outShape)
        let row = x.shape[r - 1]
        let rows = x.count / max(row, 1)
        var idx = [Int](repeating: 0, count: r)  // index over all axes but the last
        for k in 0..<rows {
            var dst = o.before[r - 1]
            for d in 0..<(r - 1) { dst += (idx[d] + o.before[d]) * os[d] }
            for j in 0..<row { out[dst + j] = x.data[k * row + j] }
            var d = r - 2
            while d >= 0 { idx[d] += 1; if idx[d] < x.shape[d] { break }; idx[d] = 0; d -= 1 }
        }
        return Tensor(shape: outShape, data: out)
    }

    /// Output axis i takes input axis perm[i].
    public static func transpose(_ x: Tensor, perm: [Int]) -> Tensor {
        let outShape = perm.map { x.shape[$0] }
        let inStrides = Tensor.strides(x.shape)
        let st = perm.map { inStrides[$0] }
        return gather(x, shape: outShape, start: 0, strides: st)
    }

    /// Reads x at `start + Σ idx[d]·strides[d]` for every index of `shape`.
    static func gather(_ x: Tensor, shape: [Int], start: Int, strides st: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        if n == 0 { return Tensor(shape: shape, data: out) }
        var idx = [Int](repeating: 0, count: shape.count)
        var src = start
        for i in 0..<n {
            out[i] = x.data[src]
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1; src += st[d]
                if idx[d] < shape[d] { break }
                src -= st[d] * shape[d]; idx[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, data: out)
    }

    /// TFLite STRIDED_SLICE with begin/end/shrink masks (and `offset`).
    public static func stridedSlice(_ x: Tensor, _ o: StridedSliceOptions) -> Tensor {
        let axes = o.resolve(shape: x.shape)
        let inStrides = Tensor.strides(x.shape)
        var start = 0
        for (d, a) in axes.enumerated() where a.size > 0 { start += a.start * inStrides[d] }
        let full = gather(x, shape: axes.map(\.size), start: start,
                          strides: axes.enumerated().map { inStrides[$0.offset] * $0.element.stride })
        let kept = axes.indices.filter { !($0 < o.begin.count && o.shrinkAxisMask & (1 << $0) != 0) }
        return Tensor(shape: kept.map { axes[$0].size }, data: full.data)
    }

    public static func concatenation(_ xs: [Tensor], _ o: ConcatenationOptions) -> Tensor {
        let axis = o.axis
        var shape = xs[0].shape
        shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *)
        var out: [Float] = []
        out.reserveCapacity(shape.reduce(1, *))
        for q in 0..<outer {
            for x in xs {
                let chunk = x.shape[axis...].reduce(1, *)
                out.append(contentsOf: x.data[(q * chunk)..<((q + 1) * chunk)])
            }
        }
        if o.activation != .none { out = out.map(o.activation.apply) }
        return Tensor(shape: shape, data: out)
    }

    /// output[b, y·bs + dy, x·bs + dx, c] = input[b, y, x, (dy·bs + dx)·C' + c].
    public static func depthToSpace(_ x: Tensor, blockSize bs: Int) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oc = c / (bs * bs)
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n {
            for y in 0..<h {
                for xx in 0..<w {
                    for dy in 0..<bs {
                        for dx in 0..<bs {
                            let src = ((b * h + y) * w + xx) * c + (dy * bs + dx) * oc
                            let dst = ((b * h * bs + y * bs + dy) * w * bs + xx * bs + dx) * oc
                            for k in 0..<oc { out[dst + k] = x.data[src + k] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, h * bs, w * bs, oc], data: out)
    }

    /// TFLite ResizeBilinear (float reference kernel), both align_corners and half_pixel_centers.
    public static func resizeBilinear(_ x: Tensor, _ o: ResizeBilinearOptions) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (o.outHeight, o.outWidth)
        func scale(_ i: Int, _ out: Int) -> Float {
            o.alignCorners && out > 1 ? Float(i - 1) / Float(out - 1) : Float(i) / Float(out)
        }
        let sy = scale(h, oh), sx = scale(w, ow)
        func source(_ v: Int, _ s: Float, _ size: Int) -> (pos: Float, lo: Int, hi: Int) {
            let p = o.halfPixelCenters ? (Float(v) + 0.5) * s - 0.5 : Float(v) * s
            return (p, max(Int(p.rounded(.down)), 0), min(Int(p.rounded(.up)), size - 1))
        }
        var out = [Float](repeating: 0, count: n * oh * ow * c)
        for b in 0..<n {
            for y in 0..<oh {
                let (py, y0, y1) = source(y, sy, h)
                let fy = py - Float(y0)
                for xx in 0..<ow {
                    let (px, x0, x1) = source(xx, sx, w)
                    let fx = px - Float(x0)
                    for k in 0..<c {
                        func at(_ yy: Int, _ xi: Int) -> Float { x.data[((b * h + yy) * w + xi) * c + k] }
                        let v = at(y0, x0) * (1 - fy) * (1 - fx) + at(y1, x0) * fy * (1 - fx)
                            + at(y0, x1) * (1 - fy) * fx + at(y1, x1) * fy * fx
                        out[((b * oh + y) * ow + xx) * c + k] = v
                    }
                }
            }
        }
        return Tensor(shape: [n, oh, ow, c], data: out)
    }

    // MARK: - Reductions

    /// MEAN / SUM over `axes` (accumulated in Double), keep_dims keeps them as size 1.
    public static func reduce(_ x: Tensor, _ o: ReduceOptions, mean: Bool) -> Tensor {
        let r = x.shape.count
        let reduced = Set(o.axes)
        let keptShape = (0..<r).map { reduced.contains($0) ? 1 : x.shape[$0] }
        let ks = Tensor.strides(keptShape)
        let st = (0..<r).map { reduced.contains($0) ? 0 : ks[$0] }
        var acc = [Double](repeating: 0, count: keptShape.reduce(1, *))
        var idx = [Int](repeating: 0, count: r)
        var dst = 0
        for i in 0..<x.count {
            acc[dst] += Double(x.data[i])
            var d = r - 1
            while d >= 0 {
                idx[d] += 1; dst += st[d]
                if idx[d] < x.shape[d] { break }
                dst -= st[d] * x.shape[d]; idx[d] = 0
                d -= 1
            }
        }
        let n = Double(o.axes.reduce(1) { $0 * x.shape[$1] })
        let data = acc.map { Float(mean ? $0 / n : $0) }
        let shape = o.keepDims ? keptShape : (0..<r).filter { !reduced.contains($0) }.map { x.shape[$0] }
        return Tensor(shape: shape, data: data)
    }

    /// Softmax over the last axis: exp(β(x − max)) / Σ.
    public static func softmax(_ x: Tensor, beta: Float) -> Tensor {
        let c = x.shape.last ?? 1
        var out = x.data
        for r in 0..<(x.count / max(c, 1)) {
            let row = (r * c)..<((r + 1) * c)
            let m = x.data[row].max() ?? 0
            var s: Float = 0
            for i in row { out[i] = Foundation.exp(beta * (x.data[i] - m)); s += out[i] }
            for i in row { out[i] /= s }
        }
        return Tensor(shape: x.shape, data: out)
    }
}
