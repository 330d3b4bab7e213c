// Compute operators of a loaded `Graph`, with their options already parsed into typed structs.
// Integer parameter tensors (PAD paddings, RESHAPE shape, TRANSPOSE perm, MEAN/SUM axes,
// STRIDED_SLICE begin/end/strides, RESIZE_BILINEAR size) are folded into the options at load,
// so `GraphOp.inputs` holds only float tensors: activations and float constants (weights).

/// Every operator facefx can run. A new op = a case here (switches force a kernel, a CPU
/// reference and shape inference), see DESIGN.md.
public enum OpKind: String, CaseIterable, Sendable {
    case conv2D = "CONV_2D"
    case depthwiseConv2D = "DEPTHWISE_CONV_2D"
    case fullyConnected = "FULLY_CONNECTED"
    case add = "ADD"
    case sub = "SUB"
    case mul = "MUL"
    case div = "DIV"
    case squaredDifference = "SQUARED_DIFFERENCE"
    case relu = "RELU"
    case relu6 = "RELU6"
    case prelu = "PRELU"
    case logistic = "LOGISTIC"
    case neg = "NEG"
    case sqrt = "SQRT"
    case rsqrt = "RSQRT"
    case pad = "PAD"
    case maxPool2D = "MAX_POOL_2D"
    case averagePool2D = "AVERAGE_POOL_2D"
    case mean = "MEAN"
    case sum = "SUM"
    case softmax = "SOFTMAX"
    case reshape = "RESHAPE"
    case transpose = "TRANSPOSE"
    case stridedSlice = "STRIDED_SLICE"
    case concatenation = "CONCATENATION"
    case resizeBilinear = "RESIZE_BILINEAR"
    case depthToSpace = "DEPTH_TO_SPACE"

    /// The TFLite builtin name, e.g. "CONV_2D".
    public var tfliteName: String { rawValue }
}

/// schema.fbs `ActivationFunctionType` (SIGN_BIT is rejected at load).
public enum FusedActivation: Int8, Sendable {
    case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4

    @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return max(x, 0)
        case .reluN1To1: return min(max(x, -1), 1)
        case .relu6: return min(max(x, 0), 6)
        case .tanh: return Foundation.tanh(x)
        }
    }
}

public enum Padding: Int8, Sendable { case same = 0, valid = 1 }

public struct Conv2DOptions: Sendable, Equatable {
    public var padding: Padding
    public var strideW: Int, strideH: Int
    public var dilationW: Int, dilationH: Int
    public var activation: FusedActivation
}

public struct DepthwiseConv2DOptions: Sendable, Equatable {
    public var padding: Padding
    public var strideW: Int, strideH: Int
    public var dilationW: Int, dilationH: Int
    /// Output channels per input channel; TFLite derives it from the filter shape (the file's
    /// `depth_multiplier` field is redundant), and so does facefx.
    public var depthMultiplier: Int
    public var activation: FusedActivation
}

public struct Pool2DOptions: Sendable, Equatable {
    public var padding: Padding
    public var strideW: Int, strideH: Int
    public var filterW: Int, filterH: Int
    public var activation: FusedActivation
}

public struct FullyConnectedOptions: Sendable, Equatable {
    public var activation: FusedActivation
    public var keepNumDims: Bool
}

public struct ConcatenationOptions: Sendable, Equatable {
    /// Non-negative axis.
    public var axis: Int
    public var activation: FusedActivation
}

public struct ReshapeOptions: Sendable, Equatable {
    /// Target shape for the graph's current batch, -1 already resolved.
    public var newShape: [Int]
}

public struct SoftmaxOptions: Sendable, Equatable {
    public var beta: Float
}

/// MEAN and SUM.
public struct ReduceOptions: Sendable, Equatable {
    /// Non-negative, sorted, unique axes.
    public var axes: [Int]
    public var keepDims: Bool
}

public struct StridedSliceOptions: Sendable, Equatable {
    public var begin: [Int], end: [Int], strides: [Int]
    public var beginMask: Int, endMask: Int, shrinkAxisMask: Int
    /// schema `offset`: `end` is relative to `begin`.
    public var offset: Bool

    /// Resolved per-axis (start, stop, stride) over an input of `shape`, TFLite's StartForAxis/StopForAxis.
    public func resolve(shape: [Int]) -> [(start: Int, stop: Int, stride: Int, size: Int)] {
        var out: [(Int, Int, Int, Int)] = []
        for axis in 0..<shape.count {
            let dim = shape[axis]
            let stride = axis < strides.count ? strides[axis] : 1
            let hasBegin = axis < begin.count
            var start: Int
            if !hasBegin || beginMask & (1 << axis) != 0 {
                start = stride > 0 ? 0 : dim - 1
            } else {
                start = begin[axis]
                if start < 0 { start += dim }
                start = stride > 0 ? min(max(start, 0), dim) : min(max(start, -1), dim - 1)
            }
            var stop: Int
            if hasBegin && shrinkAxisMask & (1 << axis) != 0 {
                stop = start + 1
            } else if axis >= end.count || endMask & (1 << axis) != 0 {
                stop = stride > 0 ? dim : -1
            } else {
                stop = end[axis]
                if offset { stop += hasBegin ? begin[axis] : 0 }
                if stop < 0 { stop += dim }
                stop = stride > 0 ? min(max(stop, 0), dim) : min(max(stop, -1), dim - 1)
            }
            let size = stride > 0 ? max(0, (stop - start + stride - 1) / stride)
                                  : max(0, (start - stop + (-stride) - 1) / (-stride))
            out.append((start, stop, stride, size))
        }
        return out
    }
}

public struct ResizeBilinearOptions: Sendable, Equatable {
    public var outHeight: Int, outWidth: Int
    public var alignCorners: Bool
    public var halfPixelCenters: Bool
}

public struct DepthToSpaceOptions: Sendable, Equatable {
    public var blockSize: Int
}

public struct PadOptions: Sendable, Equatable {
    /// Per axis: elements added before and after (zeros).
    public var before: [Int], after: [Int]
}

public struct TransposeOptions: Sendable, Equatable {
    /// output axis i = input axis perm[i].
    public var perm: [Int]
}

/// Typed options of one op; the case matches `GraphOp.kind`.
public enum OpOptions: Sendable, Equatable {
    case none
    case conv2D(Conv2DOptions)
    case depthwiseConv2D(DepthwiseConv2DOptions)
    case pool2D(Pool2DOptions)
    case fullyConnected(FullyConnectedOptions)
    /// ADD, SUB, MUL, DIV: the fused activation.
    case elementwise(FusedActivation)
    case concatenation(ConcatenationOptions)
    case reshape(ReshapeOptions)
    case softmax(SoftmaxOptions)
    case reduce(ReduceOptions)
    case stridedSlice(StridedSliceOptions)
    case resizeBilinear(ResizeBilinearOptions)
    case depthToSpace(DepthToSpaceOptions)
    case pad(PadOptions)
    case transpose(TransposeOptions)
}

/// One compute op. `inputs` are float tensors only:
/// CONV_2D / DEPTHWISE_CONV_2D: [input, filter, bias?]; FULLY_CONNECTED: [input, weights, bias?];
/// PRELU: [input, alpha]; binary ops: [a, b]; CONCATENATION: [x0, x1, ...]; all others: [input].
public struct GraphOp: Sendable {
    public let kind: OpKind
    public internal(set) var options: OpOptions
    public let inputs: [Int]
    public let outputs: [Int]
    /// Index of the operator in the .tflite subgraph (for messages and debugging).
    public let sourceIndex: Int
}

import Foundation
