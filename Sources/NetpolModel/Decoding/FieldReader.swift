/// Typed, path-aware access to a `ManifestNode`, following Go's JSON decoding into
/// Kubernetes types: `null` is the same as absent, a number is never a string, a
/// 32-bit field rejects what does not fit. Every failure names the field and line.
struct FieldReader {
    let node: ManifestNode
    /// Where the node sits, kept as its parent's path and its own step and
    /// joined only when asked (an error, a nested object or list), so that
    /// reading a scalar field allocates no path.
    private let parentPath: FieldPath
    private let step: FieldPath.Step?
    /// Where to note retyped scalars that decoding accepts; nil when nobody asks.
    fileprivate let findings: DecodingFindings?

    init(node: ManifestNode, path: FieldPath) {
        self.init(node: node, parentPath: path, step: nil, findings: nil)
    }

    fileprivate init(node: ManifestNode, parentPath: FieldPath, step: FieldPath.Step?, findings: DecodingFindings?) {
        self.node = node
        self.parentPath = parentPath
        self.step = step
        self.findings = findings
    }

    var path: FieldPath {
        step.map { parentPath.appending(step: $0) } ?? parentPath
    }

    func failure(_ message: String) -> ManifestError {
        ManifestError(.decoding, message, path: path, line: node.line)
    }

    private func mismatch(expected: String) -> ManifestError {
        var message = "expected \(expected), got \(node.summary)"
        switch (expected, node.value) {
        case ("a string", .bool), ("a string", .int), ("a string", .float):
            message += "; quote it to keep it text"
        default:
            break
        }
        return failure(message)
    }

    func string() throws(ManifestError) -> String {
        guard case .string(let text) = node.value else { throw mismatch(expected: "a string") }
        return text
    }

    func bool() throws(ManifestError) -> Bool {
        guard case .bool(let flag) = node.value else { throw mismatch(expected: "true or false") }
        return flag
    }

    /// An `int32` field; a whole-valued float (`80.0`) is accepted as JSON allows.
    func int32() throws(ManifestError) -> Int {
        let number: Int
        switch node.value {
        case .int(let value):
            number = value
        case .float(let value) where value.rounded() == value && abs(value) < 1e10:
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
        if case .string(let text) = node.value { return .string(text) }
        guard case .int = node.value else { throw mismatch(expected: "a port number or name") }
        let number = try int32()
        if let written = node.retypedText, written != String(number) { noteRetyped() }
        return .int(number)
    }

    func list() throws(ManifestError) -> [FieldReader] {
        guard case .list(let items) = node.value else { throw mismatch(expected: "a list") }
        let path = path
        return items.enumerated().map { FieldReader(node: $1, parentPath: path, step: .index($0), findings: findings) }
    }

    func list<T>(_ element: (FieldReader) throws(ManifestError) -> T) throws(ManifestError) -> [T] {
        var result: [T] = []
        for item in try list() { result.append(try element(item)) }
        return result
    }

    func object() throws(ManifestError) -> ObjectReader {
        guard case .map(let pairs) = node.value else { throw mismatch(expected: "an object") }
        return ObjectReader(pairs: pairs, path: path, findings: findings)
    }

    /// A `map[string]string` such as labels: every value must be a string. A
    /// null value is left out, as Go leaves it out; written as a plain `~`,
    /// `null` or nothing, it is noted as retyped.
    func stringMap() throws(ManifestError) -> [String: String] {
        guard case .map(let pairs) = node.value else { throw mismatch(expected: "an object of strings") }
        var result: [String: String] = [:]
        let path = path
        for (key, value) in pairs {
            let entry = FieldReader(node: value, parentPath: path, step: .key(key), findings: findings)
            if case .null = value.value {
                entry.noteRetyped()
                continue
            }
            result[key] = try entry.string()
        }
        return result
    }

    /// Notes this node as a retyped scalar, if YAML retyped it and someone asks.
    fileprivate func noteRetyped() {
        guard let findings, let written = node.retypedText else { return }
        findings.retypedScalars.append(RetypedScalar(path: path, text: written, readAs: node.reading, line: node.line))
    }
}

/// The fields of one JSON object. Strict decoding asks which keys no reader
/// asked for (typos such as `podSelecter`).
struct ObjectReader {
    private let pairs: [(key: String, value: ManifestNode)]
    let path: FieldPath
    private let findings: DecodingFindings?

    init(pairs: [(key: String, value: ManifestNode)], path: FieldPath, findings: DecodingFindings? = nil) {
        self.pairs = pairs
        self.path = path
        self.findings = findings
    }

    /// This object, noting retyped scalars that decoding accepts in `findings`.
    func noting(into findings: DecodingFindings) -> ObjectReader {
        ObjectReader(pairs: pairs, path: path, findings: findings)
    }

    /// The field, or nil when it is absent or `null`.
    func field(_ key: String) -> FieldReader? {
        guard let reader = present(key) else { return nil }
        if case .null = reader.node.value { return nil }
        return reader
    }

    /// The field as written, `null` included. A repeated key (JSON from the API
    /// may repeat one; YAML refuses it) reads as its last value.
    private func present(_ key: String) -> FieldReader? {
        guard let index = pairs.lastIndex(where: { $0.key == key }) else { return nil }
        return FieldReader(node: pairs[index].value, parentPath: path, step: .key(key), findings: findings)
    }

    /// A string field; absent or `null` is "". A plain `~`, `null` or empty
    /// scalar is noted as retyped: YAML read as absent what may have been meant as text.
    func string(_ key: String) throws(ManifestError) -> String {
        try optionalString(key) ?? ""
    }

    /// A string field that may be absent (nil), noted as `string(_:)` notes it.
    func optionalString(_ key: String) throws(ManifestError) -> String? {
        guard let reader = present(key) else { return nil }
        if case .null = reader.node.value {
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
        pairs.filter { !known.contains($0.key) }.map { path.child($0.key) }
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
