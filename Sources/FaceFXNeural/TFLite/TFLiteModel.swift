// The subset of the TFLite schema (tensorflow/lite/schema/schema.fbs) that facefx reads.
// Field indices below are the declaration order of each table in schema.fbs; a union
// occupies two slots (its `_type` byte, then the table offset).
import Foundation

public enum TFLiteError: Error, CustomStringConvertible {
    case flatBuffer(model: String, FlatBufferError)
    case invalid(model: String, String)
    case unsupportedOperator(model: String, op: String)
    case unsupportedType(model: String, tensor: String, type: String)

    public var description: String {
        switch self {
        case let .flatBuffer(model, e): return "\(model): \(e)"
        case let .invalid(model, m): return "\(model): \(m)"
        case let .unsupportedOperator(model, op): return "\(model): unsupported operator \(op)"
        case let .unsupportedType(model, tensor, type): return "\(model): tensor \"\(tensor)\" has unsupported type \(type)"
        }
    }
}

/// schema.fbs `TensorType`.
public enum TFLiteTensorType: Int8, Sendable, CustomStringConvertible {
    case float32 = 0, float16 = 1, int32 = 2, uint8 = 3, int64 = 4, string = 5, bool = 6, int16 = 7,
         complex64 = 8, int8 = 9, float64 = 10, complex128 = 11, uint64 = 12, resource = 13,
         variant = 14, uint32 = 15, uint16 = 16, int4 = 17

    /// Bytes per element for the types facefx can decode; nil otherwise.
    public var byteSize: Int? {
        switch self {
        case .float32, .int32, .uint32: return 4
        case .float16, .int16, .uint16: return 2
        case .uint8, .int8, .bool: return 1
        case .int64, .uint64, .float64: return 8
        default: return nil
        }
    }
    public var description: String {
        let names = ["FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
                     "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4"]
        return names[Int(rawValue)]
    }
}

/// schema.fbs `BuiltinOperator` codes that facefx knows by name (the rest print as a number).
public enum TFLiteBuiltin {
    static let names: [Int32: String] = [
        0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
        5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 7: "EMBEDDING_LOOKUP", 8: "FLOOR", 9: "FULLY_CONNECTED",
        10: "HASHTABLE_LOOKUP", 11: "L2_NORMALIZATION", 12: "L2_POOL_2D", 13: "LOCAL_RESPONSE_NORMALIZATION",
        14: "LOGISTIC", 15: "LSH_PROJECTION", 16: "LSTM", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU",
        20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 24: "RNN", 25: "SOFTMAX",
        26: "SPACE_TO_DEPTH", 27: "SVDF", 28: "TANH", 29: "CONCAT_EMBEDDINGS", 30: "SKIP_GRAM", 31: "CALL",
        32: "CUSTOM", 33: "EMBEDDING_LOOKUP_SPARSE", 34: "PAD", 35: "UNIDIRECTIONAL_SEQUENCE_RNN",
        36: "GATHER", 37: "BATCH_TO_SPACE_ND", 38: "SPACE_TO_BATCH_ND", 39: "TRANSPOSE", 40: "MEAN",
        41: "SUB", 42: "DIV", 43: "SQUEEZE", 44: "UNIDIRECTIONAL_SEQUENCE_LSTM", 45: "STRIDED_SLICE",
        46: "BIDIRECTIONAL_SEQUENCE_RNN", 47: "EXP", 48: "TOPK_V2", 49: "SPLIT", 50: "LOG_SOFTMAX",
        51: "DELEGATE", 52: "BIDIRECTIONAL_SEQUENCE_LSTM", 53: "CAST", 54: "PRELU", 55: "MAXIMUM",
        56: "ARG_MAX", 57: "MINIMUM", 58: "LESS", 59: "NEG", 60: "PADV2", 61: "GREATER", 62: "GREATER_EQUAL",
        63: "LESS_EQUAL", 64: "SELECT", 65: "SLICE", 66: "SIN", 67: "TRANSPOSE_CONV", 68: "SPARSE_TO_DENSE",
        69: "TILE", 70: "EXPAND_DIMS", 71: "EQUAL", 72: "NOT_EQUAL", 73: "LOG", 74: "SUM", 75: "SQRT",
        76: "RSQRT", 77: "SHAPE", 78: "POW", 79: "ARG_MIN", 80: "FAKE_QUANT", 81: "REDUCE_PROD",
        82: "REDUCE_MAX", 83: "PACK", 84: "LOGICAL_OR", 85: "ONE_HOT", 86: "LOGICAL_AND", 87: "LOGICAL_NOT",
        88: "UNPACK", 89: "REDUCE_MIN", 90: "FLOOR_DIV", 91: "REDUCE_ANY", 92: "SQUARE", 93: "ZEROS_LIKE",
        94: "FILL", 95: "FLOOR_MOD", 96: "RANGE", 97: "RESIZE_NEAREST_NEIGHBOR", 98: "LEAKY_RELU",
        99: "SQUARED_DIFFERENCE", 100: "MIRROR_PAD", 101: "ABS", 102: "SPLIT_V", 103: "UNIQUE", 104: "CEIL",
        105: "REVERSE_V2", 106: "ADD_N", 107: "GATHER_ND", 108: "COS", 109: "WHERE", 110: "RANK", 111: "ELU",
        112: "REVERSE_SEQUENCE", 113: "MATRIX_DIAG", 114: "QUANTIZE", 115: "MATRIX_SET_DIAG", 116: "ROUND",
        117: "HARD_SWISH", 118: "IF", 119: "WHILE", 120: "NON_MAX_SUPPRESSION_V4",
        121: "NON_MAX_SUPPRESSION_V5", 122: "SCATTER_ND", 123: "SELECT_V2", 124: "DENSIFY",
        125: "SEGMENT_SUM", 126: "BATCH_MATMUL", 128: "CUMSUM", 129: "CALL_ONCE", 130: "BROADCAST_TO",
        131: "RFFT2D", 132: "CONV_3D", 140: "REDUCE_ALL", 150: "GELU",
    ]
    public static func name(_ code: Int32) -> String { names[code] ?? "BUILTIN_\(code)" }
}

public struct TFLiteOperatorCode {
    /// max(deprecated_builtin_code, builtin_code): old files only set the first, new ones both.
    public var builtinCode: Int32
    public var customCode: String?
    public var version: Int32
    /// "CONV_2D", or the custom op's name.
    public var name: String { builtinCode == 32 ? (customCode ?? "CUSTOM") : TFLiteBuiltin.name(builtinCode) }
}

public struct TFLiteQuantization {
    public var scale: [Float]
    public var zeroPoint: [Int64]
    public var quantizedDimension: Int
}

/// schema.fbs `SparseIndexVector` union payload, widened to Int.
public struct TFLiteDimensionMetadata {
    public var isSparse: Bool
    public var denseSize: Int
    public var arraySegments: [Int]
    public var arrayIndices: [Int]
}

public struct TFLiteSparsity {
    public var traversalOrder: [Int]
    public var blockMap: [Int]
    public var dimMetadata: [TFLiteDimensionMetadata]
}

public struct TFLiteTensor {
    public var name: String
    public var shape: [Int]
    public var type: TFLiteTensorType
    public var buffer: Int
    public var quantization: TFLiteQuantization?
    public var isVariable: Bool
    public var sparsity: TFLiteSparsity?
}

public struct TFLiteOperator {
    public var opcodeIndex: Int
    public var inputs: [Int]
    public var outputs: [Int]
    /// schema.fbs `BuiltinOptions` union type tag (0 = none) and its table.
    public var optionsType: UInt8
    public var options: FBTable?
}

public struct TFLiteSubGraph {
    public var name: String
    public var tensors: [TFLiteTensor]
    public var inputs: [Int]
    public var outputs: [Int]
    public var operators: [TFLiteOperator]
}

/// A parsed `.tflite` file. Buffers stay in `bytes`; `bufferRanges[i]` locates buffer i.
public struct TFLiteModel {
    public let name: String
    public let bytes: FlatBuffer
    public var version: UInt32
    public var description: String?
    public var operatorCodes: [TFLiteOperatorCode]
    public var subgraphs: [TFLiteSubGraph]
    public var bufferRanges: [Range<Int>]
    /// `Model.metadata`: named buffers (e.g. the label names `facefx train` writes), name → buffer index.
    public var metadata: [String: Int]

    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        try self.init(bytes: [UInt8](data), name: url.lastPathComponent)
    }

    public init(bytes raw: [UInt8], name: String) throws {
        self.name = name
        let fb = FlatBuffer(bytes: raw)
        bytes = fb
        do {
            let root = try fb.root(fileIdentifier: raw.count >= 8 ? "TFL3" : nil)
            // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
            version = try root.u32(0)
            description = try root.string(3)
            operatorCodes = try root.tables(1).map { t in
                // OperatorCode: deprecated_builtin_code 0 (byte), custom_code 1, version 2, builtin_code 3 (int).
                let deprecated = Int32(try t.i8(0))
                let code = try t.i32(3)
                return TFLiteOperatorCode(builtinCode: max(deprecated, code), customCode: try t.string(1),
                                          version: try t.i32(2, 1))
            }
            bufferRanges = try root.tables(4).map { b in
                // Buffer: data 0, offset 1, size 2 (offset/size: data stored after the flatbuffer, >2 GB models).
                if let v = try b.vector(0, elementSize: 1) { return v.byteRange }
                let off = try b.u64(1), size = try b.u64(2)
                if off > 1 {
                    guard off <= UInt64(raw.count), size <= UInt64(raw.count) - off else {
                        throw FlatBufferError.outOfBounds(what: "external buffer", offset: Int(clamping: off),
                                                          size: Int(clamping: size), length: raw.count)
                    }
                    return Int(off)..<Int(off + size)
                }
                return 0..<0
            }
            subgraphs = try root.tables(2).map(Self.parseSubGraph)
            // Model field 6, Metadata: name 0, buffer 1.
            metadata = [:]
            for m in try root.tables(6) {
                if let name = try m.string(0) { metadata[name] = Int(try m.u32(1)) }
            }
        } catch let e as FlatBufferError {
            throw TFLiteError.flatBuffer(model: name, e)
        }
        if subgraphs.isEmpty { throw TFLiteError.invalid(model: name, "no subgraph") }
    }

    static func parseSubGraph(_ t: FBTable) throws -> TFLiteSubGraph {
        // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
        let tensors = try t.tables(0).map(parseTensor)
        let ops = try t.tables(3).map { o -> TFLiteOperator in
            // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
            TFLiteOperator(opcodeIndex: Int(try o.u32(0)),
                           inputs: (try o.int32s(1) ?? []).map(Int.init),
                           outputs: (try o.int32s(2) ?? []).map(Int.init),
                           optionsType: try o.u8(3), options: try o.table(4))
        }
        return TFLiteSubGraph(name: try t.string(4) ?? "", tensors: tensors,
                              inputs: (try t.int32s(1) ?? []).map(Int.init),
                              outputs: (try t.int32s(2) ?? []).map(Int.init), operators: ops)
    }

    static func parseTensor(_ t: FBTable) throws -> TFLiteTensor {
        // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, sparsity 6.
        let rawType = try t.i8(1)
        guard let type = TFLiteTensorType(rawValue: rawType) else {
            throw FlatBufferError.malformed("tensor type \(rawType) is not in the schema")
        }
        var quant: TFLiteQuantization?
        if let q = try t.table(4) {
            // QuantizationParameters: min 0, max 1, scale 2, zero_point 3, details_type 4, details 5, quantized_dimension 6.
            let scale = try q.float32s(2) ?? []
            if !scale.isEmpty {
                quant = TFLiteQuantization(scale: scale, zeroPoint: try q.int64s(3) ?? [],
                                           quantizedDimension: Int(try q.i32(6)))
            }
        }
        var sparsity: TFLiteSparsity?
        if let s = try t.table(6) {
            // SparsityParameters: traversal_order 0, block_map 1, dim_metadata 2.
            let dims = try s.tables(2).map { d -> TFLiteDimensionMetadata in
                // DimensionMetadata: format 0, dense_size 1, array_segments (type 2, value 3), array_indices (type 4, value 5).
                TFLiteDimensionMetadata(isSparse: try d.u8(0) == 1, denseSize: Int(try d.i32(1)),
                                        arraySegments: try indexVector(d, typeField: 2),
                                        arrayIndices: try indexVector(d, typeField: 4))
            }
            sparsity = TFLiteSparsity(traversalOrder: (try s.int32s(0) ?? []).map(Int.init),
                                      blockMap: (try s.int32s(1) ?? []).map(Int.init), dimMetadata: dims)
        }
        return TFLiteTensor(name: try t.string(3) ?? "", shape: (try t.int32s(0) ?? []).map(Int.init), type: type,
                            buffer: Int(try t.u32(2)), quantization: quant, isVariable: try t.bool(5),
                            sparsity: sparsity)
    }

    /// SparseIndexVector union: 1 Int32Vector, 2 Uint16Vector, 3 Uint8Vector; each table's field 0 is `values`.
    static func indexVector(_ d: FBTable, typeField: Int) throws -> [Int] {
        let kind = try d.u8(typeField)
        guard kind != 0 else { return [] }
        guard let table = try d.table(typeField + 1) else {
            throw FlatBufferError.malformed("sparse index vector of type \(kind) has no table")
        }
        switch kind {
        case 1: return (try table.int32s(0) ?? []).map(Int.init)
        case 2: return (try table.uint16s(0) ?? []).map(Int.init)
        case 3: return (try table.uint8s(0) ?? []).map(Int.init)
        default: throw FlatBufferError.malformed("unknown sparse index vector type \(kind)")
        }
    }

    /// Raw bytes of buffer `index` (empty for buffer 0 / activations).
    public func bufferBytes(_ index: Int) -> ArraySlice<UInt8>? {
        guard index >= 0, index < bufferRanges.count else { return nil }
        return bytes.bytes[bufferRanges[index]]
    }
}
