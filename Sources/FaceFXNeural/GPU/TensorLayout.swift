// How a tensor lies in a texture (one layout for every op, see Shaders/nn/common.glsl):
//   * the graph shape (rank <= 4) is left-padded with 1s to a 4-D view [N, H, W, C]
//     (rank 3 [1, 146, 2] -> [1, 1, 146, 2]; rank 1 [52] -> [1, 1, 1, 52]; scalar -> [1, 1, 1, 1]);
//   * channels are packed by 4 into RGBA texels (C4 = ceil(C / 4) texels per pixel, lanes past C are 0);
//   * pixel-major atlas: texel x = w * C4 + c / 4, so a pixel's channels are neighbours (a conv
//     fragment reads them in a row) ; texture width = W * C4;
//   * the batch of the engine ("replicas": several faces or frames) is stacked vertically:
//     y = (r * N + n) * H + h, height = R * N * H, so one draw runs the whole batch.
// Constants (weights aside) are stored once (R = 1) and shared by every replica.
// y grows with the texture's row index (GL's bottom row is h = 0): a crop shader writing a
// network input renders tensor row h at framebuffer row h, no flip.
import FaceFXGPU

/// Storage precision of activations and weights.
public enum TensorPrecision: String, CaseIterable, Sendable {
    /// RGBA16F (default): half the memory and bandwidth; shaders still compute in fp32.
    case fp16
    /// RGBA32F: for tests and for layers that need the range.
    case fp32

    public var textureFormat: TextureFormat { self == .fp16 ? .rgba16f : .rgba32f }
    /// Largest magnitude a pass writes (results are clamped to it, so fp16 storage never holds Inf).
    public var maxValue: Float { self == .fp16 ? 65504 : 1e20 }
    var bytesPerTexel: Int { self == .fp16 ? 8 : 16 }
}

public struct TensorLayout: Equatable, Sendable, CustomStringConvertible {
    /// The graph shape of one replica.
    public let shape: [Int]
    /// 4-D view [N, H, W, C] of `shape` (left-padded with 1s).
    public let n: Int, h: Int, w: Int, c: Int
    /// Batch replicas stacked vertically (1 for constants).
    public let replicas: Int

    public init(shape: [Int], replicas: Int) throws {
        guard shape.count <= 4 else {
            throw NeuralEngineError.unsupported("tensor of rank \(shape.count) (shape \(shape)); the GPU layout takes rank <= 4")
        }
        let s4 = [Int](repeating: 1, count: 4 - shape.count) + shape
        self.shape = shape
        (n, h, w, c) = (s4[0], s4[1], s4[2], s4[3])
        self.replicas = replicas
    }

    /// ceil(C / 4): texels per pixel.
    public var slices: Int { (c + 3) / 4 }
    public var width: Int { w * slices }
    public var height: Int { replicas * n * h }
    /// Elements of one replica.
    public var elementCount: Int { n * h * w * c }
    public var shape4: [Int] { [n, h, w, c] }
    /// (N, H, W, C) for shader uniforms.
    public var uniform: UniformValue { .ivec4(Int32(n), Int32(h), Int32(w), Int32(c)) }
    public var textureBytes: Int { width * height }

    public var description: String {
        "\(shape) -> [\(n),\(h),\(w),\(c)]x\(replicas) in \(width)x\(height) texels"
    }

    /// Texel index (x, y) and lane of element (r, n, h, w, c).
    @inline(__always)
    public func position(r: Int, n nn: Int, h hh: Int, w ww: Int, c cc: Int) -> (x: Int, y: Int, lane: Int) {
        (ww * slices + cc / 4, (r * n + nn) * h + hh, cc % 4)
    }

    /// Row-major values of all replicas (replica-major) -> RGBA texels, row y = 0 first.
    public func pack(_ values: [Float]) -> [Float] {
        precondition(values.count == replicas * elementCount, "pack: \(values.count) values for \(self)")
        var out = [Float](repeating: 0, count: width * height * 4)
        var i = 0
        for r in 0..<replicas { for nn in 0..<n { for hh in 0..<h { for ww in 0..<w {
            let rowBase = (((r * n + nn) * h + hh) * width + ww * slices) * 4
            for cc in 0..<c { out[rowBase + cc] = values[i]; i += 1 }
        }}}}
        return out
    }

    /// RGBA texels (row y = 0 first) -> row-major values of all replicas.
    public func unpack(_ texels: [Float]) -> [Float] {
        precondition(texels.count >= width * height * 4)
        var out = [Float](repeating: 0, count: replicas * elementCount)
        var i = 0
        for r in 0..<replicas { for nn in 0..<n { for hh in 0..<h { for ww in 0..<w {
            let rowBase = (((r * n + nn) * h + hh) * width + ww * slices) * 4
            for cc in 0..<c { out[i] = texels[rowBase + cc]; i += 1 }
        }}}}
        return out
    }

    /// Same texels for both shapes (a RESHAPE between them needs no pass).
    func sameTexels(as other: TensorLayout) -> Bool {
        c == other.c && w == other.w && n * h == other.n * other.h && replicas == other.replicas
    }
}

public enum NeuralEngineError: Error, CustomStringConvertible {
    /// An op (or an op variant) without a GPU kernel: compile-time error naming the op and model.
    case unsupportedOp(model: String, op: String, detail: String)
    case unsupported(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .unsupportedOp(model, op, detail):
            return "\(model): no GPU kernel for \(op)" + (detail.isEmpty ? "" : " (\(detail))")
        case let .unsupported(m): return m
        case let .invalidInput(m): return m
        }
    }
}
