// A minimal FlatBuffers writer, the counterpart of FlatBuffer.swift, written from the same binary
// format description. It writes front to back: a table, then the objects its offset fields point to
// after it (uoffsets are unsigned and point forward), each vtable right before its table. Enough for the
// TFLite schema subset facefx writes (`TFLiteWriter`): tables of scalars and offsets, vectors of tables
// or strings, strings, scalar vectors with the alignment their element type needs.
import Foundation

/// A FlatBuffers value to write.
public indirect enum FBValue {
    /// A table: field index (declaration order in the schema) → field.
    case table([Int: FBField])
    /// A vector of tables or strings.
    case vector([FBValue])
    case string(String)
    /// A vector of scalars: little-endian bytes of `count` elements of `elementSize` bytes, the data
    /// aligned to `alignment` (TFLite buffers: 16).
    case scalars(bytes: [UInt8], elementSize: Int, alignment: Int)
}

/// One field of a table.
public enum FBField {
    case u8(UInt8), i8(Int8), i32(Int32), u32(UInt32), f32(Float), u64(UInt64)
    case offset(FBValue)

    var size: Int {
        switch self {
        case .u8, .i8: return 1
        case .i32, .u32, .f32, .offset: return 4
        case .u64: return 8
        }
    }
}

public extension FBValue {
    static func int32s(_ v: [Int]) -> FBValue {
        .scalars(bytes: v.flatMap { FlatBufferWriter.le(UInt32(bitPattern: Int32($0))) }, elementSize: 4, alignment: 4)
    }
    static func float32s(_ v: [Float]) -> FBValue {
        .scalars(bytes: v.flatMap { FlatBufferWriter.le($0.bitPattern) }, elementSize: 4, alignment: 16)
    }
    static func bytes(_ v: [UInt8], alignment: Int = 16) -> FBValue { .scalars(bytes: v, elementSize: 1, alignment: alignment) }
}

public enum FlatBufferWriter {
    /// The buffer with `root` as its root table and `identifier` (4 characters) after the root offset.
    public static func write(root: FBValue, identifier: String) -> [UInt8] {
        precondition(identifier.utf8.count == 4, "a file identifier has 4 bytes")
        var out = [UInt8](repeating: 0, count: 8)
        out.replaceSubrange(4..<8, with: Array(identifier.utf8))
        let rootAt = place(root, into: &out)
        patch(&out, at: 0, UInt32(rootAt))
        return out
    }

    static func le(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)] }
    static func le(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le(_ v: UInt64) -> [UInt8] { le(UInt32(v & 0xffff_ffff)) + le(UInt32(v >> 32)) }

    private static func pad(_ out: inout [UInt8], to alignment: Int, after extra: Int = 0) {
        while (out.count + extra) % alignment != 0 { out.append(0) }
    }

    private static func patch(_ out: inout [UInt8], at position: Int, _ v: UInt32) {
        out.replaceSubrange(position..<position + 4, with: le(v))
    }

    /// Writes `value` at the end of `out` (then everything it points to) and returns where it starts:
    /// the table itself (after its vtable), or a vector's or string's length word.
    private static func place(_ value: FBValue, into out: inout [UInt8]) -> Int {
        switch value {
        case .string(let s):
            pad(&out, to: 4)
            let at = out.count
            let utf8 = Array(s.utf8)
            out += le(UInt32(utf8.count)) + utf8 + [0]
            return at
        case .scalars(let bytes, let elementSize, let alignment):
            pad(&out, to: max(4, alignment), after: 4)  // the data, after the length, is aligned
            let at = out.count
            out += le(UInt32(bytes.count / elementSize)) + bytes
            return at
        case .vector(let items):
            pad(&out, to: 4)
            let at = out.count
            out += le(UInt32(items.count)) + [UInt8](repeating: 0, count: 4 * items.count)
            for (k, item) in items.enumerated() {
                let slot = at + 4 + 4 * k
                let target = place(item, into: &out)
                patch(&out, at: slot, UInt32(target - slot))
            }
            return at
        case .table(let fields):
            // Inline layout: the soffset to the vtable, then the fields, largest first (no padding
            // between them), each at a multiple of its size from the 8-aligned table start.
            let order = fields.keys.sorted { (fields[$0]!.size, $1) > (fields[$1]!.size, $0) }
            var offsets: [Int: Int] = [:]
            var size = 4
            for k in order {
                let s = fields[k]!.size
                size = (size + s - 1) / s * s
                offsets[k] = size
                size += s
            }
            let slots = (fields.keys.max() ?? -1) + 1
            let vtable = [UInt16(4 + 2 * slots), UInt16(size)] + (0..<slots).map { UInt16(offsets[$0] ?? 0) }
            pad(&out, to: 2)
            // vtable, then padding so that the table starts 8-aligned
            var vt: [UInt8] = vtable.flatMap { le($0) }
            while (out.count + vt.count) % 8 != 0 { vt.append(0) }
            let vtableAt = out.count
            out += vt
            let at = out.count
            out += [UInt8](repeating: 0, count: size)
            patch(&out, at: at, UInt32(bitPattern: Int32(at - vtableAt)))
            for (k, field) in fields {
                let p = at + offsets[k]!
                switch field {
                case .u8(let v): out[p] = v
                case .i8(let v): out[p] = UInt8(bitPattern: v)
                case .i32(let v): patch(&out, at: p, UInt32(bitPattern: v))
                case .u32(let v): patch(&out, at: p, v)
                case .f32(let v): patch(&out, at: p, v.bitPattern)
                case .u64(let v): out.replaceSubrange(p..<p + 8, with: le(v))
                case .offset: break
                }
            }
            for k in fields.keys.sorted() {
                guard case .offset(let child) = fields[k]! else { continue }
                let p = at + offsets[k]!
                let target = place(child, into: &out)
                patch(&out, at: p, UInt32(target - p))
            }
            return at
        }
    }
}
