import Foundation

/// Parses JSON, what the API server answers with, straight into a
/// `ManifestNode` tree, over UTF-8 bytes.
///
/// JSON is YAML too, and manifests go through the YAML parser; but a list of
/// 10,000 pods takes the YAML parser seconds and this one a small fraction of
/// that, which is most of an agent's start-up. Types come out as the YAML path
/// gives them for JSON input: quoted text is a string, numbers without a
/// fraction or exponent are integers.
struct JSONParser {
    /// Deeper nesting is refused, as the YAML path refuses it: no real object comes close.
    static let maximumDepth = 1_000

    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    private var depth = 0

    /// The single JSON value in `data`.
    static func parse(_ data: Data) throws(ManifestError) -> ManifestNode {
        var parser = JSONParser(bytes: [UInt8](data))
        parser.skipWhitespace()
        guard parser.position < parser.bytes.count else { throw ManifestError(.empty, "empty answer") }
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func value() throws(ManifestError) -> ManifestNode {
        let startLine = line
        guard let byte = peek() else { throw error("the JSON ends early") }
        switch byte {
        case UInt8(ascii: "{"): return ManifestNode(value: try object(), line: startLine)
        case UInt8(ascii: "["): return ManifestNode(value: try list(), line: startLine)
        case UInt8(ascii: "\""): return ManifestNode(value: .string(try string()), line: startLine)
        case UInt8(ascii: "t"): try literal("true"); return ManifestNode(value: .bool(true), line: startLine)
        case UInt8(ascii: "f"): try literal("false"); return ManifestNode(value: .bool(false), line: startLine)
        case UInt8(ascii: "n"): try literal("null"); return ManifestNode(value: .null, line: startLine)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return ManifestNode(value: try number(), line: startLine)
        default: throw error("unexpected character \(Self.show(byte))")
        }
    }

    private mutating func object() throws(ManifestError) -> ManifestNode.Value {
        try enter()
        defer { depth -= 1 }
        position += 1
        var pairs: [(key: String, value: ManifestNode)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .map(pairs)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            pairs.append((key, try value()))
            skipWhitespace()
            if try endOfContainer(UInt8(ascii: "}")) { return .map(pairs) }
        }
    }

    private mutating func list() throws(ManifestError) -> ManifestNode.Value {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [ManifestNode] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .list(items)
        }
        while true {
            skipWhitespace()
            items.append(try value())
            skipWhitespace()
            if try endOfContainer(UInt8(ascii: "]")) { return .list(items) }
        }
    }

    /// After an element: a comma (more follow) or the closing bracket (true).
    private mutating func endOfContainer(_ closing: UInt8) throws(ManifestError) -> Bool {
        guard let byte = peek() else { throw error("the JSON ends early") }
        position += 1
        if byte == closing { return true }
        guard byte == UInt8(ascii: ",") else { throw error("expected , or \(Self.show(closing)), found \(Self.show(byte))") }
        return false
    }

    private mutating func enter() throws(ManifestError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func string() throws(ManifestError) -> String {
        position += 1
        let start = position
        // Most strings have no escapes: one pass to find the end, one copy.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                return try text(bytes[start..<position])
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("a control character inside a string") }
            position += 1
        }
        var scalars = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try text(scalars[...])
            case UInt8(ascii: "\\"):
                try escape(into: &scalars)
            case ..<0x20:
                throw error("a control character inside a string")
            default:
                scalars.append(byte)
            }
        }
        throw error("a string that never ends")
    }

    private mutating func escape(into output: inout [UInt8]) throws(ManifestError) {
        guard let byte = peek() else { throw error("a string that never ends") }
        position += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let plain = simple[byte] {
            output.append(plain)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw error("unknown escape \\\(Self.show(byte))") }
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
            // A UTF-16 surrogate pair: \uD83D\uDE00.
            guard peek() == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw error("a lone UTF-16 surrogate")
            }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("a lone UTF-16 surrogate") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("a lone UTF-16 surrogate") }
        output.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func hex4() throws(ManifestError) -> UInt32 {
        guard position + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
            throw error("\\u must be followed by four hex digits")
        }
        position += 4
        return code
    }

    private func text(_ utf8: ArraySlice<UInt8>) throws(ManifestError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw error("not UTF-8 text (binary data?)", code: .notText) }
        return text
    }

    private mutating func number() throws(ManifestError) -> ManifestNode.Value {
        let start = position
        var integral = true
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"):
                position += 1
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                integral = false
                position += 1
            default:
                return try numberValue(start, integral)
            }
        }
        return try numberValue(start, integral)
    }

    private func numberValue(_ start: Int, _ integral: Bool) throws(ManifestError) -> ManifestNode.Value {
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if integral, let number = Int(text) { return .int(number) }
        guard let number = Double(text) else { throw error("not a number: \(text)") }
        return .float(number)
    }

    private mutating func literal(_ word: String) throws(ManifestError) {
        let count = word.utf8.count
        guard position + count <= bytes.count, bytes[position..<position + count].elementsEqual(word.utf8) else {
            throw error("expected \(word)")
        }
        position += count
    }

    private mutating func expect(_ byte: UInt8) throws(ManifestError) {
        guard peek() == byte else { throw error("expected \(Self.show(byte))") }
        position += 1
    }

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
            default: return
            }
            position += 1
        }
    }

    private func error(_ problem: String, code: ManifestError.Code = .syntax) -> ManifestError {
        ManifestError(code, "invalid JSON: \(problem)", line: line)
    }

    private static func show(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: "byte 0x%02X", byte)
    }
}
