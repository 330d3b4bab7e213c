// Strict JSON (RFC 8259) for filter packs, checked before decoding: Foundation's parser accepts
// trailing commas and duplicate keys (keeping one of the values silently: a second `texture` could
// point elsewhere), and reports NaN, 1e309 or a stray byte as "the data was not valid JSON" without
// saying where. This scanner refuses all of them with the JSON path and the line of the problem.

import Foundation

enum StrictJSON {
    /// Deeper nesting than any filter needs; bounds the scanner's recursion on hostile input.
    static let maxDepth = 32

    /// A problem: where (JSON path like `elements[2].texture`, and line) and what.
    struct Problem: Error {
        let path: String
        let line: Int
        let reason: String
    }

    /// Throws the first problem of `data` as a JSON document.
    static func check(_ data: Data) throws {
        guard String(data: data, encoding: .utf8) != nil else {
            throw Problem(path: "", line: 1, reason: "not UTF-8 text")
        }
        var s = Scanner(bytes: [UInt8](data))
        s.skipSpace()
        try s.value(path: "", depth: 0)
        s.skipSpace()
        if s.at < s.bytes.count { throw s.problem("", "text after the end of the document") }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var at = 0
        var line = 1

        func problem(_ path: String, _ reason: String) -> Problem { Problem(path: path, line: line, reason: reason) }

        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                if c == 0x0A { line += 1 }
                at += 1
            }
        }

        mutating func expect(_ c: UInt8, _ path: String, _ what: String) throws {
            skipSpace()
            guard peek == c else { throw problem(path, "expected \(what)") }
            at += 1
        }

        mutating func value(path: String, depth: Int) throws {
            guard depth <= StrictJSON.maxDepth else { throw problem(path, "nested deeper than \(StrictJSON.maxDepth) levels") }
            skipSpace()
            switch peek {
            case UInt8(ascii: "{"): try object(path: path, depth: depth)
            case UInt8(ascii: "["): try array(path: path, depth: depth)
            case UInt8(ascii: "\""): _ = try string(path: path)
            case UInt8(ascii: "t"): try literal("true", path)
            case UInt8(ascii: "f"): try literal("false", path)
            case UInt8(ascii: "n"): try literal("null", path)
            case let c? where c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39): try number(path: path)
            case nil: throw problem(path, "the document ends early")
            default:
                let isWord = { (c: UInt8) in (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x2B || c == 0x2E }
                let run = bytes[at ..< min(bytes.count, at + 12)].prefix(while: isWord)
                let word = run.isEmpty ? String(decoding: bytes[at ..< at + 1], as: UTF8.self) : String(decoding: run, as: UTF8.self)
                throw problem(path, word.hasPrefix("NaN") || word.hasPrefix("Infinity") ? "\(word) is not a JSON number"
                                                                                        : "unexpected '\(word)'")
            }
        }

        mutating func object(path: String, depth: Int) throws {
            at += 1
            var keys = Set<String>()
            skipSpace()
            if peek == UInt8(ascii: "}") { at += 1; return }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else {
                    throw problem(path, peek == UInt8(ascii: "}") ? "trailing comma before '}'" : "expected a key in quotes")
                }
                let key = try string(path: path)
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard keys.insert(key).inserted else { throw problem(child, "duplicate key") }
                try expect(UInt8(ascii: ":"), child, "':' after the key")
                try value(path: child, depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { at += 1; continue }
                if peek == UInt8(ascii: "}") { at += 1; return }
                throw problem(child, "expected ',' or '}'")
            }
        }

        mutating func array(path: String, depth: Int) throws {
            at += 1
            skipSpace()
            if peek == UInt8(ascii: "]") { at += 1; return }
            var i = 0
            while true {
                let child = "\(path)[\(i)]"
                skipSpace()
                if peek == UInt8(ascii: "]") { throw problem(child, "trailing comma before ']'") }
                try value(path: child, depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { at += 1; i += 1; continue }
                if peek == UInt8(ascii: "]") { at += 1; return }
                throw problem(child, "expected ',' or ']'")
            }
        }

        mutating func string(path: String) throws -> String {
            at += 1
            let start = at
            var escaped = false
            while let c = peek {
                at += 1
                if escaped { escaped = false; continue }
                if c == UInt8(ascii: "\\") { escaped = true; continue }
                if c == UInt8(ascii: "\"") {
                    let raw = Data(bytes[start - 1 ..< at])
                    guard let text = try? JSONSerialization.jsonObject(with: raw, options: .fragmentsAllowed) as? String else {
                        throw problem(path, "invalid escape in a string")
                    }
                    return text
                }
                if c < 0x20 { throw problem(path, "control character in a string") }
            }
            throw problem(path, "unterminated string")
        }

        mutating func literal(_ word: String, _ path: String) throws {
            let w = Array(word.utf8)
            guard at + w.count <= bytes.count, Array(bytes[at ..< at + w.count]) == w else {
                throw problem(path, "unexpected '\(String(decoding: bytes[at ..< min(bytes.count, at + w.count)], as: UTF8.self))'")
            }
            at += w.count
        }

        mutating func number(path: String) throws {
            let start = at
            func digits() -> Int {
                let s = at
                while let c = peek, c >= 0x30 && c <= 0x39 { at += 1 }
                return at - s
            }
            if peek == UInt8(ascii: "-") { at += 1 }
            let intStart = at
            guard digits() > 0 else { throw problem(path, "malformed number") }
            if bytes[intStart] == 0x30 && at - intStart > 1 { throw problem(path, "number with a leading zero") }
            if peek == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw problem(path, "malformed number") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                at += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw problem(path, "malformed number") }
            }
            let text = String(decoding: bytes[start ..< at], as: UTF8.self)
            guard Double(text)?.isFinite == true else { throw problem(path, "\(text) is out of range") }
        }
    }
}
