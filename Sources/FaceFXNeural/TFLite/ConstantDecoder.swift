// Decodes constant buffers: float32/float16 widened to Float, int8/uint8/int16 dequantized
// (per tensor or per axis), sparse tensors densified (TACO-style format of schema.fbs
// `SparsityParameters`), int32/int64 parameter tensors to Int.
import Foundation

enum ConstantDecoder {
    /// IEEE half → float, by bits (Float16 is not available on every platform Swift targets).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0 {
            let v = Float(mantissa) * (1.0 / 16_777_216.0)  // 2^-24
            return sign != 0 ? -v : v
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }

    /// Raw stored values as Float (no dequantization), `n` elements of `type`.
    static func rawValues(_ type: TFLiteTensorType, _ b: ArraySlice<UInt8>, model: String, tensor: String) throws -> [Float] {
        guard let size = type.byteSize else {
            throw TFLiteError.unsupportedType(model: model, tensor: tensor, type: type.description)
        }
        guard b.count % size == 0 else {
            throw TFLiteError.invalid(model: model, "tensor \"\(tensor)\": buffer of \(b.count) bytes is not a whole number of \(type)")
        }
        let n = b.count / size
        var out = [Float](repeating: 0, count: n)
        b.withUnsafeBytes { raw in
            switch type {
            case .float32:
                for i in 0..<n { out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
            case .float16:
                for i in 0..<n { out[i] = halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case .int8:
                for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[i])) }
            case .uint8, .bool:
                for i in 0..<n { out[i] = Float(raw[i]) }
            case .int16:
                for i in 0..<n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .uint16:
                for i in 0..<n { out[i] = Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .int32:
                for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .int64:
                for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            default:
                break
            }
        }
        return out
    }

    static func decodeInts(_ t: TFLiteTensor, _ b: ArraySlice<UInt8>, count: Int, model: String) throws -> [Int] {
        guard t.sparsity == nil else { throw TFLiteError.invalid(model: model, "sparse integer tensor \"\(t.name)\" is not supported") }
        guard let size = t.type.byteSize, b.count == count * size else {
            throw TFLiteError.invalid(model: model, "tensor \"\(t.name)\": \(b.count) bytes for \(count) \(t.type) values")
        }
        var out = [Int](repeating: 0, count: count)
        b.withUnsafeBytes { raw in
            for i in 0..<count {
                switch t.type {
                case .int64: out[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                case .int32: out[i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .int16: out[i] = Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case .int8: out[i] = Int(Int8(bitPattern: raw[i]))
                default: out[i] = Int(raw[i])
                }
            }
        }
        return out
    }

    /// Float values of a constant: densified, then dequantized when it carries quantization.
    static func decodeFloats(_ t: TFLiteTensor, _ b: ArraySlice<UInt8>, count: Int, model: String) throws -> [Float] {
        var values = try rawValues(t.type, b, model: model, tensor: t.name)
        if let s = t.sparsity {
            values = try densify(values, shape: t.shape, sparsity: s, model: model, tensor: t.name)
        }
        guard values.count == count else {
            throw TFLiteError.invalid(model: model, "tensor \"\(t.name)\": \(values.count) values for shape \(t.shape)")
        }
        guard let q = t.quantization, !q.scale.isEmpty, t.type != .float32, t.type != .float16 else { return values }
        let zp = q.zeroPoint
        if q.scale.count == 1 {
            let s = q.scale[0], z = Float(zp.first ?? 0)
            for i in 0..<values.count { values[i] = (values[i] - z) * s }
            return values
        }
        // Per-axis: scale[c] applies to every element whose index along quantized_dimension is c.
        let axis = q.quantizedDimension
        guard axis >= 0, axis < t.shape.count, t.shape[axis] == q.scale.count, zp.isEmpty || zp.count == q.scale.count else {
            throw TFLiteError.invalid(model: model, "tensor \"\(t.name)\": \(q.scale.count) scales do not match axis \(axis) of \(t.shape)")
        }
        let inner = t.shape[(axis + 1)...].reduce(1, *)
        let dim = t.shape[axis]
        for i in 0..<values.count {
            let c = (i / inner) % dim
            values[i] = (values[i] - Float(zp.isEmpty ? 0 : zp[c])) * q.scale[c]
        }
        return values
    }

    /// Expands a sparse tensor. Level l of the traversal walks dimension traversal_order[l];
    /// dense levels enumerate `dense_size` positions, sparse (CSR) levels the indices between
    /// array_segments[parent] and array_segments[parent+1]. After the last level, the running
    /// position is the index into the stored values.
    static func densify(_ values: [Float], shape: [Int], sparsity s: TFLiteSparsity, model: String, tensor: String) throws -> [Float] {
        func bad(_ m: String) -> TFLiteError { .invalid(model: model, "sparse tensor \"\(tensor)\": \(m)") }
        let n = shape.count
        let levels = s.traversalOrder.count
        let k = s.blockMap.count
        guard k <= n, Set(s.blockMap).count == k, levels == n + k, s.dimMetadata.count == levels, Set(s.traversalOrder) == Set(0..<levels) else {
            throw bad("traversal order \(s.traversalOrder) does not match rank \(n) with \(k) block dims")
        }
        for b in s.blockMap where b < 0 || b >= n { throw bad("block map \(s.blockMap) out of range") }
        // Size of each expanded dimension (original dims divided by block size, then block dims).
        var levelOfDim = [Int](repeating: 0, count: levels)
        for (l, d) in s.traversalOrder.enumerated() { levelOfDim[d] = l }
        var blockSize = [Int](repeating: 1, count: n)
        var blockDimOf = [Int](repeating: -1, count: n)
        for (b, d) in s.blockMap.enumerated() {
            let size = s.dimMetadata[levelOfDim[n + b]].denseSize
            guard size >= 1, shape[d] % size == 0 else { throw bad("block size \(size) does not divide dim \(shape[d])") }
            blockSize[d] = size
            blockDimOf[d] = n + b
        }
        var expanded = [Int](repeating: 0, count: levels)
        for d in 0..<n { expanded[d] = shape[d] / blockSize[d] }
        for b in 0..<k { expanded[n + b] = blockSize[s.blockMap[b]] }
        for l in 0..<levels where !s.dimMetadata[l].isSparse {
            guard s.dimMetadata[l].denseSize == expanded[s.traversalOrder[l]] else {
                throw bad("dense size \(s.dimMetadata[l].denseSize) at level \(l) does not match \(expanded[s.traversalOrder[l]])")
            }
        }
        let total = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: total)
        let strides = Tensor.strides(shape)
        var coord = [Int](repeating: 0, count: levels)  // index chosen for each expanded dimension
        var steps = 0

        func visit(_ level: Int, _ parent: Int) throws {
            if level == levels {
                guard parent >= 0, parent < values.count else { throw bad("value index \(parent) out of range") }
                var flat = 0
                for d in 0..<n {
                    var c = coord[d] * blockSize[d]
                    if blockDimOf[d] >= 0 { c += coord[blockDimOf[d]] }
                    flat += c * strides[d]
                }
                out[flat] = values[parent]
                return
            }
            steps += 1
            if steps > 4 * total + 1024 { throw bad("index structure is larger than the tensor") }
            let m = s.dimMetadata[level]
            let dim = s.traversalOrder[level]
            if !m.isSparse {
                for i in 0..<m.denseSize {
                    coord[dim] = i
                    try visit(level + 1, parent * m.denseSize + i)
                }
            } else {
                guard parent >= 0, parent + 1 < m.arraySegments.count else { throw bad("segment \(parent) out of range") }
                let lo = m.arraySegments[parent], hi = m.arraySegments[parent + 1]
                guard lo >= 0, lo <= hi, hi <= m.arrayIndices.count else { throw bad("segments [\(lo), \(hi)) out of range") }
                for j in lo..<hi {
                    let idx = m.arrayIndices[j]
                    guard idx >= 0, idx < expanded[dim] else { throw bad("index \(idx) out of range for dimension \(dim)") }
                    coord[dim] = idx
                    try visit(level + 1, j)
                }
            }
        }
        try visit(0, 0)
        return out
    }
}
