/// Typed, path-aware access to a `ManifestNode`, following Go's JSON decoding into
/// Kubernetes types: `null` is the same as absent, a number is never a string, a
/// 32-bit field rejects what does not fit. Every failure names the field and line.
struct FieldReader {
    /// What every reader below one root shares: one reference to count per
    /// reader, rather than one for the tape, one for the path and one for the findings.
    private final class Context {
        let tape: ManifestTape
        /// The path of the node at `root`; the steps below it are worked out
        /// from the tape's parent links only when asked (an error, a retyped
        /// scalar), so that reading fields allocates no path.
        let basePath: FieldPath
        let root: Int
        /// Where to note retyped scalars that decoding accepts; nil when nobody asks.
        let findings: DecodingFindings?

        init(tape: ManifestTape, basePath: FieldPath, root: Int, findings: DecodingFindings?) {
            self.tape = tape
            self.basePath = basePath
            self.root = root
            self.findings = findings
        }
    }

    private let context: Context
    fileprivate let index: Int
    /// The node's position in its list, when it was read as a list item (a
    /// list of 10,000 items would otherwise be counted for each item's path).
    private let position: Int?

    init(node: ManifestNode, path: FieldPath) {
        self.init(context: Context(tape: node.tape, basePath: path, root: node.index, findings: nil), index: node.index, position: nil)
    }

    private init(context: Context, index: Int, position: Int?) {
        self.context = context
        self.index = index
        self.position = position
    }

    var node: ManifestNode { ManifestNode(tape: tape, index: index) }

    fileprivate var tape: ManifestTape { context.tape }

    fileprivate var kind: ManifestTape.Kind { tape.entries[index].kind }

    fileprivate var findings: DecodingFindings? { context.findings }

    /// The reader of another node of the same tape, below this one's root.
    fileprivate func reader(at index: Int, position: Int? = nil) -> FieldReader {
        FieldReader(context: context, index: index, position: position)
    }

    /// This reader, noting retyped scalars that decoding accepts in `findings`.
    fileprivate func noting(into findings: DecodingFindings) -> FieldReader {
        FieldReader(
            context: Context(tape: tape, basePath: context.basePath, root: context.root, findings: findings),
            index: index, position: position)
    }

    var path: FieldPath {
        let root = context.root
        guard root != index else { return context.basePath }
        guard let position else { return FieldPath(steps: context.basePath.steps + tape.steps(from: root, to: index)) }
        let parent = Int(tape.entries[index].parent)
        return FieldPath(steps: context.basePath.steps + tape.steps(from: root, to: parent) + [.index(position)])
    }

    func failure(_ message: String) -> ManifestError {
        ManifestError(.decoding, message, path: path, line: node.line)
    }

    private func mismatch(expected: String) -> ManifestError {
        var message = "expected \(expected), got \(node.summary)"
        switch (expected, kind) {
        case ("a string", .bool), ("a string", .int), ("a string", .float):
            message += "; quote it to keep it text"
        default:
            break
        }
        return failure(message)
    }

    func string() throws(ManifestError) -> String {
        guard kind == .string else { throw mismatch(expected: "a string") }
        return tape.string(at: index)
    }

    func bool() throws(ManifestError) -> Bool {
        guard kind == .bool else { throw mismatch(expected: "true or false") }
        return tape.entries[index].payload != 0
    }

    /// An `int32` field; a whole-valued float (`80.0`) is accepted as JSON allows.
    func int32() throws(ManifestError) -> Int {
        let entry = tape.entries[index]
        let number: Int
        switch entry.kind {
        case .int:
            number = Int(entry.payload)
        case .float:
            let value = Double(bitPattern: UInt64(bitPattern: entry.payload))
            guard value.rounded() == value, abs(value) < 1e10 else { throw mismatch(expected: "an integer") }
            number = Int(value)
        default:
            throw mismatch(expected: "an integer")
        }
        guard number >= Int(Int32.min), number <= Int(Int32.max) else {
            throw failure("\(number) does not fit a 32-bit integer")
        }
        return number
    }

    /// A port number or name. A plain YAML number written otherwise than its
    /// value (`0777` is 511, `0x50` is 80) is noted as retyped.
    func intOrString() throws(ManifestError) -> IntOrString {
        if kind == .string { return .string(tape.string(at: index)) }
        guard kind == .int else { throw mismatch(expected: "a port number or name") }
        let number = try int32()
        if let written = tape.retypedText(at: index), written != String(number) { noteRetyped() }
        return .int(number)
    }

    func list() throws(ManifestError) -> [FieldReader] {
        guard kind == .list else { throw mismatch(expected: "a list") }
        return tape.children(of: index).enumerated().map { reader(at: $1, position: $0) }
    }

    func list<T>(_ element: (FieldReader) throws(ManifestError) -> T) throws(ManifestError) -> [T] {
        guard kind == .list else { throw mismatch(expected: "a list") }
        let tape = tape
        var result: [T] = []
        result.reserveCapacity(Int(tape.entries[index].count))
        var child = index + 1
        let end = tape.next(after: index)
        while child < end {
            result.append(try element(reader(at: child, position: result.count)))
            child = tape.next(after: child)
        }
        return result
    }

    func object() throws(ManifestError) -> ObjectReader {
        guard kind == .map else { throw mismatch(expected: "an object") }
        return ObjectReader(map: self)
    }

    /// A `map[string]string` such as labels: every value must be a string. A
    /// null value is left out, as Go leaves it out; written as a plain `~`,
    /// `null` or nothing, it is noted as retyped.
    func stringMap() throws(ManifestError) -> [String: String] {
        guard kind == .map else { throw mismatch(expected: "an object of strings") }
        let tape = tape
        var result: [String: String] = [:]
        result.reserveCapacity(Int(tape.entries[index].count))
        var key = index + 1
        let end = tape.next(after: index)
        while key < end {
            let value = key + 1
            switch tape.entries[value].kind {
            case .null:
                reader(at: value).noteRetyped()
            case .string:
                result[tape.string(at: key)] = tape.string(at: value)
            default:
                _ = try reader(at: value).string()
            }
            key = tape.next(after: value)
        }
        return result
    }

    /// Notes this node as a retyped scalar, if YAML retyped it and someone asks.
    fileprivate func noteRetyped() {
        guard let findings, let written = tape.retypedText(at: index) else { return }
        findings.retypedScalars.append(RetypedScalar(path: path, text: written, readAs: node.reading, line: node.line))
    }
}

/// The fields of one JSON object. Strict decoding asks which keys no reader
/// asked for (typos such as `podSelecter`).
struct ObjectReader {
    /// The object's own node.
    private let map: FieldReader

    fileprivate init(map: FieldReader) {
        self.map = map
    }

    var path: FieldPath { map.path }

    /// This object, noting retyped scalars that decoding accepts in `findings`.
    func noting(into findings: DecodingFindings) -> ObjectReader {
        ObjectReader(map: map.noting(into: findings))
    }

    /// The field, or nil when it is absent or `null`.
    func field(_ key: String) -> FieldReader? {
        guard let reader = present(key) else { return nil }
        if reader.kind == .null { return nil }
        return reader
    }

    /// The field as written, `null` included. A repeated key (JSON from the API
    /// may repeat one; YAML refuses it) reads as its last value.
    private func present(_ key: String) -> FieldReader? {
        var key = key
        let tape = map.tape
        let index = map.index
        let found = key.withUTF8 { utf8 in tape.lastValue(of: utf8, inMap: index) }
        return found.map { map.reader(at: $0) }
    }

    /// A string field; absent or `null` is "". A plain `~`, `null` or empty
    /// scalar is noted as retyped: YAML read as absent what may have been meant as text.
    func string(_ key: String) throws(ManifestError) -> String {
        try optionalString(key) ?? ""
    }

    /// A string field that may be absent (nil), noted as `string(_:)` notes it.
    func optionalString(_ key: String) throws(ManifestError) -> String? {
        guard let reader = present(key) else { return nil }
        if reader.kind == .null {
            reader.noteRetyped()
            return nil
        }
        return try reader.string()
    }

    func stringMap(_ key: String) throws(ManifestError) -> [String: String] {
        try field(key)?.stringMap() ?? [:]
    }

    func list<T>(_ key: String, _ element: (FieldReader) throws(ManifestError) -> T) throws(ManifestError) -> [T] {
        try field(key)?.list(element) ?? []
    }

    /// Keys present here that are not in `known`, as paths, in document order.
    func unknownFields(known: Set<String>) -> [FieldPath] {
        let tape = map.tape
        var unknown: [FieldPath] = []
        var key = map.index + 1
        let end = tape.next(after: map.index)
        while key < end {
            let name = tape.string(at: key)
            if !known.contains(name) { unknown.append(path.child(name)) }
            key = tape.next(after: key + 1)
        }
        return unknown
    }
}

/// What decoding one object finds beyond the object itself: fields strict
/// decoding does not know, scalars YAML retyped, and what the API server would
/// refuse in how the object was written.
final class DecodingFindings {
    var unknownFields: [FieldPath] = []
    var retypedScalars: [RetypedScalar] = []
    /// Refusals about what was written that the decoded object cannot show.
    var writtenProblems: [FieldProblem] = []
}

/// A plain (unquoted) YAML scalar in a field that holds text, which YAML 1.1
/// read as something else and decoding accepted as that: `tier: ~` in labels or
/// matchLabels (null: the entry is dropped), `namespace: null` (absent, so
/// `default`), `port: 0777` (the number 511). A retyped scalar that decoding
/// refuses (`enabled: yes` as a label value) is an error instead, whose message
/// ends "quote it to keep it text". JSON never retypes: its `null` and numbers
/// are what they say.
public struct RetypedScalar: Hashable, Sendable, CustomStringConvertible {
    /// Path from the object's root, as in `LoadedObject.unknownFields`.
    public var path: FieldPath
    /// The scalar as written: `~`, `0777`, or "" for nothing at all.
    public var text: String
    /// What YAML 1.1 read it as: `null`, `511`.
    public var readAs: String
    /// 1-based line in the file.
    public var line: Int?

    public init(path: FieldPath, text: String, readAs: String, line: Int? = nil) {
        self.path = path
        self.text = text
        self.readAs = readAs
        self.line = line
    }

    /// `spec.podSelector.matchLabels.tier: ~ reads as null (line 9)`.
    public var description: String {
        "\(path): \(text.isEmpty ? "(nothing)" : text) reads as \(readAs)" + (line.map { " (line \($0))" } ?? "")
    }
}
