import Foundation

/// Parses JSON straight into a `ManifestTape` of nodes, over UTF-8 bytes: the API
/// server's answers, and manifest files that are JSON.
///
/// JSON is YAML too, and the YAML reader reads it; but a list of 10,000 pods
/// takes the YAML reader many times longer than this parser. Types come out as
/// the YAML reader gives them for JSON input: quoted text is a string, numbers
/// without a fraction or exponent are integers.
struct JSONParser {
    /// What is being read, which decides what is refused.
    enum Dialect {
        /// An API server's answer: any JSON.
        case api
        /// A manifest file, which the YAML reader would read otherwise. Refused
        /// besides invalid JSON, so that the caller hands the file to the YAML
        /// reader and gets exactly its reading and its errors: JSON that YAML
        /// reads differently or refuses (duplicate keys, UTF-16 surrogate
        /// escapes, U+2028 and other YAML line breaks or control characters in
        /// strings, a key whose `:` is a line or 1,000 bytes away, tabs outside
        /// the root value, nesting deeper than 200 levels).
        case manifest
    }

    /// Deeper nesting is refused, as the YAML path refuses it: no real object comes close.
    static let maximumDepth = 1_000
    /// A manifest nested deeper goes to the YAML reader, whose own limit (near
    /// 1,000 levels, counted its way) then decides.
    static let maximumManifestDepth = 200

    private let bytes: UnsafeBufferPointer<UInt8>
    private let dialect: Dialect
    private var position = 0
    private var line = 1
    private var depth = 0
    private var tape: ManifestTapeBuilder
    /// The key nodes of the objects being read, innermost last (manifests only,
    /// for the duplicate-key check).
    private var openKeys: [Int] = []

    /// The single JSON value of an API answer.
    static func parse(_ data: Data) throws(ManifestError) -> ManifestNode {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(ManifestError) in try parse(raw.bindMemory(to: UInt8.self), dialect: .api) }
        }
        return try result.get()
    }

    /// The single JSON value in `bytes`.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, dialect: Dialect) throws(ManifestError) -> ManifestNode {
        var parser = JSONParser(bytes: bytes, dialect: dialect)
        try parser.skipWhitespace(outsideTheRoot: true)
        guard parser.position < bytes.count else { throw ManifestError(.empty, "empty answer") }
        let root = try parser.value(parent: -1)
        try parser.skipWhitespace(outsideTheRoot: true)
        guard parser.position == bytes.count else { throw parser.error("text after the JSON value") }
        return ManifestNode(tape: parser.tape.finish(), index: root)
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, dialect: Dialect) {
        self.bytes = bytes
        self.dialect = dialect
        tape = ManifestTapeBuilder(expectedBytes: bytes.count)
    }

    /// Reads one value into the tape under `parent`; returns its index.
    private mutating func value(parent: Int) throws(ManifestError) -> Int {
        guard let byte = peek() else { throw error("the JSON ends early") }
        switch byte {
        case UInt8(ascii: "{"): return try object(parent: parent)
        case UInt8(ascii: "["): return try list(parent: parent)
        case UInt8(ascii: "\""): return try string(parent: parent)
        case UInt8(ascii: "t"): try literal("true"); return tape.append(.bool, payload: 1, line: line, parent: parent)
        case UInt8(ascii: "f"): try literal("false"); return tape.append(.bool, payload: 0, line: line, parent: parent)
        case UInt8(ascii: "n"): try literal("null"); return tape.append(.null, line: line, parent: parent)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number(parent: parent)
        default: throw error("unexpected character \(Self.show(byte))")
        }
    }

    private mutating func object(parent: Int) throws(ManifestError) -> Int {
        try enter()
        defer { depth -= 1 }
        let index = tape.append(.map, line: line, parent: parent)
        position += 1
        var pairs = 0
        try skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            tape.close(index, count: 0)
            return index
        }
        let firstKey = openKeys.count
        while true {
            try skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let keyStart = (position, line)
            let key = try string(parent: index)
            if dialect == .manifest { openKeys.append(key) }
            try skipWhitespace()
            try expect(UInt8(ascii: ":"))
            if dialect == .manifest, line != keyStart.1 || position - keyStart.0 > 1_000 {
                throw error("a key and its ':' on different lines or 1,000 bytes apart (YAML reads that otherwise)")
            }
            try skipWhitespace()
            _ = try value(parent: index)
            pairs += 1
            try skipWhitespace()
            if try endOfContainer(UInt8(ascii: "}")) { break }
        }
        tape.close(index, count: pairs)
        if dialect == .manifest {
            try checkDuplicates(openKeys[firstKey...])
            openKeys.removeSubrange(firstKey...)
        }
        return index
    }

    /// Refuses an object whose `keys` (node indices) repeat one, as YAML does.
    private func checkDuplicates(_ keys: ArraySlice<Int>) throws(ManifestError) {
        let repeated = tape.entries.withUnsafeBufferPointer { entries in
            tape.bytes.withUnsafeBufferPointer { bytes in
                DuplicateKeys.firstOccurrences(count: keys.count) { first, second in
                    ManifestTape.sameText(bytes, entries[keys[keys.startIndex + first]], entries[keys[keys.startIndex + second]])
                } key: { position in
                    ManifestTape.text(bytes, of: entries[keys[keys.startIndex + position]])
                }
            }
        }
        if let first = repeated.first {
            let key = tape.bytes.withUnsafeBufferPointer { bytes in ManifestTape.text(bytes, of: tape.entry(keys[keys.startIndex + first])) }
            throw error("duplicate key \(goQuoted(key))")
        }
    }

    private mutating func list(parent: Int) throws(ManifestError) -> Int {
        try enter()
        defer { depth -= 1 }
        let index = tape.append(.list, line: line, parent: parent)
        position += 1
        var items = 0
        try skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            tape.close(index, count: 0)
            return index
        }
        while true {
            try skipWhitespace()
            _ = try value(parent: index)
            items += 1
            try skipWhitespace()
            if try endOfContainer(UInt8(ascii: "]")) {
                tape.close(index, count: items)
                return index
            }
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
        let limit = dialect == .manifest ? Self.maximumManifestDepth : Self.maximumDepth
        guard depth <= limit else { throw error("nesting deeper than \(limit) levels") }
    }

    /// Reads a string into the tape under `parent`; returns its index.
    private mutating func string(parent: Int) throws(ManifestError) -> Int {
        let startLine = line
        position += 1
        let start = position
        var beyondASCII = false
        // Most strings have no escapes: one pass to find the end, one copy.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<position])
                if beyondASCII { try checkText(text) }
                position += 1
                return tape.appendString(text, line: startLine, parent: parent)
            }
            if byte == UInt8(ascii: "\\") { break }
            try check(byte)
            beyondASCII = beyondASCII || byte >= 0x80
            position += 1
        }
        var scalars = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                // Escapes may have written any character: check as if beyond ASCII.
                let result = scalars.withUnsafeBufferPointer { buffer in
                    Result { () throws(ManifestError) in
                        try checkText(buffer)
                        return tape.appendString(buffer, line: startLine, parent: parent)
                    }
                }
                return try result.get()
            case UInt8(ascii: "\\"):
                try escape(into: &scalars)
            default:
                try check(byte)
                beyondASCII = beyondASCII || byte >= 0x80
                scalars.append(byte)
            }
        }
        throw error("a string that never ends")
    }

    /// A byte inside a string: no control characters (and, for YAML, no DEL).
    private func check(_ byte: UInt8) throws(ManifestError) {
        if byte < 0x20 { throw error("a control character inside a string") }
        if byte == 0x7F, dialect == .manifest { throw error("a DEL character inside a string (YAML refuses it)") }
    }

    private mutating func escape(into output: inout [UInt8]) throws(ManifestError) {
        guard let byte = peek() else { throw error("a string that never ends") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"): try unicodeEscape(into: &output)
        default: throw error("unknown escape \\\(Self.show(byte))")
        }
    }

    private mutating func unicodeEscape(into output: inout [UInt8]) throws(ManifestError) {
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
            // libyaml refuses surrogate escapes: leave such a file to it.
            if dialect == .manifest { throw error("a UTF-16 surrogate escape (YAML refuses it)") }
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
        output.append(contentsOf: String(scalar).utf8)
    }

    private mutating func hex4() throws(ManifestError) -> UInt32 {
        guard position + 4 <= bytes.count,
              let code = UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<position + 4]), as: UTF8.self), radix: 16)
        else {
            throw error("\\u must be followed by four hex digits")
        }
        position += 4
        return code
    }

    /// Checks text beyond ASCII: UTF-8, and for a manifest nothing YAML reads otherwise.
    private func checkText(_ utf8: UnsafeBufferPointer<UInt8>) throws(ManifestError) {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw error("not UTF-8 text (binary data?)", code: .notText) }
        if dialect == .manifest, text.unicodeScalars.contains(where: Self.yamlReadsOtherwise) {
            throw error("a character in a string that YAML reads otherwise (a line break such as U+2028, or a control character)")
        }
    }

    /// Characters libyaml refuses (C1 controls, U+FFFE, U+FFFF) or folds as line
    /// breaks inside a quoted scalar (U+0085, U+2028, U+2029).
    private static func yamlReadsOtherwise(_ scalar: Unicode.Scalar) -> Bool {
        (0x80...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
            || scalar.value == 0xFFFE || scalar.value == 0xFFFF
    }

    /// A number as RFC 8259 spells it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func number(parent: Int) throws(ManifestError) -> Int {
        let start = position
        while let byte = peek(), Self.isNumberByte(byte) { position += 1 }
        let token = UnsafeBufferPointer(rebasing: bytes[start..<position])
        guard let integral = Self.numberShape(token) else {
            throw error("not a number: \(String(decoding: token, as: UTF8.self))")
        }
        if integral, let number = Self.integer(token) { return tape.append(.int, payload: Int64(number), line: line, parent: parent) }
        let text = String(decoding: token, as: UTF8.self)
        guard let number = Double(text) else { throw error("not a number: \(text)") }
        return tape.append(.float, payload: Int64(bitPattern: number.bitPattern), line: line, parent: parent)
    }

    /// A whole number's value, nil when it does not fit an `Int`.
    private static func integer(_ token: UnsafeBufferPointer<UInt8>) -> Int? {
        let negative = token.first == UInt8(ascii: "-")
        var value = 0
        for digit in token.dropFirst(negative ? 1 : 0) {
            let (shifted, overflowShift) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowAdd) = negative
                ? shifted.subtractingReportingOverflow(Int(digit - UInt8(ascii: "0")))
                : shifted.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            guard !overflowShift, !overflowAdd else { return nil }
            value = next
        }
        return value
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default:
            return false
        }
    }

    /// Whether `token` is a JSON number, and if so whether it is whole
    /// (no fraction, no exponent); nil when it is not a number.
    private static func numberShape(_ token: UnsafeBufferPointer<UInt8>) -> Bool? {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < token.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(token[index]) { index += 1 }
            return index - start
        }
        if index < token.count, token[index] == UInt8(ascii: "-") { index += 1 }
        let leadingZero = index < token.count && token[index] == UInt8(ascii: "0")
        let whole = digits()
        guard whole > 0, !leadingZero || whole == 1 else { return nil }
        var integral = true
        if index < token.count, token[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
            integral = false
        }
        if index < token.count, token[index] == UInt8(ascii: "e") || token[index] == UInt8(ascii: "E") {
            index += 1
            if index < token.count, token[index] == UInt8(ascii: "+") || token[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
            integral = false
        }
        return index == token.count ? integral : nil
    }

    private mutating func literal(_ word: StaticString) throws(ManifestError) {
        let count = word.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        guard position + count <= bytes.count, bytes[position..<position + count].elementsEqual(expected) else {
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

    /// Skips JSON whitespace, counting lines as YAML does (`\r\n`, `\n` or a lone
    /// `\r`). A manifest refuses tabs outside its root value, where YAML refuses them.
    private mutating func skipWhitespace(outsideTheRoot: Bool = false) throws(ManifestError) {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\n"):
                line += 1
            case UInt8(ascii: "\r"):
                if position + 1 == bytes.count || bytes[position + 1] != UInt8(ascii: "\n") { line += 1 }
            case UInt8(ascii: "\t"):
                if outsideTheRoot, dialect == .manifest { throw error("a tab outside the root value (YAML refuses it)") }
            case UInt8(ascii: " "):
                break
            default:
                return
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
