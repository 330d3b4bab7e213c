// Reads members of a MediaPipe `.task` bundle, which is a plain zip archive.
// Only STORED (method 0) members are supported: the published face_landmarker.task stores
// everything uncompressed, so no inflater is needed. A deflated member throws a clear error.
// Zip64 archives are not supported either (bundles are far below 4 GB).
import Foundation

public enum TaskBundleError: Error, CustomStringConvertible {
    case notAZip(String)
    case corrupt(String, String)
    case missingMember(bundle: String, member: String)
    case compressed(bundle: String, member: String, method: Int)

    public var description: String {
        switch self {
        case let .notAZip(b): return "\(b): not a zip archive (no end-of-central-directory record)"
        case let .corrupt(b, m): return "\(b): corrupt zip: \(m)"
        case let .missingMember(b, m): return "\(b): no member named \(m)"
        case let .compressed(b, m, method):
            return "\(b): member \(m) uses compression method \(method); only stored (0) members are supported"
        }
    }
}

public struct TaskBundle {
    public struct Member {
        public let name: String
        public let method: Int
        public let compressedSize: Int
        public let size: Int
        public let crc32: UInt32
        /// Offset of the local file header in the archive (already corrected for any prefix).
        let localHeader: Int
    }

    public let name: String
    public let bytes: [UInt8]
    public let members: [Member]

    public init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](try Data(contentsOf: url)), name: url.lastPathComponent)
    }

    public init(bytes: [UInt8], name: String) throws {
        self.name = name
        self.bytes = bytes
        let fb = FlatBuffer(bytes: bytes)  // reused for its bounds-checked little-endian loads
        func corrupt(_ m: String) -> TaskBundleError { .corrupt(name, m) }

        // End of central directory: 22 bytes + a comment of up to 65535 bytes, searched backwards.
        var eocd = -1
        var p = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4b, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw TaskBundleError.notAZip(name) }
        do {
            let entries = Int(try fb.u16(eocd + 10))
            let cdSize = Int(try fb.u32(eocd + 12))
            let cdOffset = Int(try fb.u32(eocd + 16))
            // Some bundles carry bytes before the first local header; offsets in the directory are
            // then relative to the archive start, found as (EOCD position - directory size).
            let cdStart = eocd - cdSize
            guard cdStart >= 0, cdStart >= cdOffset else { throw corrupt("central directory size/offset inconsistent") }
            let shift = cdStart - cdOffset
            var list: [Member] = []
            var q = cdStart
            for _ in 0..<entries {
                guard try fb.u32(q) == 0x0201_4b50 else { throw corrupt("bad central directory entry at \(q)") }
                let method = Int(try fb.u16(q + 10))
                let crc = try fb.u32(q + 16)
                let csize = Int(try fb.u32(q + 20))
                let usize = Int(try fb.u32(q + 24))
                let nameLen = Int(try fb.u16(q + 28))
                let extraLen = Int(try fb.u16(q + 30))
                let commentLen = Int(try fb.u16(q + 32))
                let local = Int(try fb.u32(q + 42)) + shift
                try fb.check(q + 46, nameLen, "member name")
                let memberName = String(decoding: bytes[(q + 46)..<(q + 46 + nameLen)], as: UTF8.self)
                list.append(Member(name: memberName, method: method, compressedSize: csize, size: usize,
                                   crc32: crc, localHeader: local))
                q += 46 + nameLen + extraLen + commentLen
            }
            members = list
        } catch let e as FlatBufferError {
            throw corrupt(e.description)
        }
    }

    public var memberNames: [String] { members.map(\.name) }

    /// The uncompressed bytes of `member`, CRC-checked.
    public func data(of member: String) throws -> [UInt8] {
        guard let m = members.first(where: { $0.name == member }) else {
            throw TaskBundleError.missingMember(bundle: name, member: member)
        }
        guard m.method == 0 else { throw TaskBundleError.compressed(bundle: name, member: member, method: m.method) }
        let fb = FlatBuffer(bytes: bytes)
        do {
            guard try fb.u32(m.localHeader) == 0x0403_4b50 else {
                throw TaskBundleError.corrupt(name, "bad local header for \(member)")
            }
            let start = m.localHeader + 30 + Int(try fb.u16(m.localHeader + 26)) + Int(try fb.u16(m.localHeader + 28))
            guard m.size == m.compressedSize else { throw TaskBundleError.corrupt(name, "stored member \(member) has differing sizes") }
            try fb.check(start, m.size, "member \(member)")
            let out = Array(bytes[start..<(start + m.size)])
            guard CRC32.checksum(out) == m.crc32 else { throw TaskBundleError.corrupt(name, "CRC mismatch in \(member)") }
            return out
        } catch let e as FlatBufferError {
            throw TaskBundleError.corrupt(name, e.description)
        }
    }

    /// Parses a `.tflite` member.
    public func model(_ member: String) throws -> TFLiteModel {
        try TFLiteModel(bytes: try data(of: member), name: member)
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as used by zip.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func checksum(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
