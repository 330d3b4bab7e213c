// Writes a float32 `.tflite` model (the schema subset `TFLiteModel` reads; field indices as there) from
// a list of tensors and operators: what `facefx train` saves, so that a trained classifier loads in
// facefx's engines and in the TFLite interpreter alike. Operators: the ones a small CNN classifier
// needs and facefx runs (CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, FULLY_CONNECTED,
// RESHAPE, SOFTMAX, RELU, LOGISTIC). Named metadata entries (e.g. the label names) go in
// `Model.metadata`, which the interpreter keeps and ignores.
import Foundation

public struct TFLiteWriter {
    /// An operator and its options (schema.fbs `BuiltinOptions`).
    public enum Operator {
        case conv2D(strideH: Int, strideW: Int, padding: Padding, activation: FusedActivation)
        case depthwiseConv2D(strideH: Int, strideW: Int, padding: Padding, depthMultiplier: Int, activation: FusedActivation)
        case maxPool2D(filterH: Int, filterW: Int, strideH: Int, strideW: Int, padding: Padding)
        case averagePool2D(filterH: Int, filterW: Int, strideH: Int, strideW: Int, padding: Padding)
        case fullyConnected(activation: FusedActivation)
        case reshape(newShape: [Int])
        case softmax(beta: Float)
        case relu, logistic

        /// schema.fbs `BuiltinOperator` code.
        var code: Int32 {
            switch self {
            case .conv2D: return 3
            case .depthwiseConv2D: return 4
            case .maxPool2D: return 17
            case .averagePool2D: return 1
            case .fullyConnected: return 9
            case .reshape: return 22
            case .softmax: return 25
            case .relu: return 19
            case .logistic: return 14
            }
        }

        /// The `BuiltinOptions` union tag and table (field indices of schema.fbs, as `Graph` reads them).
        var options: (tag: UInt8, table: [Int: FBField])? {
            func pool(_ fh: Int, _ fw: Int, _ sh: Int, _ sw: Int, _ p: Padding) -> (UInt8, [Int: FBField]) {
                (5, [0: .i8(p.rawValue), 1: .i32(Int32(sw)), 2: .i32(Int32(sh)), 3: .i32(Int32(fw)), 4: .i32(Int32(fh)), 5: .i8(0)])
            }
            switch self {
            case let .conv2D(sh, sw, p, a):
                return (1, [0: .i8(p.rawValue), 1: .i32(Int32(sw)), 2: .i32(Int32(sh)), 3: .i8(a.rawValue),
                            4: .i32(1), 5: .i32(1)])
            case let .depthwiseConv2D(sh, sw, p, m, a):
                return (2, [0: .i8(p.rawValue), 1: .i32(Int32(sw)), 2: .i32(Int32(sh)), 3: .i32(Int32(m)),
                            4: .i8(a.rawValue), 5: .i32(1), 6: .i32(1)])
            case let .maxPool2D(fh, fw, sh, sw, p), let .averagePool2D(fh, fw, sh, sw, p):
                return pool(fh, fw, sh, sw, p)
            case let .fullyConnected(a):
                return (8, [0: .i8(a.rawValue)])
            case let .reshape(shape):
                return (17, [0: .offset(.int32s(shape))])
            case let .softmax(beta):
                return (9, [0: .f32(beta)])
            case .relu, .logistic:
                return nil
            }
        }
    }

    private struct TensorEntry { var name: String; var shape: [Int]; var type: TFLiteTensorType; var buffer: Int }
    private var tensors: [TensorEntry] = []
    /// Buffer 0 is the empty buffer every activation points to (the schema's convention).
    private var buffers: [[UInt8]] = [[]]
    private var operators: [(op: Operator, inputs: [Int], outputs: [Int])] = []

    public init() {}

    /// A float32 tensor: an activation (`data` nil) or a constant; returns its index.
    @discardableResult
    public mutating func addTensor(_ name: String, shape: [Int], data: [Float]? = nil) -> Int {
        var buffer = 0
        if let data {
            precondition(data.count == shape.reduce(1, *), "\(name): \(data.count) values for shape \(shape)")
            buffers.append(data.flatMap { FlatBufferWriter.le($0.bitPattern) })
            buffer = buffers.count - 1
        }
        tensors.append(TensorEntry(name: name, shape: shape, type: .float32, buffer: buffer))
        return tensors.count - 1
    }

    /// An int32 constant (RESHAPE's shape input); returns its index.
    @discardableResult
    public mutating func addInt32Tensor(_ name: String, values: [Int]) -> Int {
        buffers.append(values.flatMap { FlatBufferWriter.le(UInt32(bitPattern: Int32($0))) })
        tensors.append(TensorEntry(name: name, shape: [values.count], type: .int32, buffer: buffers.count - 1))
        return tensors.count - 1
    }

    public mutating func addOperator(_ op: Operator, inputs: [Int], outputs: [Int]) {
        operators.append((op, inputs, outputs))
    }

    /// The `.tflite` bytes: one subgraph with these inputs and outputs, `metadata` as named buffers.
    public func write(inputs: [Int], outputs: [Int], description: String = "facefx",
                      metadata: [(name: String, bytes: [UInt8])] = []) -> [UInt8] {
        var codes: [Int32] = []
        for o in operators where !codes.contains(o.op.code) { codes.append(o.op.code) }
        var allBuffers = buffers
        let metadataBuffers = metadata.map { entry -> Int in allBuffers.append(entry.bytes); return allBuffers.count - 1 }

        let tensorTables: [FBValue] = tensors.map { t in
            // Tensor: shape 0, type 1, buffer 2, name 3.
            .table([0: .offset(.int32s(t.shape)), 1: .i8(t.type.rawValue), 2: .u32(UInt32(t.buffer)), 3: .offset(.string(t.name))])
        }
        let operatorTables: [FBValue] = operators.map { o in
            // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
            var fields: [Int: FBField] = [0: .u32(UInt32(codes.firstIndex(of: o.op.code)!)),
                                          1: .offset(.int32s(o.inputs)), 2: .offset(.int32s(o.outputs))]
            if let options = o.op.options {
                fields[3] = .u8(options.tag)
                fields[4] = .offset(.table(options.table))
            }
            return .table(fields)
        }
        // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
        let subgraph = FBValue.table([0: .offset(.vector(tensorTables)), 1: .offset(.int32s(inputs)),
                                      2: .offset(.int32s(outputs)), 3: .offset(.vector(operatorTables)),
                                      4: .offset(.string("main"))])
        // OperatorCode: deprecated_builtin_code 0 (byte, capped at 127), version 2, builtin_code 3.
        let codeTables: [FBValue] = codes.map { .table([0: .i8(Int8(min($0, 127))), 2: .i32(1), 3: .i32($0)]) }
        // Buffer: data 0.
        let bufferTables: [FBValue] = allBuffers.map { $0.isEmpty ? .table([:]) : .table([0: .offset(.bytes($0))]) }
        // Metadata: name 0, buffer 1.
        let metadataTables: [FBValue] = zip(metadata, metadataBuffers).map { entry, buffer in
            .table([0: .offset(.string(entry.name)), 1: .u32(UInt32(buffer))])
        }
        // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata 6.
        var model: [Int: FBField] = [0: .u32(3), 1: .offset(.vector(codeTables)), 2: .offset(.vector([subgraph])),
                                     3: .offset(.string(description)), 4: .offset(.vector(bufferTables))]
        if !metadataTables.isEmpty { model[6] = .offset(.vector(metadataTables)) }
        return FlatBufferWriter.write(root: .table(model), identifier: "TFL3")
    }
}
