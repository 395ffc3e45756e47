import Foundation

/// Every node of one parsed text in one flat array, each node followed by its
/// children (a mapping's keys and values alternate), and the text of its
/// strings in one byte buffer.
///
/// A tree of nodes, each holding its own arrays and strings, cost more to
/// build, copy, walk and free than reading the text itself: here a parse makes
/// two growing arrays, a string becomes a `String` only when decoding asks for
/// it, keys are compared as bytes, and a node knows its parent, so that a
/// field path is worked out only for an error.
final class ManifestTape: Sendable {
    enum Kind: UInt8 {
        case null, bool, int, float, string, list, map
    }

    struct Entry: Equatable {
        var kind: Kind
        /// The text was a plain YAML scalar that YAML 1.1 read as something else
        /// than a string; its text is in `retypedTexts`.
        var retyped = false
        /// 1-based source line.
        var line: Int32
        /// Index of the parent node; -1 for a root.
        var parent: Int32
        /// A list's items or a map's pairs; a string's length in bytes.
        var count: UInt32 = 0
        /// A bool (0 or 1), an int, a float's bit pattern, a string's offset
        /// in `bytes`, or for a list or map the index just past its last descendant.
        var payload: Int64 = 0
    }

    /// A retyped scalar's text as written (`~`, `0777`), by node index.
    struct RetypedText: Equatable {
        var index: Int
        var offset: Int
        var length: Int
    }

    let entries: [Entry]
    let bytes: [UInt8]
    /// In index order.
    let retypedTexts: [RetypedText]

    init(entries: [Entry], bytes: [UInt8], retypedTexts: [RetypedText]) {
        self.entries = entries
        self.bytes = bytes
        self.retypedTexts = retypedTexts
    }

    /// The index just past the node at `index` and its descendants: its next sibling.
    func next(after index: Int) -> Int {
        let entry = entries[index]
        return entry.kind == .list || entry.kind == .map ? Int(entry.payload) : index + 1
    }

    func string(at index: Int) -> String {
        let entry = entries[index]
        return bytes.withUnsafeBufferPointer { buffer in Self.text(buffer, of: entry) }
    }

    /// The text of the string `entry`.
    static func text(_ bytes: UnsafeBufferPointer<UInt8>, of entry: Entry) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(entry.payload)..<Int(entry.payload) + Int(entry.count)]), as: UTF8.self)
    }

    /// Whether two string entries have the same text.
    static func sameText(_ bytes: UnsafeBufferPointer<UInt8>, _ one: Entry, _ other: Entry) -> Bool {
        one.count == other.count
            && same(bytes, at: Int(one.payload), UnsafeBufferPointer(rebasing: bytes[Int(other.payload)..<Int(other.payload) + Int(other.count)]))
    }

    /// Whether `bytes` hold `utf8` at `offset` (which the caller knows is in range).
    static func same(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, let other = utf8.baseAddress else { return utf8.isEmpty }
        return memcmp(base + offset, other, utf8.count) == 0
    }

    /// The index of the value of the last key `utf8` in the map at `index`.
    func lastValue(of utf8: UnsafeBufferPointer<UInt8>, inMap index: Int) -> Int? {
        entries.withUnsafeBufferPointer { entries in
            bytes.withUnsafeBufferPointer { bytes in
                var found: Int?
                var key = index + 1
                let end = Int(entries[index].payload)
                while key < end {
                    let entry = entries[key]
                    if entry.kind == .string, Int(entry.count) == utf8.count, Self.same(bytes, at: Int(entry.payload), utf8) {
                        found = key + 1
                    }
                    let value = entries[key + 1]
                    key = value.kind == .list || value.kind == .map ? Int(value.payload) : key + 2
                }
                return found
            }
        }
    }

    /// The children of the list or map at `index` (keys and values alternate in a map).
    func children(of index: Int) -> some Sequence<Int> {
        let end = Int(entries[index].payload)
        return sequence(first: index + 1) { [self] child in next(after: child) }.prefix { $0 < end }
    }

    func retypedText(at index: Int) -> String? {
        guard entries[index].retyped else { return nil }
        var low = 0
        var high = retypedTexts.count
        while low < high {
            let middle = (low + high) / 2
            if retypedTexts[middle].index < index { low = middle + 1 } else { high = middle }
        }
        guard low < retypedTexts.count, retypedTexts[low].index == index else { return nil }
        let text = retypedTexts[low]
        return bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[text.offset..<text.offset + text.length]), as: UTF8.self)
        }
    }

    /// The steps from the node at `ancestor` down to the node at `index`.
    func steps(from ancestor: Int, to index: Int) -> [FieldPath.Step] {
        var steps: [FieldPath.Step] = []
        var child = index
        while child != ancestor, entries[child].parent >= 0 {
            let parent = Int(entries[child].parent)
            if entries[parent].kind == .map {
                steps.append(.key(string(at: child - 1)))
            } else {
                steps.append(.index(children(of: parent).prefix { $0 < child }.reduce(0) { count, _ in count + 1 }))
            }
            child = parent
        }
        return steps.reversed()
    }
}

/// Builds a `ManifestTape`: the parsers append nodes in document order.
struct ManifestTapeBuilder {
    private(set) var entries: [ManifestTape.Entry] = []
    private(set) var bytes: [UInt8] = []
    private var retypedTexts: [ManifestTape.RetypedText] = []

    init(expectedBytes: Int) {
        bytes.reserveCapacity(expectedBytes)
        entries.reserveCapacity(expectedBytes / 8)
    }

    var count: Int { entries.count }

    func entry(_ index: Int) -> ManifestTape.Entry { entries[index] }

    /// Appends a scalar or the start of a list or map; returns its index.
    @discardableResult
    mutating func append(_ kind: ManifestTape.Kind, payload: Int64 = 0, line: Int, parent: Int) -> Int {
        entries.append(ManifestTape.Entry(kind: kind, line: Int32(truncatingIfNeeded: line), parent: Int32(parent), payload: payload))
        return entries.count - 1
    }

    /// Appends a string node whose text is `utf8`.
    @discardableResult
    mutating func appendString(_ utf8: UnsafeBufferPointer<UInt8>, line: Int, parent: Int) -> Int {
        let offset = storeText(utf8)
        return appendString(offset: offset, length: utf8.count, line: line, parent: parent)
    }

    /// Appends a string node whose text is already in `bytes`.
    @discardableResult
    mutating func appendString(offset: Int, length: Int, line: Int, parent: Int) -> Int {
        var entry = ManifestTape.Entry(kind: .string, line: Int32(truncatingIfNeeded: line), parent: Int32(parent), payload: Int64(offset))
        entry.count = UInt32(length)
        entries.append(entry)
        return entries.count - 1
    }

    /// Copies `utf8` into `bytes`; returns its offset. Text stored in several
    /// calls in a row is one run of bytes.
    @discardableResult
    mutating func storeText(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        let offset = bytes.count
        bytes.append(contentsOf: utf8)
        return offset
    }

    mutating func storeByte(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends a YAML scalar whose text is already in `bytes` at `offset`, typed as
    /// YAML 1.1 types it (`PlainScalar`): with no tag (nil), a plain scalar may be
    /// null, a boolean or a number, and remembers its text when it is one of them.
    /// Both YAML readers type scalars here, so that they cannot differ.
    @discardableResult
    mutating func appendScalar(offset: Int, length: Int, tag: String?, plain: Bool, line: Int, parent: Int) -> Int {
        let resolves = bytes.withUnsafeBufferPointer { buffer in
            PlainScalar.mayResolve(UnsafeBufferPointer(rebasing: buffer[offset..<offset + length]))
        }
        if tag == nil, !(plain && resolves) {
            return appendString(offset: offset, length: length, line: line, parent: parent)
        }
        let text = bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[offset..<offset + length]), as: UTF8.self)
        }
        let value = PlainScalar.value(text: text, tag: tag, plain: plain)
        let index: Int
        switch value {
        case .null: index = append(.null, line: line, parent: parent)
        case .bool(let flag): index = append(.bool, payload: flag ? 1 : 0, line: line, parent: parent)
        case .int(let number): index = append(.int, payload: Int64(number), line: line, parent: parent)
        case .float(let number): index = append(.float, payload: Int64(bitPattern: number.bitPattern), line: line, parent: parent)
        case .string, .list, .map: return appendString(offset: offset, length: length, line: line, parent: parent)
        }
        if tag == nil, plain { markRetyped(index, offset: offset, length: length) }
        return index
    }

    /// Marks the scalar at `index` as retyped, written as the text at `offset`.
    mutating func markRetyped(_ index: Int, offset: Int, length: Int) {
        entries[index].retyped = true
        retypedTexts.append(ManifestTape.RetypedText(index: index, offset: offset, length: length))
    }

    /// Ends the list or map at `index` after its last descendant, with `count` items or pairs.
    mutating func close(_ index: Int, count: Int) {
        entries[index].payload = Int64(entries.count)
        entries[index].count = UInt32(count)
    }

    /// Appends a copy of the node at `index` and its descendants (what a YAML
    /// alias stands for) under `parent`; strings share their text.
    mutating func copy(_ index: Int, parent: Int) {
        let end = entries[index].kind == .list || entries[index].kind == .map ? Int(entries[index].payload) : index + 1
        let shift = entries.count - index
        var retypedFrom = retypedTexts.count
        if entries[index..<end].contains(where: \.retyped) {
            retypedFrom = retypedTexts.firstIndex { $0.index >= index } ?? retypedTexts.count
        }
        for source in index..<end {
            var entry = entries[source]
            entry.parent = source == index ? Int32(parent) : entry.parent + Int32(shift)
            if entry.kind == .list || entry.kind == .map { entry.payload += Int64(shift) }
            entries.append(entry)
        }
        var position = retypedFrom
        while position < retypedTexts.count, retypedTexts[position].index < end {
            var text = retypedTexts[position]
            text.index += shift
            retypedTexts.append(text)
            position += 1
        }
    }

    func finish() -> ManifestTape {
        ManifestTape(entries: entries, bytes: bytes, retypedTexts: retypedTexts)
    }
}

/// One node of a parsed YAML or JSON document, with its types resolved the way
/// Kubernetes resolves them (YAML 1.1 through `sigs.k8s.io/yaml`: `yes` and `on`
/// are booleans, `0x1F` is a number, quoted text is always a string): a place
/// in a `ManifestTape`.
struct ManifestNode: Sendable {
    enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case list([ManifestNode])
        case map([(key: String, value: ManifestNode)])
    }

    let tape: ManifestTape
    let index: Int

    var kind: ManifestTape.Kind { tape.entries[index].kind }

    /// The value, its children as nodes of their own.
    var value: Value {
        let entry = tape.entries[index]
        switch entry.kind {
        case .null: return .null
        case .bool: return .bool(entry.payload != 0)
        case .int: return .int(Int(entry.payload))
        case .float: return .float(Double(bitPattern: UInt64(bitPattern: entry.payload)))
        case .string: return .string(tape.string(at: index))
        case .list: return .list(tape.children(of: index).map { ManifestNode(tape: tape, index: $0) })
        case .map:
            let children = Array(tape.children(of: index))
            return .map(stride(from: 0, to: children.count - 1, by: 2).map { position in
                (key: tape.string(at: children[position]), value: ManifestNode(tape: tape, index: children[position + 1]))
            })
        }
    }

    /// 1-based source line.
    var line: Int? { Int(tape.entries[index].line) }

    /// The text as written, for a plain (unquoted) YAML scalar whose YAML 1.1
    /// reading is not a string (`yes`, `~`, `0777`, `1.10`); nil otherwise, and
    /// always nil for JSON, where an unquoted token is never text.
    var retypedText: String? { tape.retypedText(at: index) }

    /// What the value is, in words for error messages: `a string "abc"`, `a list`.
    var summary: String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return "a boolean (\(flag))"
        case .int(let number): return "a number (\(number))"
        case .float(let number): return "a number (\(number))"
        case .string(let text): return "a string (\(goQuoted(String(text.prefix(40)))))"
        case .list: return "a list"
        case .map: return "an object"
        }
    }

    /// The value as YAML 1.1 read it, in words short enough for a lint line:
    /// `null`, `true`, `511`, `1.1`.
    var reading: String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return String(flag)
        case .int(let number): return String(number)
        case .float(let number): return String(number)
        case .string(let text): return text
        case .list: return "a list"
        case .map: return "an object"
        }
    }
}
