// Static shapes of every tensor, derived op by op from the input shapes (TFLite's Prepare
// rules). At load the result must equal the shapes written in the file; `withBatch` reruns it.
import Foundation

extension Graph {
    func invalid(_ op: GraphOp, _ m: String) -> TFLiteError {
        .invalid(model: name, "\(op.kind.rawValue) (operator \(op.sourceIndex)): \(m)")
    }

    /// Output size of a windowed op and the padding before the first window (TFLite ComputePadding).
    static func window(_ size: Int, filter: Int, stride: Int, dilation: Int, padding: Padding) -> (out: Int, padBefore: Int) {
        let effective = (filter - 1) * dilation + 1
        let out = padding == .same ? (size + stride - 1) / stride : max(0, (size - effective + stride) / stride)
        let total = max((out - 1) * stride + effective - size, 0)
        return (out, total / 2)
    }

    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    mutating func inferShapes(batch newBatch: Int, checkAgainst fileShapes: [[Int]]? = nil) throws {
        for i in inputs {
            var s = tensors[i].shape
            guard !s.isEmpty else { throw TFLiteError.invalid(model: name, "input \"\(tensors[i].name)\" is a scalar") }
            s[0] = newBatch
            tensors[i].shape = s
        }
        let oldBatch = batch
        batch = newBatch
        func count(_ s: [Int], _ op: GraphOp) throws -> Int {
            var n = 1
            for d in s {
                guard d >= 0 else { throw invalid(op, "negative dimension in \(s)") }
                let (p, o) = n.multipliedReportingOverflow(by: d)
                guard !o, p <= Graph.maxElements else { throw invalid(op, "shape \(s) is too large") }
                n = p
            }
            return n
        }
        for k in ops.indices {
            let op = ops[k]
            let shapes = op.inputs.map { tensors[$0].shape }
            let x = shapes[0]
            var out: [Int]
            func rank(_ s: [Int], _ r: Int, _ what: String) throws {
                guard s.count == r else { throw invalid(op, "\(what) must have rank \(r), has shape \(s)") }
            }
            func requireConstant(_ slot: Int, _ what: String) throws {
                guard tensors[op.inputs[slot]].isConstant else { throw invalid(op, "\(what) must be a constant") }
            }
            switch op.options {
            case let .conv2D(o):
                try rank(x, 4, "input"); try rank(shapes[1], 4, "filter"); try requireConstant(1, "filter")
                let f = shapes[1]
                guard f[3] == x[3], f[0] > 0, f[1] > 0, f[2] > 0 else { throw invalid(op, "filter \(f) does not fit input \(x)") }
                if shapes.count > 2 {
                    try requireConstant(2, "bias")
                    guard shapes[2].reduce(1, *) == f[0] else { throw invalid(op, "bias \(shapes[2]) for \(f[0]) channels") }
                }
                let h = Self.window(x[1], filter: f[1], stride: o.strideH, dilation: o.dilationH, padding: o.padding)
                let w = Self.window(x[2], filter: f[2], stride: o.strideW, dilation: o.dilationW, padding: o.padding)
                out = [x[0], h.out, w.out, f[0]]
            case var .depthwiseConv2D(o):
                try rank(x, 4, "input"); try rank(shapes[1], 4, "filter"); try requireConstant(1, "filter")
                let f = shapes[1]
                guard f[0] == 1, f[1] > 0, f[2] > 0, x[3] > 0, f[3] % x[3] == 0 else {
                    throw invalid(op, "filter \(f) does not fit input \(x)")
                }
                if shapes.count > 2 {
                    try requireConstant(2, "bias")
                    guard shapes[2].reduce(1, *) == f[3] else { throw invalid(op, "bias \(shapes[2]) for \(f[3]) channels") }
                }
                o.depthMultiplier = f[3] / x[3]
                ops[k].options = .depthwiseConv2D(o)
                let h = Self.window(x[1], filter: f[1], stride: o.strideH, dilation: o.dilationH, padding: o.padding)
                let w = Self.window(x[2], filter: f[2], stride: o.strideW, dilation: o.dilationW, padding: o.padding)
                out = [x[0], h.out, w.out, f[3]]
            case let .pool2D(o):
                try rank(x, 4, "input")
                let h = Self.window(x[1], filter: o.filterH, stride: o.strideH, dilation: 1, padding: o.padding)
                let w = Self.window(x[2], filter: o.filterW, stride: o.strideW, dilation: 1, padding: o.padding)
                out = [x[0], h.out, w.out, x[3]]
            case let .fullyConnected(o):
                try rank(shapes[1], 2, "weights"); try requireConstant(1, "weights")
                let depth = shapes[1][1], units = shapes[1][0]
                let total = try count(x, op)
                guard depth > 0, total % depth == 0, !x.isEmpty else { throw invalid(op, "input \(x) does not fit weights \(shapes[1])") }
                if shapes.count > 2 {
                    try requireConstant(2, "bias")
                    guard shapes[2].reduce(1, *) == units else { throw invalid(op, "bias \(shapes[2]) for \(units) units") }
                }
                if o.keepNumDims {
                    guard x.last == depth else { throw invalid(op, "keep_num_dims needs last dim \(depth)") }
                    out = Array(x.dropLast()) + [units]
                } else {
                    out = [total / depth, units]
                }
            case .elementwise:
                guard let b = Self.broadcast(x, shapes[1]) else { throw invalid(op, "cannot broadcast \(x) with \(shapes[1])") }
                out = b
            case .none:
                switch op.kind {
                case .squaredDifference:
                    guard let b = Self.broadcast(x, shapes[1]) else { throw invalid(op, "cannot broadcast \(x) with \(shapes[1])") }
                    out = b
                case .prelu:
                    // alpha broadcasts to the input; the output keeps the input's shape.
                    guard let b = Self.broadcast(x, shapes[1]), b == x else {
                        throw invalid(op, "alpha \(shapes[1]) does not broadcast to \(x)")
                    }
                    out = x
                default:
                    out = x
                }
            case var .concatenation(o):
                let r = x.count
                let axis = o.axis < 0 ? o.axis + r : o.axis
                guard axis >= 0, axis < r else { throw invalid(op, "axis \(o.axis) out of range for rank \(r)") }
                out = x
                for s in shapes.dropFirst() {
                    guard s.count == r else { throw invalid(op, "inputs differ in rank") }
                    for d in 0..<r where d != axis && s[d] != x[d] { throw invalid(op, "inputs \(x) and \(s) differ off axis \(axis)") }
                    out[axis] += s[axis]
                }
                o.axis = axis
                ops[k].options = .concatenation(o)
            case .reshape:
                var target = fileReshapeTargets[k] ?? []
                // Files are written for batch 1: a leading 1 follows the batch.
                if newBatch != oldBatch || newBatch != 1, let first = target.first, first == 1 || first == oldBatch,
                   x.first == newBatch { target[0] = newBatch }
                let total = try count(x, op)
                let unknown = target.indices.filter { target[$0] == -1 }
                guard unknown.count <= 1, !target.contains(where: { $0 < -1 }) else { throw invalid(op, "bad target shape \(target)") }
                if let u = unknown.first {
                    var rest = target
                    rest.remove(at: u)
                    let known = try count(rest, op)
                    guard known > 0, total % known == 0 else { throw invalid(op, "cannot reshape \(x) to \(target)") }
                    target[u] = total / known
                }
                guard try count(target, op) == total else { throw invalid(op, "cannot reshape \(x) (\(total) values) to \(target)") }
                ops[k].options = .reshape(ReshapeOptions(newShape: target))
                out = target
            case let .softmax(o):
                guard !x.isEmpty else { throw invalid(op, "scalar input") }
                _ = o
                out = x
            case var .reduce(o):
                let r = x.count
                var axes = Set<Int>()
                for a in o.axes {
                    let n = a < 0 ? a + r : a
                    guard n >= 0, n < r else { throw invalid(op, "axis \(a) out of range for \(x)") }
                    axes.insert(n)
                }
                o.axes = axes.sorted()
                ops[k].options = .reduce(o)
                out = []
                for d in 0..<r {
                    if axes.contains(d) { if o.keepDims { out.append(1) } } else { out.append(x[d]) }
                }
            case let .transpose(o):
                guard o.perm.count == x.count, Set(o.perm) == Set(0..<x.count) else {
                    throw invalid(op, "permutation \(o.perm) does not fit \(x)")
                }
                out = o.perm.map { x[$0] }
            case let .pad(o):
                guard o.before.count == x.count else { throw invalid(op, "paddings for rank \(o.before.count), input \(x)") }
                guard !o.before.contains(where: { $0 < 0 || $0 > 1 << 16 }), !o.after.contains(where: { $0 < 0 || $0 > 1 << 16 }) else {
                    throw invalid(op, "negative or huge padding")
                }
                out = (0..<x.count).map { x[$0] + o.before[$0] + o.after[$0] }
            case let .stridedSlice(o):
                guard o.begin.count <= x.count, o.end.count == o.begin.count, o.strides.count == o.begin.count else {
                    throw invalid(op, "begin/end/strides do not fit \(x)")
                }
                let r = o.resolve(shape: x)
                out = []
                for (d, a) in r.enumerated() {
                    if d < o.begin.count, o.shrinkAxisMask & (1 << d) != 0 {
                        guard a.size == 1 else { throw invalid(op, "shrunk axis \(d) has size \(a.size)") }
                    } else {
                        out.append(a.size)
                    }
                }
            case let .resizeBilinear(o):
                try rank(x, 4, "input")
                guard x[1] > 0, x[2] > 0 else { throw invalid(op, "empty input \(x)") }
                out = [x[0], o.outHeight, o.outWidth, x[3]]
            case let .depthToSpace(o):
                try rank(x, 4, "input")
                let b = o.blockSize
                guard x[3] % (b * b) == 0 else { throw invalid(op, "depth \(x[3]) not divisible by \(b * b)") }
                out = [x[0], x[1] * b, x[2] * b, x[3] / (b * b)]
            }
            _ = try count(out, op)
            guard out.count <= Graph.maxRank else { throw invalid(op, "output rank \(out.count) exceeds \(Graph.maxRank)") }
            let o = op.outputs[0]
            if let file = fileShapes, !file[o].isEmpty || out.isEmpty {
                guard file[o] == out else {
                    throw invalid(op, "inferred output shape \(out) differs from the file's \(file[o])")
                }
            }
            tensors[o].shape = out
        }
    }
}
