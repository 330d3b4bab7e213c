// A minimal, read-only FlatBuffers reader. Every read is bounds-checked, so a truncated or
// corrupted file throws `FlatBufferError` instead of trapping. Written from the FlatBuffers
// binary format description (little-endian; tables point to vtables by a signed offset;
// vectors are a u32 length followed by elements; strings are byte vectors + NUL).
import Foundation

public enum FlatBufferError: Error, CustomStringConvertible, Equatable {
    /// A read of `size` bytes at `offset` fell outside the `length`-byte buffer.
    case outOfBounds(what: String, offset: Int, size: Int, length: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case let .outOfBounds(what, offset, size, length):
            return "flatbuffer: \(what) at byte \(offset) (+\(size)) lies outside the \(length)-byte buffer"
        case let .malformed(message):
            return "flatbuffer: \(message)"
        }
    }
}

/// The raw bytes of one FlatBuffer plus checked little-endian loads.
public struct FlatBuffer: Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var count: Int { bytes.count }

    @inline(__always)
    func check(_ offset: Int, _ size: Int, _ what: @autoclosure () -> String) throws {
        if offset < 0 || size < 0 || offset > bytes.count - size {
            throw FlatBufferError.outOfBounds(what: what(), offset: offset, size: size, length: bytes.count)
        }
    }

    func u8(_ o: Int, _ what: @autoclosure () -> String = "byte") throws -> UInt8 {
        try check(o, 1, what()); return bytes[o]
    }
    func u16(_ o: Int, _ what: @autoclosure () -> String = "u16") throws -> UInt16 {
        try check(o, 2, what()); return UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8
    }
    func u32(_ o: Int, _ what: @autoclosure () -> String = "u32") throws -> UInt32 {
        try check(o, 4, what())
        return UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
    }
    func u64(_ o: Int, _ what: @autoclosure () -> String = "u64") throws -> UInt64 {
        try check(o, 8, what())
        return UInt64(try u32(o)) | UInt64(try u32(o + 4)) << 32
    }

    /// The root table: a u32 offset at byte 0.
    public func root(fileIdentifier: String? = nil) throws -> FBTable {
        if let id = fileIdentifier {
            try check(4, 4, "file identifier")
            let found = String(decoding: bytes[4..<8], as: UTF8.self)
            if found != id { throw FlatBufferError.malformed("file identifier is \"\(found)\", expected \"\(id)\"") }
        }
        let rootOffset = Int(try u32(0, "root offset"))
        return try table(at: rootOffset, "root table")
    }

    /// Validates the table header and its vtable.
    func table(at pos: Int, _ what: @autoclosure () -> String) throws -> FBTable {
        try check(pos, 4, what())
        let soffset = Int(Int32(bitPattern: try u32(pos)))
        let vt = pos - soffset
        try check(vt, 4, "vtable of \(what())")
        let vtSize = Int(try u16(vt))
        let inlineSize = Int(try u16(vt + 2))
        if vtSize < 4 || vtSize % 2 != 0 {
            throw FlatBufferError.malformed("vtable of \(what()) at \(vt) has invalid size \(vtSize)")
        }
        try check(vt, vtSize, "vtable of \(what())")
        if inlineSize < 4 { throw FlatBufferError.malformed("table \(what()) at \(pos) has inline size \(inlineSize)") }
        try check(pos, inlineSize, what())
        return FBTable(fb: self, pos: pos, vtable: vt, vtableSize: vtSize, inlineSize: inlineSize)
    }
}

/// A typed view of a vector: `start` is the first element, `count` elements of `elementSize` bytes.
public struct FBVector {
    let fb: FlatBuffer
    public let start: Int
    public let count: Int
    let elementSize: Int

    func offset(_ i: Int) -> Int { start + i * elementSize }

    /// The raw element bytes, bounds already checked at creation.
    public var byteRange: Range<Int> { start..<(start + count * elementSize) }
}

public struct FBTable {
    let fb: FlatBuffer
    public let pos: Int
    let vtable: Int
    let vtableSize: Int
    let inlineSize: Int

    /// Absolute byte position of field `index` (0-based, schema order), nil when absent.
    func fieldPos(_ index: Int, size: Int) throws -> Int? {
        let slot = 4 + 2 * index
        if slot + 2 > vtableSize { return nil }
        let rel = Int(try fb.u16(vtable + slot))
        if rel == 0 { return nil }
        if rel + size > inlineSize {
            throw FlatBufferError.malformed("field \(index) of table at \(pos) lies outside the table (offset \(rel), size \(inlineSize))")
        }
        return pos + rel
    }

    public func has(_ index: Int) throws -> Bool { try fieldPos(index, size: 1) != nil }

    // MARK: scalars (default when absent)
    public func bool(_ i: Int, _ d: Bool = false) throws -> Bool {
        guard let p = try fieldPos(i, size: 1) else { return d }
        return try fb.u8(p) != 0
    }
    public func u8(_ i: Int, _ d: UInt8 = 0) throws -> UInt8 {
        guard let p = try fieldPos(i, size: 1) else { return d }
        return try fb.u8(p)
    }
    public func i8(_ i: Int, _ d: Int8 = 0) throws -> Int8 { Int8(bitPattern: try u8(i, UInt8(bitPattern: d))) }
    public func u32(_ i: Int, _ d: UInt32 = 0) throws -> UInt32 {
        guard let p = try fieldPos(i, size: 4) else { return d }
        return try fb.u32(p)
    }
    public func i32(_ i: Int, _ d: Int32 = 0) throws -> Int32 { Int32(bitPattern: try u32(i, UInt32(bitPattern: d))) }
    public func u64(_ i: Int, _ d: UInt64 = 0) throws -> UInt64 {
        guard let p = try fieldPos(i, size: 8) else { return d }
        return try fb.u64(p)
    }
    public func f32(_ i: Int, _ d: Float = 0) throws -> Float { Float(bitPattern: try u32(i, d.bitPattern)) }

    // MARK: references
    /// Follows the u32 offset stored in field `i`.
    func indirect(_ i: Int) throws -> Int? {
        guard let p = try fieldPos(i, size: 4) else { return nil }
        let target = p + Int(try fb.u32(p))
        try fb.check(target, 4, "target of field \(i) of table at \(pos)")
        return target
    }

    public func table(_ i: Int) throws -> FBTable? {
        guard let t = try indirect(i) else { return nil }
        return try fb.table(at: t, "sub-table \(i) of table at \(pos)")
    }

    public func vector(_ i: Int, elementSize: Int) throws -> FBVector? {
        guard let v = try indirect(i) else { return nil }
        let n = Int(try fb.u32(v))
        try fb.check(v + 4, n * elementSize, "vector (field \(i), \(n) elements of \(elementSize) bytes)")
        return FBVector(fb: fb, start: v + 4, count: n, elementSize: elementSize)
    }

    public func string(_ i: Int) throws -> String? {
        guard let v = try vector(i, elementSize: 1) else { return nil }
        return String(decoding: fb.bytes[v.byteRange], as: UTF8.self)
    }

    public func tables(_ i: Int) throws -> [FBTable] {
        guard let v = try vector(i, elementSize: 4) else { return [] }
        var out: [FBTable] = []
        out.reserveCapacity(v.count)
        for k in 0..<v.count {
            let p = v.offset(k)
            let target = p + Int(try fb.u32(p))
            out.append(try fb.table(at: target, "element \(k) of table vector \(i)"))
        }
        return out
    }

    public func int32s(_ i: Int) throws -> [Int32]? {
        guard let v = try vector(i, elementSize: 4) else { return nil }
        return try (0..<v.count).map { Int32(bitPattern: try fb.u32(v.offset($0))) }
    }
    public func int64s(_ i: Int) throws -> [Int64]? {
        guard let v = try vector(i, elementSize: 8) else { return nil }
        return try (0..<v.count).map { Int64(bitPattern: try fb.u64(v.offset($0))) }
    }
    public func uint16s(_ i: Int) throws -> [UInt16]? {
        guard let v = try vector(i, elementSize: 2) else { return nil }
        return try (0..<v.count).map { try fb.u16(v.offset($0)) }
    }
    public func uint8s(_ i: Int) throws -> [UInt8]? {
        guard let v = try vector(i, elementSize: 1) else { return nil }
        return Array(fb.bytes[v.byteRange])
    }
    public func float32s(_ i: Int) throws -> [Float]? {
        guard let v = try vector(i, elementSize: 4) else { return nil }
        return try (0..<v.count).map { Float(bitPattern: try fb.u32(v.offset($0))) }
    }
}
