// A loaded network: float tensors, constants decoded at load (fp16 / int8 / sparse resolved),
// compute ops with typed options, and static shapes for every tensor.
import Foundation

public struct GraphTensor: Sendable {
    public let index: Int
    public let name: String
    /// Static shape for the graph's current batch.
    public internal(set) var shape: [Int]
    /// Values of a constant (weights, biases, PReLU alphas, constant operands), already float.
    public internal(set) var constant: [Float]?
    public var isConstant: Bool { constant != nil }
    public var elementCount: Int { shape.reduce(1, *) }
}

public enum GraphError: Error, CustomStringConvertible {
    case inputMismatch(String)
    case unknownTensor(String)

    public var description: String {
        switch self {
        case let .inputMismatch(m): return m
        case let .unknownTensor(m): return "no tensor named \(m)"
        }
    }
}

public struct Graph: Sendable {
    /// File name of the model, used in every message.
    public let name: String
    public internal(set) var tensors: [GraphTensor]
    public internal(set) var ops: [GraphOp]
    public let inputs: [Int]
    public let outputs: [Int]
    /// Leading dimension of the inputs (1 in the files).
    public internal(set) var batch: Int
    /// What the loader resolved or noticed (dequantized weights, densified tensors, hybrid ops).
    public internal(set) var notes: [String]
    /// Reshape targets as written in the file (batch 1), kept so `withBatch` can re-derive them.
    var fileReshapeTargets: [Int: [Int]] = [:]

    /// Largest tensor facefx accepts (elements); protects against absurd shapes in corrupt files.
    public static let maxElements = 1 << 26
    /// Highest tensor rank accepted (TFLite's builtin kernels stop at 5 or 6).
    public static let maxRank = 8

    /// Loads a `.tflite` file, or with `member` a network inside a `.task` bundle.
    public init(contentsOf url: URL, member: String? = nil) throws {
        if let member {
            try self.init(model: try TaskBundle(contentsOf: url).model(member))
        } else {
            try self.init(model: try TFLiteModel(contentsOf: url))
        }
    }

    public init(model: TFLiteModel, subgraph: Int = 0) throws {
        var loader = try GraphLoader(model: model, subgraphIndex: subgraph)
        self = try loader.build()
    }

    init(name: String, tensors: [GraphTensor], ops: [GraphOp], inputs: [Int], outputs: [Int], batch: Int,
         notes: [String], fileReshapeTargets: [Int: [Int]]) {
        self.name = name
        self.tensors = tensors
        self.ops = ops
        self.inputs = inputs
        self.outputs = outputs
        self.batch = batch
        self.notes = notes
        self.fileReshapeTargets = fileReshapeTargets
    }

    public func tensor(named name: String) -> GraphTensor? { tensors.first { $0.name == name } }

    public var inputShapes: [[Int]] { inputs.map { tensors[$0].shape } }
    public var outputShapes: [[Int]] { outputs.map { tensors[$0].shape } }

    /// The same graph for `n` images per run: input batch dims and every derived shape change.
    public func withBatch(_ n: Int) throws -> Graph {
        guard n >= 1 else { throw TFLiteError.invalid(model: name, "batch must be >= 1") }
        var g = self
        try g.inferShapes(batch: n)
        return g
    }

    /// Ops with counts, inputs and outputs with shapes, constant sizes.
    public func summary() -> String {
        var lines: [String] = []
        let constants = tensors.filter(\.isConstant)
        let weightCount = constants.reduce(0) { $0 + ($1.constant?.count ?? 0) }
        lines.append("\(name): \(ops.count) ops, \(tensors.count) tensors (\(constants.count) constants, \(weightCount) float weights), batch \(batch)")
        for i in inputs { lines.append("  input  \(tensors[i].name) \(Self.format(tensors[i].shape))") }
        for i in outputs { lines.append("  output \(tensors[i].name) \(Self.format(tensors[i].shape))") }
        var counts: [OpKind: Int] = [:]
        for op in ops { counts[op.kind, default: 0] += 1 }
        lines.append("  ops:")
        for kind in OpKind.allCases where counts[kind] != nil {
            lines.append("    \(kind.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(counts[kind]!)")
        }
        for n in notes { lines.append("  note: \(n)") }
        return lines.joined(separator: "\n")
    }

    /// One line per op: index, kind, options, input/output shapes (for layer-by-layer debugging).
    public func opListing() -> String {
        ops.enumerated().map { i, op in
            let ins = op.inputs.map { "\(tensors[$0].isConstant ? "c" : "")\(Self.format(tensors[$0].shape))" }.joined(separator: ", ")
            let outs = op.outputs.map { "\(tensors[$0].name) \(Self.format(tensors[$0].shape))" }.joined(separator: ", ")
            return "\(i) \(op.kind.rawValue) (\(ins)) -> \(outs)"
        }.joined(separator: "\n")
    }

    static func format(_ shape: [Int]) -> String { shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "×") }
}

// MARK: - Loading

/// Turns a parsed `TFLiteModel` into a `Graph`.
struct GraphLoader {
    let model: TFLiteModel
    let sg: TFLiteSubGraph
    var name: String { model.name }

    /// Decoded constants by tensor index.
    var floats: [Int: [Float]] = [:]
    var ints: [Int: [Int]] = [:]
    var notes: [String] = []

    init(model: TFLiteModel, subgraphIndex: Int) throws {
        guard subgraphIndex >= 0, subgraphIndex < model.subgraphs.count else {
            throw TFLiteError.invalid(model: model.name, "no subgraph \(subgraphIndex)")
        }
        self.model = model
        sg = model.subgraphs[subgraphIndex]
    }

    func invalid(_ m: String) -> TFLiteError { .invalid(model: name, m) }

    func elementCount(_ shape: [Int], _ what: String) throws -> Int {
        guard shape.count <= Graph.maxRank else { throw invalid("\(what) has rank \(shape.count)") }
        var n = 1
        for d in shape {
            guard d >= 0 else { throw invalid("\(what) has negative dimension in shape \(shape)") }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= Graph.maxElements else { throw invalid("\(what) shape \(shape) is too large") }
            n = p
        }
        return n
    }

    func checkTensor(_ i: Int, _ what: String) throws {
        guard i >= 0, i < sg.tensors.count else { throw invalid("\(what) refers to tensor \(i), which does not exist") }
    }

    mutating func build() throws -> Graph {
        // 1. Decode every constant buffer.
        var dequantized = 0, densified = 0, halfs = 0
        var hybridTypes = Set<String>()
        for (i, t) in sg.tensors.enumerated() {
            let count = try elementCount(t.shape, "tensor \"\(t.name)\"")
            guard t.buffer >= 0, t.buffer < model.bufferRanges.count else {
                throw invalid("tensor \"\(t.name)\" refers to buffer \(t.buffer), which does not exist")
            }
            guard let raw = model.bufferBytes(t.buffer), !raw.isEmpty else { continue }
            if t.sparsity != nil { densified += 1 }
            switch t.type {
            case .int32, .int64:
                if let q = t.quantization, !q.scale.isEmpty {  // quantized bias of a fully-quantized model
                    floats[i] = try ConstantDecoder.decodeFloats(t, raw, count: count, model: name)
                    dequantized += 1
                } else {
                    ints[i] = try ConstantDecoder.decodeInts(t, raw, count: count, model: name)
                }
            case .float32, .float16:
                floats[i] = try ConstantDecoder.decodeFloats(t, raw, count: count, model: name)
                if t.type == .float16 { halfs += 1 }
            case .int8, .uint8, .int16:
                guard t.quantization != nil else {
                    ints[i] = try ConstantDecoder.decodeInts(t, raw, count: count, model: name)
                    continue
                }
                floats[i] = try ConstantDecoder.decodeFloats(t, raw, count: count, model: name)
                dequantized += 1
                hybridTypes.insert(t.type.description)
            default:
                throw TFLiteError.unsupportedType(model: name, tensor: t.name, type: t.type.description)
            }
        }
        if halfs > 0 { notes.append("\(halfs) float16 constants widened to float32 at load") }
        if dequantized > 0 {
            notes.append("\(dequantized) \(hybridTypes.sorted().joined(separator: "/")) quantized constants dequantized to float32 at load")
        }
        if densified > 0 { notes.append("\(densified) sparse constants densified at load") }

        // 2. Operators: fold DEQUANTIZE/DENSIFY of constants, parse the rest.
        var ops: [GraphOp] = []
        var produced = Set<Int>()
        for i in sg.inputs { try checkTensor(i, "subgraph input") }
        for i in sg.outputs { try checkTensor(i, "subgraph output") }
        var available = Set(sg.inputs).union(floats.keys).union(ints.keys)
        var folded = 0
        var hybridOps = 0
        for (index, op) in sg.operators.enumerated() {
            guard op.opcodeIndex >= 0, op.opcodeIndex < model.operatorCodes.count else {
                throw invalid("operator \(index) uses opcode \(op.opcodeIndex), which does not exist")
            }
            let code = model.operatorCodes[op.opcodeIndex]
            for t in op.inputs where t != -1 {
                try checkTensor(t, "operator \(index) (\(code.name)) input")
                guard available.contains(t) else {
                    throw invalid("operator \(index) (\(code.name)) reads tensor \"\(sg.tensors[t].name)\" before it is computed")
                }
            }
            for t in op.outputs {
                try checkTensor(t, "operator \(index) (\(code.name)) output")
                guard !available.contains(t), !produced.contains(t) else {
                    throw invalid("operator \(index) (\(code.name)) overwrites tensor \"\(sg.tensors[t].name)\"")
                }
            }
            if code.name == "DEQUANTIZE" || code.name == "DENSIFY" {
                guard op.inputs.count == 1, op.outputs.count == 1, op.inputs[0] >= 0 else {
                    throw invalid("operator \(index) (\(code.name)) needs one input and one output")
                }
                guard let value = floats[op.inputs[0]] else {
                    if code.name == "DEQUANTIZE" {
                        throw invalid("operator \(index): DEQUANTIZE of a computed tensor (quantized activations) is not supported")
                    }
                    throw invalid("operator \(index): DENSIFY of a non-constant tensor is not supported")
                }
                let out = op.outputs[0]
                guard try elementCount(sg.tensors[out].shape, "tensor") == value.count else {
                    throw invalid("operator \(index) (\(code.name)) changes the element count")
                }
                floats[out] = value
                available.insert(out)
                folded += 1
                continue
            }
            if code.name == "QUANTIZE" {
                throw invalid("operator \(index): QUANTIZE (int8 activations, a fully quantized model) is not supported")
            }
            guard let kind = OpKind(rawValue: code.name), code.builtinCode != 32 else {
                throw TFLiteError.unsupportedOperator(model: name, op: code.name)
            }
            let parsed = try parseOp(kind: kind, op: op, index: index)
            if kind == .conv2D || kind == .depthwiseConv2D || kind == .fullyConnected,
               op.inputs.count > 1, op.inputs[1] >= 0, sg.tensors[op.inputs[1]].type != .float32,
               sg.tensors[op.inputs[1]].type != .float16 { hybridOps += 1 }
            ops.append(parsed)
            for t in op.outputs { available.insert(t); produced.insert(t) }
        }
        if folded > 0 { notes.append("\(folded) DEQUANTIZE/DENSIFY ops folded into constants") }
        if hybridOps > 0 {
            notes.append("\(hybridOps) hybrid ops (quantized weights, float activations): TFLite quantizes their inputs to int8 on the fly, facefx computes them in float")
        }
        for o in sg.outputs where !available.contains(o) {
            throw invalid("output \"\(sg.tensors[o].name)\" is never computed")
        }
        for i in sg.inputs where floats[i] != nil || ints[i] != nil {
            throw invalid("input \"\(sg.tensors[i].name)\" is a constant")
        }

        // 3. Tensors of the graph; every compute input must be float.
        var tensors: [GraphTensor] = []
        for (i, t) in sg.tensors.enumerated() {
            tensors.append(GraphTensor(index: i, name: t.name, shape: t.shape, constant: floats[i]))
        }
        for op in ops {
            for t in op.inputs where floats[t] == nil && !produced.contains(t) && !sg.inputs.contains(t) {
                throw invalid("\(op.kind.rawValue) (operator \(op.sourceIndex)) reads tensor \"\(sg.tensors[t].name)\" which is not a float tensor")
            }
        }
        for i in sg.inputs where sg.tensors[i].type != .float32 {
            throw TFLiteError.unsupportedType(model: name, tensor: sg.tensors[i].name, type: sg.tensors[i].type.description)
        }
        var reshapeTargets: [Int: [Int]] = [:]
        for (k, op) in ops.enumerated() {
            if case let .reshape(r) = op.options { reshapeTargets[k] = r.newShape }
        }
        let batch = sg.inputs.first.flatMap { sg.tensors[$0].shape.first } ?? 1
        var graph = Graph(name: name, tensors: tensors, ops: ops, inputs: sg.inputs, outputs: sg.outputs,
                          batch: batch, notes: notes, fileReshapeTargets: reshapeTargets)
        // 4. Static shapes from the input shapes; they must agree with the file.
        try graph.inferShapes(batch: batch, checkAgainst: sg.tensors.map(\.shape))
        return graph
    }

    // MARK: options

    /// schema.fbs `BuiltinOptions` union tags of the options tables read here.
    enum OptionsTag: UInt8 {
        case conv2D = 1, depthwiseConv2D = 2, pool2D = 5, fullyConnected = 8, softmax = 9, concatenation = 10,
             add = 11, resizeBilinear = 15, reshape = 17, mul = 21, pad = 22, transpose = 26, reducer = 27,
             sub = 28, div = 29, stridedSlice = 32, depthToSpace = 94
    }

    func options(_ op: TFLiteOperator, _ expected: OptionsTag, _ kind: OpKind) throws -> FBTable? {
        if op.optionsType != 0 && op.optionsType != expected.rawValue {
            throw invalid("\(kind.rawValue) has options of union type \(op.optionsType), expected \(expected.rawValue)")
        }
        return op.optionsType == 0 ? nil : op.options
    }

    func activation(_ raw: Int8, _ kind: OpKind) throws -> FusedActivation {
        guard let a = FusedActivation(rawValue: raw) else {
            throw invalid("\(kind.rawValue) has unsupported fused activation \(raw)")
        }
        return a
    }

    func padding(_ raw: Int8, _ kind: OpKind) throws -> Padding {
        guard let p = Padding(rawValue: raw) else { throw invalid("\(kind.rawValue) has unknown padding \(raw)") }
        return p
    }

    func positive(_ v: Int32, _ what: String, _ kind: OpKind) throws -> Int {
        guard v >= 1, v <= 1 << 16 else { throw invalid("\(kind.rawValue) has invalid \(what) \(v)") }
        return Int(v)
    }

    func intParam(_ op: TFLiteOperator, _ slot: Int, _ kind: OpKind, _ what: String) throws -> [Int] {
        guard slot < op.inputs.count, op.inputs[slot] >= 0 else { throw invalid("\(kind.rawValue) lacks its \(what) input") }
        guard let v = ints[op.inputs[slot]] else {
            throw invalid("\(kind.rawValue) (operator) needs a constant integer \(what); dynamic \(what) is not supported")
        }
        return v
    }

    func parseOp(kind: OpKind, op: TFLiteOperator, index: Int) throws -> GraphOp {
        func wrap(_ opts: OpOptions, _ inputs: [Int]) throws -> GraphOp {
            guard op.outputs.count == 1 else { throw invalid("\(kind.rawValue) (operator \(index)) must have one output") }
            for t in inputs { try checkTensor(t, "\(kind.rawValue) (operator \(index)) input") }
            return GraphOp(kind: kind, options: opts, inputs: inputs, outputs: op.outputs, sourceIndex: index)
        }
        func need(_ n: Int) throws {
            guard op.inputs.count >= n, !op.inputs.prefix(n).contains(-1) else {
                throw invalid("\(kind.rawValue) (operator \(index)) needs \(n) inputs, has \(op.inputs)")
            }
        }
        /// Data inputs with an optional trailing bias (-1 = absent).
        func withOptionalBias() throws -> [Int] {
            try need(2)
            if op.inputs.count >= 3 && op.inputs[2] >= 0 { return Array(op.inputs.prefix(3)) }
            return Array(op.inputs.prefix(2))
        }
        switch kind {
        case .conv2D:
            let t = try options(op, .conv2D, kind)
            // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5.
            let o = Conv2DOptions(padding: try padding(try t?.i8(0) ?? 0, kind),
                                  strideW: try positive(try t?.i32(1) ?? 0, "stride_w", kind),
                                  strideH: try positive(try t?.i32(2) ?? 0, "stride_h", kind),
                                  dilationW: try positive(try t?.i32(4, 1) ?? 1, "dilation_w", kind),
                                  dilationH: try positive(try t?.i32(5, 1) ?? 1, "dilation_h", kind),
                                  activation: try activation(try t?.i8(3) ?? 0, kind))
            return try wrap(.conv2D(o), try withOptionalBias())
        case .depthwiseConv2D:
            let t = try options(op, .depthwiseConv2D, kind)
            // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, activation 4, dilation_w 5, dilation_h 6.
            let o = DepthwiseConv2DOptions(padding: try padding(try t?.i8(0) ?? 0, kind),
                                           strideW: try positive(try t?.i32(1) ?? 0, "stride_w", kind),
                                           strideH: try positive(try t?.i32(2) ?? 0, "stride_h", kind),
                                           dilationW: try positive(try t?.i32(5, 1) ?? 1, "dilation_w", kind),
                                           dilationH: try positive(try t?.i32(6, 1) ?? 1, "dilation_h", kind),
                                           depthMultiplier: 1,  // derived from shapes in inferShapes
                                           activation: try activation(try t?.i8(4) ?? 0, kind))
            return try wrap(.depthwiseConv2D(o), try withOptionalBias())
        case .fullyConnected:
            let t = try options(op, .fullyConnected, kind)
            // FullyConnectedOptions: activation 0, weights_format 1, keep_num_dims 2.
            if try t?.i8(1) ?? 0 != 0 { throw invalid("FULLY_CONNECTED with shuffled weights is not supported") }
            let o = FullyConnectedOptions(activation: try activation(try t?.i8(0) ?? 0, kind), keepNumDims: try t?.bool(2) ?? false)
            return try wrap(.fullyConnected(o), try withOptionalBias())
        case .maxPool2D, .averagePool2D:
            let t = try options(op, .pool2D, kind)
            // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, activation 5.
            let o = Pool2DOptions(padding: try padding(try t?.i8(0) ?? 0, kind),
                                  strideW: try positive(try t?.i32(1) ?? 0, "stride_w", kind),
                                  strideH: try positive(try t?.i32(2) ?? 0, "stride_h", kind),
                                  filterW: try positive(try t?.i32(3) ?? 0, "filter_width", kind),
                                  filterH: try positive(try t?.i32(4) ?? 0, "filter_height", kind),
                                  activation: try activation(try t?.i8(5) ?? 0, kind))
            try need(1)
            return try wrap(.pool2D(o), [op.inputs[0]])
        case .add, .sub, .mul, .div:
            let tag: OptionsTag = kind == .add ? .add : kind == .sub ? .sub : kind == .mul ? .mul : .div
            let t = try options(op, tag, kind)
            try need(2)
            return try wrap(.elementwise(try activation(try t?.i8(0) ?? 0, kind)), Array(op.inputs.prefix(2)))
        case .squaredDifference:
            try need(2)
            return try wrap(.none, Array(op.inputs.prefix(2)))
        case .prelu:
            try need(2)
            return try wrap(.none, Array(op.inputs.prefix(2)))
        case .relu, .relu6, .logistic, .neg, .sqrt, .rsqrt:
            try need(1)
            return try wrap(.none, [op.inputs[0]])
        case .concatenation:
            let t = try options(op, .concatenation, kind)
            // ConcatenationOptions: axis 0, fused_activation_function 1. Axis normalized in inferShapes.
            guard !op.inputs.isEmpty, !op.inputs.contains(-1) else { throw invalid("CONCATENATION without inputs") }
            let o = ConcatenationOptions(axis: Int(try t?.i32(0) ?? 0), activation: try activation(try t?.i8(1) ?? 0, kind))
            return try wrap(.concatenation(o), op.inputs)
        case .reshape:
            let t = try options(op, .reshape, kind)
            try need(1)
            // The shape input (if present) wins over ReshapeOptions.new_shape (field 0), as in TFLite.
            var shape: [Int]
            if op.inputs.count >= 2, op.inputs[1] >= 0 {
                shape = try intParam(op, 1, kind, "shape")
            } else if let s = try t?.int32s(0) {
                shape = s.map(Int.init)
            } else {
                throw invalid("RESHAPE (operator \(index)) has neither a shape input nor new_shape")
            }
            return try wrap(.reshape(ReshapeOptions(newShape: shape)), [op.inputs[0]])
        case .softmax:
            let t = try options(op, .softmax, kind)
            try need(1)
            return try wrap(.softmax(SoftmaxOptions(beta: try t?.f32(0) ?? 0)), [op.inputs[0]])
        case .mean, .sum:
            let t = try options(op, .reducer, kind)
            try need(2)
            let axes = try intParam(op, 1, kind, "axes")
            return try wrap(.reduce(ReduceOptions(axes: axes, keepDims: try t?.bool(0) ?? false)), [op.inputs[0]])
        case .transpose:
            _ = try options(op, .transpose, kind)
            try need(2)
            return try wrap(.transpose(TransposeOptions(perm: try intParam(op, 1, kind, "permutation"))), [op.inputs[0]])
        case .pad:
            _ = try options(op, .pad, kind)
            try need(2)
            let p = try intParam(op, 1, kind, "paddings")
            guard p.count % 2 == 0 else { throw invalid("PAD paddings must have shape [rank, 2]") }
            let o = PadOptions(before: stride(from: 0, to: p.count, by: 2).map { p[$0] },
                               after: stride(from: 1, to: p.count, by: 2).map { p[$0] })
            return try wrap(.pad(o), [op.inputs[0]])
        case .stridedSlice:
            let t = try options(op, .stridedSlice, kind)
            try need(4)
            // StridedSliceOptions: begin_mask 0, end_mask 1, ellipsis_mask 2, new_axis_mask 3, shrink_axis_mask 4, offset 5.
            if try t?.i32(2) ?? 0 != 0 || t?.i32(3) ?? 0 != 0 {
                throw invalid("STRIDED_SLICE with ellipsis_mask or new_axis_mask is not supported")
            }
            let o = StridedSliceOptions(begin: try intParam(op, 1, kind, "begin"), end: try intParam(op, 2, kind, "end"),
                                        strides: try intParam(op, 3, kind, "strides"),
                                        beginMask: Int(try t?.i32(0) ?? 0), endMask: Int(try t?.i32(1) ?? 0),
                                        shrinkAxisMask: Int(try t?.i32(4) ?? 0), offset: try t?.bool(5) ?? false)
            if o.strides.contains(0) { throw invalid("STRIDED_SLICE with stride 0") }
            return try wrap(.stridedSlice(o), [op.inputs[0]])
        case .resizeBilinear:
            let t = try options(op, .resizeBilinear, kind)
            try need(2)
            let size = try intParam(op, 1, kind, "size")
            guard size.count == 2 else { throw invalid("RESIZE_BILINEAR size must have 2 values") }
            // ResizeBilinearOptions: new_height 0 (deprecated), new_width 1 (deprecated), align_corners 2, half_pixel_centers 3.
            let o = ResizeBilinearOptions(outHeight: try positive(Int32(clamping: size[0]), "height", kind),
                                          outWidth: try positive(Int32(clamping: size[1]), "width", kind),
                                          alignCorners: try t?.bool(2) ?? false, halfPixelCenters: try t?.bool(3) ?? false)
            return try wrap(.resizeBilinear(o), [op.inputs[0]])
        case .depthToSpace:
            let t = try options(op, .depthToSpace, kind)
            try need(1)
            let o = DepthToSpaceOptions(blockSize: try positive(try t?.i32(0) ?? 0, "block_size", kind))
            return try wrap(.depthToSpace(o), [op.inputs[0]])
        }
    }
}
