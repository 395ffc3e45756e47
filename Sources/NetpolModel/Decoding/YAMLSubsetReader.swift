/// Reads the YAML that manifests are written in straight from UTF-8 bytes into a
/// `ManifestTape`, the same nodes with the same lines as `YAMLReader` gives, at
/// several times its speed: libyaml's scanner and parser took most of the time.
///
/// The subset is what `kubectl`, Helm and people write: block mappings and
/// sequences by indentation, plain and quoted scalars on one line, flow
/// collections (`{}`, `[]`, `{"app": "web"}`) on one line, comments, and `---`
/// between documents. Anything else (anchors, aliases, tags, block scalars,
/// scalars over several lines, directives, `...`, tabs, unusual characters) and
/// every mistake is handed over: the caller then reads the whole text with
/// `YAMLReader`, so that errors and rare constructs read exactly as before.
/// The reader never guesses: where libyaml's reading of a construct could
/// differ from this one's, it hands over.
struct YAMLSubsetReader {
    /// Why a text went to `YAMLReader`: a construct outside the subset, or a mistake.
    struct HandOver: Error, CustomStringConvertible {
        var reason: String
        var line: Int

        var description: String { "\(reason) (line \(line))" }
    }

    /// A block mapping or sequence whose end has not come yet.
    private struct Block {
        var index: Int
        /// The column of its keys or of its `-`.
        var indent: Int
        var isMapping: Bool
        /// A sequence that is a mapping's value at the mapping's own indent (`key:` then `- item`).
        var indentless = false
        /// Items of a sequence, pairs of a mapping.
        var count = 0
        /// Where this mapping's keys start in `keys`.
        var firstKey: Int
    }

    /// Deeper nesting goes to `YAMLReader`, whose own limit (1,000 levels) then decides.
    static let maximumDepth = 200
    /// libyaml finds a key's `:` only within 1,024 characters of its start.
    private static let maximumKeySpan = 1_000

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var line = 1
    private var tape: ManifestTapeBuilder
    private var blocks: [Block] = []
    /// The key nodes of the mappings being read, innermost last: for the duplicate check.
    private var keys: [Int] = []
    /// The line of a `key:` or `-` whose value starts on a later line, or is empty.
    private var pendingLine: Int?
    /// The root of the document being read.
    private var root: Int?
    private var flowDepth = 0
    /// Where the line being read starts.
    private var lineBegin = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        tape = ManifestTapeBuilder(expectedBytes: bytes.count)
    }

    /// Every document of `bytes` (valid UTF-8 without NUL), or why `YAMLReader` must read them.
    static func documents(in bytes: UnsafeBufferPointer<UInt8>) -> Result<[DocumentParser.Document], HandOver> {
        var reader = YAMLSubsetReader(bytes: bytes)
        return Result { () throws(HandOver) in try reader.documents() }
    }

    private mutating func documents() throws(HandOver) -> [DocumentParser.Document] {
        try checkCharacters()
        var roots: [Int] = []
        var inDocument = false
        while position < bytes.count {
            let lineStart = position
            while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
            guard position < bytes.count else { break }
            let indent = position - lineStart
            switch bytes[position] {
            case UInt8(ascii: "\n"):
                skipComment()
            case UInt8(ascii: "#"):
                skipComment()
            case UInt8(ascii: "-") where indent == 0 && startsMarker(UInt8(ascii: "-")):
                if inDocument { roots.append(try endDocument(nextLine: line)) }
                inDocument = true
                position += 3
                try endOfLine()
            case UInt8(ascii: ".") where indent == 0 && startsMarker(UInt8(ascii: ".")):
                throw handOver("a document end marker (...)")
            case UInt8(ascii: "%") where indent == 0:
                throw handOver("a directive")
            default:
                inDocument = true
                try contentLine(indent: indent)
            }
        }
        if inDocument {
            // libyaml's stream end is on the line after the last one.
            let endLine = bytes.last == UInt8(ascii: "\n") ? line : line + 1
            roots.append(try endDocument(nextLine: endLine))
        }
        let tape = tape.finish()
        return roots.enumerated().map { offset, root in
            DocumentParser.Document(number: offset + 1, root: tape.entries[root].kind == .null ? nil : ManifestNode(tape: tape, index: root))
        }
    }

    /// Whether the line starts with `---` or `...` (`marker`) on its own.
    private func startsMarker(_ marker: UInt8) -> Bool {
        position + 2 < bytes.count && bytes[position + 1] == marker && bytes[position + 2] == marker
            && (position + 3 == bytes.count || bytes[position + 3] == UInt8(ascii: " ") || bytes[position + 3] == UInt8(ascii: "\n"))
    }

    /// Closes the document's collections; returns its root (a null for an empty
    /// document, on the line of what follows it, as libyaml places it).
    private mutating func endDocument(nextLine: Int) throws(HandOver) -> Int {
        try closeBlocks(deeperThan: -1)
        let documentRoot = root ?? emptyScalar(line: nextLine, parent: -1)
        root = nil
        return documentRoot
    }

    // MARK: - Block structure

    /// A line with content at column `indent`.
    private mutating func contentLine(indent: Int) throws(HandOver) {
        let entry = startsSequenceEntry()
        if pendingLine != nil, let parent = blocks.last {
            if indent > parent.indent || (indent == parent.indent && entry && parent.isMapping) {
                // The value of `key:` or the item of `-` is a collection on its own lines.
                pendingLine = nil
                try openBlock(indent: indent, isSequence: entry, indentless: indent == parent.indent)
                return
            }
        }
        try closeBlocks(deeperThan: indent)
        // An indentless sequence ends at its mapping's next key.
        if let top = blocks.last, top.indentless, top.indent == indent, !entry { try closeBlock() }
        guard let top = blocks.last else {
            guard root == nil else { throw handOver("content after the end of the document's root") }
            try openBlock(indent: indent, isSequence: entry, indentless: false)
            return
        }
        guard top.indent == indent else { throw handOver("indentation that matches no open collection") }
        guard top.isMapping != entry else { throw handOver("a key where an item belongs, or an item where a key belongs") }
        if entry { try sequenceEntry() } else { try mappingEntry() }
    }

    /// Whether the text at `position` starts a `-` item.
    private func startsSequenceEntry() -> Bool {
        bytes[position] == UInt8(ascii: "-") && (position + 1 == bytes.count || Self.isBlankOrBreak(bytes[position + 1]))
    }

    /// Opens a block collection at `position` and reads its first entry.
    private mutating func openBlock(indent: Int, isSequence: Bool, indentless: Bool) throws(HandOver) {
        try checkDepth()
        let index = tape.append(isSequence ? .list : .map, line: line, parent: blocks.last?.index ?? -1)
        if blocks.isEmpty { root = index }
        blocks.append(Block(index: index, indent: indent, isMapping: !isSequence, indentless: indentless, firstKey: keys.count))
        if isSequence { try sequenceEntry() } else { try mappingEntry() }
    }

    /// Closes the block collections deeper than `indent`, giving an open `key:`
    /// or `-` its empty value first.
    private mutating func closeBlocks(deeperThan indent: Int) throws(HandOver) {
        if let pending = pendingLine, let parent = blocks.last {
            emptyScalar(line: pending, parent: parent.index)
            pendingLine = nil
        }
        while let top = blocks.last, top.indent > indent { try closeBlock() }
    }

    private mutating func closeBlock() throws(HandOver) {
        guard let block = blocks.popLast() else { return }
        try closeCollection(block.index, count: block.count, isMapping: block.isMapping, firstKey: block.firstKey)
    }

    /// Counts an entry of the innermost block and steps over its `-` or `:`
    /// (at `position`) and the spaces after it; false when the line ends there
    /// (the value, if any, comes on the next lines).
    private mutating func startEntryValue() throws(HandOver) -> Bool {
        blocks[blocks.count - 1].count += 1
        position += 1
        skipSpaces()
        guard atEndOfContent() else { return true }
        pendingLine = line
        try endOfLine()
        return false
    }

    /// A `-` item of the innermost sequence.
    private mutating func sequenceEntry() throws(HandOver) {
        guard try startEntryValue() else { return }
        if startsSequenceEntry() { throw handOver("a sequence inside a sequence on one line") }
        let sequence = blocks[blocks.count - 1].index
        let first = bytes[position]
        guard first != UInt8(ascii: "{"), first != UInt8(ascii: "[") else {
            try flowCollection(parent: sequence)
            try endOfLine()
            return
        }
        guard first != UInt8(ascii: "|"), first != UInt8(ascii: ">") else {
            try blockScalar(parent: sequence)
            return
        }
        let column = position - lineBegin
        let start = position
        let text = try scalarText(inFlow: false)
        guard atKeyColon(inFlow: false) else {
            appendValue(text, parent: sequence)
            try endOfLine()
            return
        }
        // `- key: value` opens a mapping at the key's column; the key's text is
        // already stored, and a mapping stores none.
        try checkDepth()
        let mapping = tape.append(.map, line: line, parent: sequence)
        blocks.append(Block(index: mapping, indent: column, isMapping: true, firstKey: keys.count))
        try appendKey(text, from: start, parent: mapping)
        try mappingValue()
    }

    /// A `key: value` or `key:` line of the innermost mapping.
    private mutating func mappingEntry() throws(HandOver) {
        try key(parent: blocks[blocks.count - 1].index)
        try mappingValue()
    }

    /// What follows a block mapping's `key:` (at `position`) on its line.
    private mutating func mappingValue() throws(HandOver) {
        guard try startEntryValue() else { return }
        if startsSequenceEntry() { throw handOver("a sequence on its key's line") }
        if bytes[position] == UInt8(ascii: "|") || bytes[position] == UInt8(ascii: ">") {
            try blockScalar(parent: blocks[blocks.count - 1].index)
            return
        }
        try value(parent: blocks[blocks.count - 1].index)
        if position < bytes.count, bytes[position] == UInt8(ascii: ":") { throw handOver("a key where a value belongs") }
        try endOfLine()
    }

    // MARK: - Scalars and flow collections

    /// Reads a key and its `:` (left at `position`) into the tape under `parent`.
    private mutating func key(parent: Int) throws(HandOver) {
        let start = position
        let first = bytes[position]
        guard first != UInt8(ascii: "{"), first != UInt8(ascii: "["), first != UInt8(ascii: "?") else {
            throw handOver("a key that is not a scalar")
        }
        let text = try scalarText(inFlow: flowDepth > 0)
        guard atKeyColon(inFlow: flowDepth > 0) else { throw handOver("a key without its `:`") }
        try appendKey(text, from: start, parent: parent)
    }

    /// Appends a key read from `start` up to its `:` at `position`.
    private mutating func appendKey(_ text: ScalarText, from start: Int, parent: Int) throws(HandOver) {
        guard position - start <= Self.maximumKeySpan else { throw handOver("a key longer than libyaml looks for its `:`") }
        keys.append(tape.appendString(offset: text.offset, length: text.length, line: line, parent: parent))
    }

    /// Whether `position` is at the `:` after a key: in a block, followed by a
    /// blank or the line's end; in a flow collection, libyaml takes any `:`.
    private func atKeyColon(inFlow: Bool) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return false }
        return inFlow || position + 1 == bytes.count || Self.isBlankOrBreak(bytes[position + 1])
    }

    /// Reads a value that starts on this line into the tape under `parent`.
    private mutating func value(parent: Int) throws(HandOver) {
        switch bytes[position] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try flowCollection(parent: parent)
        default:
            appendValue(try scalarText(inFlow: flowDepth > 0), parent: parent)
        }
    }

    /// Appends a scalar value: quoted text is a string, plain text is typed as YAML 1.1 types it.
    private mutating func appendValue(_ text: ScalarText, parent: Int) {
        if text.plain {
            tape.appendScalar(offset: text.offset, length: text.length, tag: nil, plain: true, line: line, parent: parent)
        } else {
            tape.appendString(offset: text.offset, length: text.length, line: line, parent: parent)
        }
    }

    /// A flow collection that opens and closes on this line.
    private mutating func flowCollection(parent: Int) throws(HandOver) {
        let isMapping = bytes[position] == UInt8(ascii: "{")
        let closing = isMapping ? UInt8(ascii: "}") : UInt8(ascii: "]")
        flowDepth += 1
        try checkDepth()
        let index = tape.append(isMapping ? .map : .list, line: line, parent: parent)
        let firstKey = keys.count
        var count = 0
        position += 1
        skipSpaces()
        while position < bytes.count, bytes[position] != closing {
            if isMapping {
                try key(parent: index)
                position += 1
                skipSpaces()
            }
            guard let byte = bytes[safe: position], byte != UInt8(ascii: ","), byte != closing, byte != UInt8(ascii: "\n") else {
                throw handOver("an empty or unfinished entry in a flow collection")
            }
            try value(parent: index)
            count += 1
            skipSpaces()
            guard let next = bytes[safe: position] else { break }
            if next == UInt8(ascii: ",") {
                position += 1
                skipSpaces()
                // libyaml allows a comma before the end; it is rare enough to leave to it.
                if bytes[safe: position] == closing { throw handOver("a comma before the end of a flow collection") }
            } else if next != closing {
                throw handOver("a flow collection over several lines, or an unexpected character in one")
            }
        }
        guard position < bytes.count else { throw handOver("a flow collection that does not end") }
        position += 1
        try closeCollection(index, count: count, isMapping: isMapping, firstKey: firstKey)
        flowDepth -= 1
    }

    /// A scalar's text, stored in the tape's bytes; `position` is left just after it.
    private mutating func scalarText(inFlow: Bool) throws(HandOver) -> ScalarText {
        let offset = tape.bytes.count
        switch bytes[position] {
        case UInt8(ascii: "\""): try doubleQuoted()
        case UInt8(ascii: "'"): try singleQuoted()
        default:
            try plain(inFlow: inFlow)
            return ScalarText(offset: offset, length: tape.bytes.count - offset, plain: true)
        }
        return ScalarText(offset: offset, length: tape.bytes.count - offset, plain: false)
    }

    /// A literal (`|`) or folded (`>`) block scalar, with its chomping (`-`, `+`)
    /// but no indentation indicator, up to the first line indented less than its
    /// first line, as libyaml reads it; `position` is left at that line's start.
    private mutating func blockScalar(parent: Int) throws(HandOver) {
        let headerLine = line
        let folded = bytes[position] == UInt8(ascii: ">")
        position += 1
        let chomping = bytes[safe: position]
        if chomping == UInt8(ascii: "-") || chomping == UInt8(ascii: "+") { position += 1 }
        guard let next = bytes[safe: position], next == UInt8(ascii: " ") || next == UInt8(ascii: "\n") else {
            throw handOver("a block scalar with an indentation indicator")
        }
        try endOfLine()
        let parentIndent = blocks[blocks.count - 1].indent
        let offset = tape.bytes.count
        var indent = 0
        var emptyLines = 0
        var endsWithBreak = false
        var previousStartsBlank = false
        while position < bytes.count {
            let start = position
            skipSpaces()
            let spaces = position - start
            guard position < bytes.count else { break }
            if bytes[position] == UInt8(ascii: "\n") {
                guard indent > 0, spaces <= indent else { throw handOver("a block scalar with an empty first line, or a line of spaces") }
                emptyLines += 1
                skipComment()
                continue
            }
            if indent == 0 {
                guard spaces > parentIndent else { throw handOver("an empty block scalar") }
                indent = spaces
            }
            guard spaces >= indent else {
                position = start
                break
            }
            // Every line but the first (which has text, so stored bytes) starts with
            // the previous one's line break, which `>` folds into a space between
            // two lines of text.
            let startsBlank = spaces > indent
            if tape.bytes.count > offset {
                if folded, !previousStartsBlank, !startsBlank {
                    if emptyLines == 0 { tape.storeByte(UInt8(ascii: " ")) }
                } else {
                    tape.storeByte(UInt8(ascii: "\n"))
                }
            }
            for _ in 0..<emptyLines { tape.storeByte(UInt8(ascii: "\n")) }
            emptyLines = 0
            previousStartsBlank = startsBlank
            let text = start + indent
            while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
            tape.storeText(UnsafeBufferPointer(rebasing: bytes[text..<position]))
            endsWithBreak = position < bytes.count
            skipComment()
        }
        guard indent > 0 else { throw handOver("an empty block scalar") }
        if chomping != UInt8(ascii: "-"), endsWithBreak { tape.storeByte(UInt8(ascii: "\n")) }
        if chomping == UInt8(ascii: "+") { for _ in 0..<emptyLines { tape.storeByte(UInt8(ascii: "\n")) } }
        tape.appendString(offset: offset, length: tape.bytes.count - offset, line: headerLine, parent: parent)
    }

    /// A scalar's text in the tape's bytes, and whether it was plain (unquoted).
    private struct ScalarText {
        var offset: Int
        var length: Int
        var plain: Bool
    }

    /// A plain scalar on one line: it ends at `: `, ` #` or the line's end, and in
    /// a flow collection also at `,`, `]` and `}`.
    private mutating func plain(inFlow: Bool) throws(HandOver) {
        let first = bytes[position]
        switch first {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            // In a flow collection libyaml reads `?` and `:` as indicators whatever follows.
            if inFlow, first != UInt8(ascii: "-") { throw handOver("a `?` or `:` that starts a scalar in a flow collection") }
            guard let next = bytes[safe: position + 1], !Self.isBlankOrBreak(next), !(inFlow && Self.isFlowIndicator(next)) else {
                throw handOver("an indicator where a value belongs")
            }
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"),
             UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "%"),
             UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw handOver("an anchor, alias, tag, block scalar or reserved indicator")
        default:
            break
        }
        let start = position
        var end = position
        scan: while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\n"):
                break scan
            case UInt8(ascii: ":"):
                let next = bytes[safe: position + 1]
                if next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "\n") { break scan }
                // libyaml versions differ on `a:b` inside flow collections.
                if inFlow { throw handOver("a `:` inside a plain scalar in a flow collection") }
            case UInt8(ascii: "#") where bytes[position - 1] == UInt8(ascii: " "):
                if inFlow { throw handOver("a comment inside a flow collection") }
                break scan
            case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"):
                if inFlow { break scan }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if inFlow { throw handOver("a flow collection inside a plain scalar") }
            default:
                break
            }
            position += 1
            if byte != UInt8(ascii: " ") { end = position }
        }
        position = end
        tape.storeText(UnsafeBufferPointer(rebasing: bytes[start..<end]))
    }

    /// A `'...'` scalar on one line; `''` is a quote.
    private mutating func singleQuoted() throws(HandOver) {
        position += 1
        var segment = position
        while true {
            guard let byte = bytes[safe: position], byte != UInt8(ascii: "\n") else {
                throw handOver("a quoted scalar over several lines")
            }
            guard byte == UInt8(ascii: "'") else {
                position += 1
                continue
            }
            tape.storeText(UnsafeBufferPointer(rebasing: bytes[segment..<position]))
            position += 1
            guard bytes[safe: position] == UInt8(ascii: "'") else { return }
            tape.storeByte(UInt8(ascii: "'"))
            position += 1
            segment = position
        }
    }

    /// A `"..."` scalar on one line, its escapes decoded as libyaml decodes them.
    private mutating func doubleQuoted() throws(HandOver) {
        position += 1
        var segment = position
        while true {
            guard let byte = bytes[safe: position], byte != UInt8(ascii: "\n") else {
                throw handOver("a quoted scalar over several lines")
            }
            switch byte {
            case UInt8(ascii: "\""):
                tape.storeText(UnsafeBufferPointer(rebasing: bytes[segment..<position]))
                position += 1
                return
            case UInt8(ascii: "\\"):
                tape.storeText(UnsafeBufferPointer(rebasing: bytes[segment..<position]))
                try escape()
                segment = position
            default:
                position += 1
            }
        }
    }

    /// The escape at `position` (its backslash), as libyaml's scanner decodes it.
    private mutating func escape() throws(HandOver) {
        guard let code = bytes[safe: position + 1] else { throw handOver("an unfinished escape") }
        position += 2
        let simple: [UInt8]? = switch code {
        case UInt8(ascii: "0"): [0x00]
        case UInt8(ascii: "a"): [0x07]
        case UInt8(ascii: "b"): [0x08]
        case UInt8(ascii: "t"): [0x09]
        case UInt8(ascii: "n"): [0x0A]
        case UInt8(ascii: "v"): [0x0B]
        case UInt8(ascii: "f"): [0x0C]
        case UInt8(ascii: "r"): [0x0D]
        case UInt8(ascii: "e"): [0x1B]
        case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): [code]
        case UInt8(ascii: "N"): [0xC2, 0x85]
        case UInt8(ascii: "_"): [0xC2, 0xA0]
        case UInt8(ascii: "L"): [0xE2, 0x80, 0xA8]
        case UInt8(ascii: "P"): [0xE2, 0x80, 0xA9]
        default: nil
        }
        if let simple {
            for byte in simple { tape.storeByte(byte) }
            return
        }
        let digits = switch code {
        case UInt8(ascii: "x"): 2
        case UInt8(ascii: "u"): 4
        case UInt8(ascii: "U"): 8
        default: throw handOver("an unknown escape")
        }
        guard position + digits <= bytes.count,
              let value = UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<position + digits]), as: UTF8.self), radix: 16),
              let scalar = Unicode.Scalar(value)
        else {
            throw handOver("an escape that is not a character")
        }
        position += digits
        for byte in String(scalar).utf8 { tape.storeByte(byte) }
    }

    /// Closes a collection: its size, and a mapping's keys checked for duplicates
    /// (which `YAMLReader` reports).
    private mutating func closeCollection(_ index: Int, count: Int, isMapping: Bool, firstKey: Int) throws(HandOver) {
        tape.close(index, count: count)
        guard isMapping else { return }
        let mappingKeys = keys[firstKey...]
        let repeated = tape.bytes.withUnsafeBufferPointer { text in
            tape.entries.withUnsafeBufferPointer { entries in
                DuplicateKeys.firstOccurrences(count: mappingKeys.count) { first, second in
                    ManifestTape.sameText(text, entries[mappingKeys[firstKey + first]], entries[mappingKeys[firstKey + second]])
                } key: { position in
                    ManifestTape.text(text, of: entries[mappingKeys[firstKey + position]])
                }
            }
        }
        guard repeated.isEmpty else { throw handOver("a duplicate key") }
        keys.removeSubrange(firstKey...)
    }

    /// The null of an empty value, as libyaml reads an empty plain scalar.
    @discardableResult
    private mutating func emptyScalar(line: Int, parent: Int) -> Int {
        tape.appendScalar(offset: tape.bytes.count, length: 0, tag: nil, plain: true, line: line, parent: parent)
    }

    // MARK: - Lines and characters

    private mutating func skipSpaces() {
        while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
    }

    /// Whether the rest of the line is blank or a comment.
    private func atEndOfContent() -> Bool {
        guard let byte = bytes[safe: position] else { return true }
        return byte == UInt8(ascii: "\n") || (byte == UInt8(ascii: "#") && bytes[position - 1] == UInt8(ascii: " "))
    }

    /// Moves past the line's end, after blanks and a comment; anything else hands over.
    private mutating func endOfLine() throws(HandOver) {
        skipSpaces()
        guard atEndOfContent() else { throw handOver("more on a line than one value") }
        skipComment()
    }

    /// Moves past the rest of the line and its line break.
    private mutating func skipComment() {
        while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
        if position < bytes.count {
            position += 1
            line += 1
            lineBegin = position
        }
    }

    private func checkDepth() throws(HandOver) {
        guard blocks.count + flowDepth < Self.maximumDepth else { throw handOver("nesting deeper than \(Self.maximumDepth) levels") }
    }

    /// Hands over texts with characters that libyaml refuses, skips or reads as
    /// line breaks or blanks: control characters (tab and carriage return among
    /// them), DEL, C1 controls, U+2028, U+2029, a byte order mark, U+FFFE, U+FFFF.
    private func checkCharacters() throws(HandOver) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                guard byte >= 0x20 && byte != 0x7F || byte == UInt8(ascii: "\n") else {
                    throw HandOver(reason: "a tab, carriage return or control character", line: lineNumber(at: index))
                }
                index += 1
                continue
            }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            var value = UInt32(byte) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length { value = value << 6 | UInt32(bytes[index + offset] & 0x3F) }
            if (0x80...0x9F).contains(value) || value == 0x2028 || value == 0x2029 || value == 0xFEFF || value == 0xFFFE || value == 0xFFFF {
                throw HandOver(reason: "a character that YAML reads otherwise (U+\(String(value, radix: 16, uppercase: true)))", line: lineNumber(at: index))
            }
            index += length
        }
    }

    private func lineNumber(at index: Int) -> Int {
        UnsafeBufferPointer(rebasing: bytes[..<index]).lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1
    }

    private func handOver(_ reason: String) -> HandOver {
        HandOver(reason: reason, line: line)
    }

    private static func isBlankOrBreak(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n")
    }

    private static func isFlowIndicator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
            || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The byte at `index`, nil past the end.
    fileprivate subscript(safe index: Int) -> UInt8? {
        index < count ? self[index] : nil
    }
}

extension YAMLSubsetReader {
    /// Where two readings of one text differ, in words; nil when they are the
    /// same documents over the same tape (nodes, lines, text and retyped texts).
    static func firstDifference(_ subset: [DocumentParser.Document], _ libyaml: [DocumentParser.Document]) -> String? {
        guard subset.count == libyaml.count else { return "\(subset.count) documents against \(libyaml.count)" }
        for (mine, theirs) in zip(subset, libyaml) {
            guard mine.number == theirs.number, mine.root?.index == theirs.root?.index else {
                return "document \(theirs.number): root \(String(describing: mine.root?.index)) against \(String(describing: theirs.root?.index))"
            }
        }
        guard let mine = subset.lazy.compactMap(\.root).first?.tape, let theirs = libyaml.lazy.compactMap(\.root).first?.tape else { return nil }
        if let index = zip(mine.entries, theirs.entries).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            return "node \(index): \(mine.entries[index]) against \(theirs.entries[index])"
        }
        guard mine.entries.count == theirs.entries.count else { return "\(mine.entries.count) nodes against \(theirs.entries.count)" }
        guard mine.bytes == theirs.bytes else { return "the text of the strings differs" }
        guard mine.retypedTexts == theirs.retypedTexts else { return "retyped texts \(mine.retypedTexts) against \(theirs.retypedTexts)" }
        return nil
    }
}
