/// Typed, path-aware access to a `ManifestNode`, following Go's JSON decoding into
/// Kubernetes types: `null` is the same as absent, a number is never a string, a
/// 32-bit field rejects what does not fit. Every failure names the field and line.
struct FieldReader {
    let node: ManifestNode
    let path: FieldPath

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

    func intOrString() throws(ManifestError) -> IntOrString {
        if case .string(let text) = node.value { return .string(text) }
        guard case .int = node.value else { throw mismatch(expected: "a port number or name") }
        return .int(try int32())
    }

    func list() throws(ManifestError) -> [FieldReader] {
        guard case .list(let items) = node.value else { throw mismatch(expected: "a list") }
        return items.enumerated().map { FieldReader(node: $1, path: path.index($0)) }
    }

    func list<T>(_ element: (FieldReader) throws(ManifestError) -> T) throws(ManifestError) -> [T] {
        var result: [T] = []
        for item in try list() { result.append(try element(item)) }
        return result
    }

    func object() throws(ManifestError) -> ObjectReader {
        guard case .map(let pairs) = node.value else { throw mismatch(expected: "an object") }
        return ObjectReader(pairs: pairs, path: path)
    }

    /// A `map[string]string` such as labels: every value must be a string.
    func stringMap() throws(ManifestError) -> [String: String] {
        guard case .map(let pairs) = node.value else { throw mismatch(expected: "an object of strings") }
        var result: [String: String] = [:]
        for (key, value) in pairs {
            if case .null = value.value { continue }
            result[key] = try FieldReader(node: value, path: path.child(key)).string()
        }
        return result
    }
}

/// The fields of one JSON object. Remembers which keys were read, so that strict
/// decoding can report the ones no reader asked for (typos such as `podSelecter`).
struct ObjectReader {
    private var fields: [String: ManifestNode] = [:]
    private let keys: [String]
    let path: FieldPath

    init(pairs: [(key: String, value: ManifestNode)], path: FieldPath) {
        self.path = path
        self.keys = pairs.map(\.key)
        for (key, value) in pairs { fields[key] = value }
    }

    /// The field, or nil when it is absent or `null`.
    func field(_ key: String) -> FieldReader? {
        guard let node = fields[key] else { return nil }
        if case .null = node.value { return nil }
        return FieldReader(node: node, path: path.child(key))
    }

    func string(_ key: String) throws(ManifestError) -> String {
        try field(key)?.string() ?? ""
    }

    func stringMap(_ key: String) throws(ManifestError) -> [String: String] {
        try field(key)?.stringMap() ?? [:]
    }

    func list<T>(_ key: String, _ element: (FieldReader) throws(ManifestError) -> T) throws(ManifestError) -> [T] {
        try field(key)?.list(element) ?? []
    }

    /// Keys present here that are not in `known`, as paths, in document order.
    func unknownFields(known: Set<String>) -> [FieldPath] {
        keys.filter { !known.contains($0) }.map { path.child($0) }
    }
}
