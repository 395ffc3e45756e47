import CYaml

/// Reads YAML from libyaml's event stream straight into `ManifestNode` trees,
/// resolving plain scalars as YAML 1.1 does (`PlainScalar`).
///
/// It reads and refuses what netpol read and refused through Yams' node tree,
/// with the same messages and lines: libyaml's errors (nesting deeper than
/// libyaml's limit of 1,000 levels among them), undefined aliases, duplicate
/// keys in one mapping, keys that are lists or objects, and alias expansions
/// that would make a small file into a huge document ("billion laughs"). As
/// before, a syntax error anywhere in a document is reported before a key or
/// size problem in the same document, and anchors live for the whole stream.
///
/// Differences from the Yams path, on inputs no manifest has: two equal keys
/// that are lists or objects are reported as keys that are not plain values
/// (Yams called them duplicates), and a scalar anchored as a value and later
/// aliased as a key keeps its YAML 1.1 type as a value (Yams turned it into a
/// string everywhere once it had been a key).
final class YAMLReader {
    private let input: UnsafeBufferPointer<UInt8>
    private let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    /// Nodes by anchor name; an alias shares its anchor's storage.
    private var anchors: [String: Built] = [:]
    /// Value nodes the stream may still expand to: twice its size, plus room
    /// for small inputs. A document without aliases never comes near it.
    private var budget: Int
    /// The first key or size problem of the document being read, thrown when
    /// the document ends unless a syntax error comes first.
    private var conversionFailure: ManifestError?
    /// The scalar keys of the mappings being read, innermost last.
    private var openKeys: [Key] = []
    /// The document being read, numbered from 1.
    private var documentNumber = 1

    /// A node as read, with what mapping keys and aliases need of it.
    private struct Built {
        var node: ManifestNode
        /// Value nodes it stands for once aliases are expanded: what the budget counts.
        var size: Int
        /// For a scalar: what makes it equal to another key.
        var identity: KeyIdentity?
    }

    /// A scalar as a key: its text and its tag (`!!str` for untagged and quoted ones).
    private struct KeyIdentity: Hashable {
        var text: String
        var tag: String
    }

    private struct Key {
        var identity: KeyIdentity
        var line: Int?
    }

    /// One libyaml event, copied out of libyaml's memory.
    private enum Event {
        case streamStart, streamEnd, documentStart, documentEnd, sequenceEnd, mappingEnd
        case alias(anchor: String, line: Int, column: Int)
        case scalar(text: String, tag: String?, plain: Bool, anchor: String?, line: Int)
        case sequenceStart(anchor: String?, line: Int)
        case mappingStart(anchor: String?, line: Int)
    }

    /// A reader of `input`, which must be valid UTF-8 and outlive the reader.
    init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
        budget = 2 * input.count + 1_000
        yaml_parser_initialize(parser)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, input.baseAddress, input.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// Every document of the stream. Throws at the first problem, naming its document.
    func documents() throws(ManifestError) -> [DocumentParser.Document] {
        _ = try next()
        var documents: [DocumentParser.Document] = []
        while case .documentStart = try next() {
            let root = try node(from: try next(), converted: true).node
            _ = try next()
            if var failure = conversionFailure {
                failure.document = documentNumber
                throw failure
            }
            // An empty document (`---` followed by nothing) is a null scalar.
            let isEmpty = if case .null = root.value { true } else { false }
            documents.append(DocumentParser.Document(number: documentNumber, root: isEmpty ? nil : root))
            documentNumber += 1
        }
        return documents
    }

    /// A list or mapping whose end event has not come yet.
    private struct OpenCollection {
        var anchor: String?
        var line: Int
        var converted: Bool
        var isMapping: Bool
        /// Where this mapping's keys start in `openKeys`.
        var firstKey: Int
        var size = 1
        var items: [ManifestNode] = []
        var pairs: [(key: String, value: ManifestNode)] = []
        /// A mapping's key whose value has not been read yet.
        var key: Built?

        /// Whether the converter reaches the next node: not a mapping key.
        var convertsNext: Bool { converted && !(isMapping && key == nil) }
    }

    /// The node that starts with `event`. `converted` is false inside mapping
    /// keys, which are read as text: they neither count against the budget nor
    /// report problems of their own. Open collections are kept in an array,
    /// not on the call stack: libyaml allows 1,000 levels, deeper than a
    /// thread's stack holds recursive calls in a debug build.
    private func node(from first: Event, converted rootConverted: Bool) throws(ManifestError) -> Built {
        var open: [OpenCollection] = []
        var event = first
        while true {
            let converted = open.last?.convertsNext ?? rootConverted
            let done: Built
            switch event {
            case .alias(let anchor, let line, let column):
                guard let target = anchors[anchor] else {
                    throw ManifestError(.syntax, "invalid YAML: found undefined alias at column \(column)", document: documentNumber, line: line)
                }
                if converted { spend(target.size) }
                done = target
            case .scalar(let text, let tag, let plain, let anchor, let line):
                if converted { spend(1) }
                // A key is text, and so is its anchor's value wherever it is aliased (as Yams had it).
                let value = converted ? PlainScalar.value(text: text, tag: tag, plain: plain) : .string(text)
                var node = ManifestNode(value: value, line: line)
                if tag == nil, plain, !value.isString { node.retypedText = text }
                let identity = KeyIdentity(text: text, tag: tag == nil || tag == "!" ? PlainScalar.stringTag : tag ?? "")
                done = register(Built(node: node, size: 1, identity: identity), as: anchor)
            case .sequenceStart(let anchor, let line), .mappingStart(let anchor, let line):
                if converted { spend(1) }
                let isMapping = if case .mappingStart = event { true } else { false }
                open.append(OpenCollection(anchor: anchor, line: line, converted: converted, isMapping: isMapping, firstKey: openKeys.count))
                event = try next()
                continue
            case .sequenceEnd, .mappingEnd:
                guard let collection = open.popLast() else { throw unexpected(event) }
                done = try close(collection)
            case .streamStart, .streamEnd, .documentStart, .documentEnd:
                throw unexpected(event)
            }
            guard !open.isEmpty else { return done }
            add(done, to: &open[open.count - 1])
            event = try next()
        }
    }

    /// Adds a finished node to the collection it is in: an item, a key, or a key's value.
    private func add(_ done: Built, to collection: inout OpenCollection) {
        guard collection.isMapping else {
            collection.items.append(done.node)
            collection.size += done.size
            return
        }
        guard let key = collection.key else {
            if let identity = done.identity {
                openKeys.append(Key(identity: identity, line: done.node.line))
            } else if collection.converted {
                fail(ManifestError(.decoding, "mapping keys must be plain values, not lists or objects", line: done.node.line))
            }
            collection.key = done
            return
        }
        // Mapping keys become strings, as in JSON (`80:` is the key "80").
        collection.pairs.append((key.identity?.text ?? "", done.node))
        collection.size += done.size
        collection.key = nil
    }

    private func close(_ collection: OpenCollection) throws(ManifestError) -> Built {
        let value: ManifestNode.Value
        if collection.isMapping {
            try checkDuplicates(openKeys[collection.firstKey...])
            openKeys.removeSubrange(collection.firstKey...)
            value = .map(collection.pairs)
        } else {
            value = .list(collection.items)
        }
        return register(Built(node: ManifestNode(value: value, line: collection.line), size: collection.size), as: collection.anchor)
    }

    private func unexpected(_ event: Event) -> ManifestError {
        ManifestError(.syntax, "invalid YAML: unexpected \(event) where a value belongs", document: documentNumber)
    }

    private func checkDuplicates(_ keys: ArraySlice<Key>) throws(ManifestError) {
        let repeated = DuplicateKeys.firstOccurrences(keys.lazy.map(\.identity)).map { keys[$0] }
        guard !repeated.isEmpty else { return }
        let sorted = repeated.sorted { $0.identity.text < $1.identity.text }
        throw ManifestError(
            .syntax, "duplicate keys in one mapping: \(sorted.map(\.identity.text).joined(separator: ", "))",
            document: documentNumber, line: sorted[0].line)
    }

    private func register(_ built: Built, as anchor: String?) -> Built {
        if let anchor { anchors[anchor] = built }
        return built
    }

    private func spend(_ nodes: Int) {
        budget -= nodes
        if budget < 0 {
            fail(ManifestError(.tooLarge, "document expands to more nodes than its size allows (recursive or exponential aliases?)"))
        }
    }

    /// Keeps the document's first key or size problem.
    private func fail(_ failure: ManifestError) {
        if conversionFailure == nil { conversionFailure = failure }
    }

    // MARK: - libyaml

    private func next() throws(ManifestError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw libyamlFailure() }
        defer { yaml_event_delete(&event) }
        let line = Int(event.start_mark.line) + 1
        switch event.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            return .scalar(
                text: String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self),
                tag: scalar.quoted_implicit == 1 ? PlainScalar.stringTag : Self.text(scalar.tag),
                plain: scalar.style == YAML_PLAIN_SCALAR_STYLE, anchor: Self.text(scalar.anchor), line: line)
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: Self.text(event.data.mapping_start.anchor), line: line)
        case YAML_MAPPING_END_EVENT:
            return .mappingEnd
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: Self.text(event.data.sequence_start.anchor), line: line)
        case YAML_SEQUENCE_END_EVENT:
            return .sequenceEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Self.text(event.data.alias.anchor) ?? "", line: line, column: Int(event.start_mark.column) + 1)
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_STREAM_START_EVENT:
            return .streamStart
        default:
            return .streamEnd
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml's error, worded as netpol worded Yams' version of it.
    private func libyamlFailure() -> ManifestError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "unknown error"
        switch state.error {
        case YAML_READER_ERROR:
            return ManifestError(.notText, "cannot read text: \(problem)", document: documentNumber, line: readerLine(byteOffset: state.problem_offset))
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR, YAML_COMPOSER_ERROR:
            let context = state.context.map { "\(String(cString: $0)): " } ?? ""
            return ManifestError(
                .syntax, "invalid YAML: \(context)\(problem) at column \(state.problem_mark.column + 1)",
                document: documentNumber, line: Int(state.problem_mark.line) + 1)
        case YAML_MEMORY_ERROR:
            return ManifestError(.syntax, "invalid YAML: Memory error", document: documentNumber)
        default:
            return ManifestError(.syntax, "invalid YAML: \(problem)", document: documentNumber)
        }
    }

    /// The line of a reader error, counted as netpol counted it through Yams:
    /// Yams turned libyaml's byte offset into a count of characters, and that
    /// count of bytes is searched for line breaks. Only differs from the true
    /// line after non-ASCII text, and stays as users have seen it.
    private func readerLine(byteOffset: Int) -> Int? {
        let text = String(decoding: input, as: UTF8.self)
        guard let index = text.utf8.index(text.utf8.startIndex, offsetBy: byteOffset, limitedBy: text.utf8.endIndex)?.samePosition(in: text)
        else { return nil }
        let characters = text.distance(from: text.startIndex, to: index)
        return text.utf8.prefix(characters).lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1
    }
}

extension ManifestNode.Value {
    var isString: Bool {
        if case .string = self { true } else { false }
    }
}
