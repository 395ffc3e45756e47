import CYaml

/// Reads YAML from libyaml's event stream straight into a `ManifestTape` of nodes,
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
    // The mutable state below is only ever touched by this reader's own
    // methods, one at a time: checking each access at run time cost a tenth
    // of the reading.
    /// The event being read; its text lives in libyaml's memory until the next one.
    private let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
    @exclusivity(unchecked) private var holdsEvent = false
    /// Every document's nodes, in one tape: aliases may refer across documents.
    @exclusivity(unchecked) private var tape: ManifestTapeBuilder
    /// Nodes by anchor name; an alias is a copy of its anchor's nodes.
    @exclusivity(unchecked) private var anchors: [String: Built] = [:]
    /// Value nodes the stream may still expand to: twice its size, plus room
    /// for small inputs. A document without aliases never comes near it.
    @exclusivity(unchecked) private var budget: Int
    /// The first key or size problem of the document being read, thrown when
    /// the document ends unless a syntax error comes first.
    @exclusivity(unchecked) private var conversionFailure: ManifestError?
    /// The scalar keys of the mappings being read, innermost last.
    @exclusivity(unchecked) private var openKeys: [Key] = []
    /// The document being read, numbered from 1.
    @exclusivity(unchecked) private var documentNumber = 1

    /// A node as read, with what mapping keys and aliases need of it.
    private struct Built {
        /// Its index in the tape.
        var index: Int
        var line: Int
        /// Value nodes it stands for once aliases are expanded: what the budget counts.
        var size: Int
        /// For a scalar: what makes it equal to another key.
        var identity: KeyIdentity?
    }

    /// A scalar as a key: its text (in the tape's bytes) and its tag (`!!str`
    /// for untagged and quoted ones).
    private struct KeyIdentity {
        var offset: Int
        var length: Int
        var tag: String
    }

    private struct Key {
        var identity: KeyIdentity
        var line: Int
    }

    /// A reader of `input`, which must be valid UTF-8 and outlive the reader.
    init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
        budget = 2 * input.count + 1_000
        tape = ManifestTapeBuilder(expectedBytes: input.count)
        yaml_parser_initialize(parser)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, input.baseAddress, input.count)
    }

    deinit {
        if holdsEvent { yaml_event_delete(event) }
        event.deallocate()
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// Every document of the stream. Throws at the first problem, naming its document.
    func documents() throws(ManifestError) -> [DocumentParser.Document] {
        try advance()
        var roots: [Int] = []
        while true {
            try advance()
            guard event.pointee.type == YAML_DOCUMENT_START_EVENT else { break }
            try advance()
            let root = try node(converted: true, parent: -1).index
            try advance()
            if var failure = conversionFailure {
                failure.document = documentNumber
                throw failure
            }
            roots.append(root)
            documentNumber += 1
        }
        let tape = tape.finish()
        return roots.enumerated().map { offset, root in
            // An empty document (`---` followed by nothing) is a null scalar.
            DocumentParser.Document(number: offset + 1, root: tape.entries[root].kind == .null ? nil : ManifestNode(tape: tape, index: root))
        }
    }

    /// A list or mapping whose end event has not come yet.
    private struct OpenCollection {
        var anchor: String?
        var index: Int
        var line: Int
        var converted: Bool
        var isMapping: Bool
        /// Where this mapping's keys start in `openKeys`.
        var firstKey: Int
        var size = 1
        /// Items of a list, pairs of a mapping.
        var count = 0
        /// A mapping whose next node is a key.
        var expectsKey: Bool

        /// Whether the converter reaches the next node: not a mapping key.
        var convertsNext: Bool { converted && !expectsKey }
    }

    /// The node that starts with the current event, appended to the tape under
    /// `parent`. `converted` is false inside mapping keys, which are read as
    /// text: they neither count against the budget nor report problems of their
    /// own. Open collections are kept in an array, not on the call stack:
    /// libyaml allows 1,000 levels, deeper than a thread's stack holds
    /// recursive calls in a debug build.
    private func node(converted rootConverted: Bool, parent rootParent: Int) throws(ManifestError) -> Built {
        var open: [OpenCollection] = []
        while true {
            let converted = open.last?.convertsNext ?? rootConverted
            let parent = open.last?.index ?? rootParent
            let line = Int(event.pointee.start_mark.line) + 1
            let done: Built
            switch event.pointee.type {
            case YAML_ALIAS_EVENT:
                let anchor = Self.text(event.pointee.data.alias.anchor) ?? ""
                guard let target = anchors[anchor] else {
                    throw ManifestError(
                        .syntax, "invalid YAML: found undefined alias at column \(event.pointee.start_mark.column + 1)",
                        document: documentNumber, line: line)
                }
                if converted { spend(target.size) }
                done = alias(target, parent: parent, converted: converted, asKey: open.last?.expectsKey ?? false)
            case YAML_SCALAR_EVENT:
                if converted { spend(1) }
                done = scalar(converted: converted, parent: parent, line: line)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                if converted { spend(1) }
                let isMapping = event.pointee.type == YAML_MAPPING_START_EVENT
                let anchor = Self.text(isMapping ? event.pointee.data.mapping_start.anchor : event.pointee.data.sequence_start.anchor)
                let index = tape.append(isMapping ? .map : .list, line: line, parent: parent)
                open.append(OpenCollection(
                    anchor: anchor, index: index, line: line, converted: converted, isMapping: isMapping,
                    firstKey: openKeys.count, expectsKey: isMapping))
                try advance()
                continue
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let collection = open.popLast() else { throw unexpected() }
                done = try close(collection)
            default:
                throw unexpected()
            }
            guard !open.isEmpty else { return done }
            add(done, to: &open[open.count - 1])
            try advance()
        }
    }

    /// The current event's scalar, appended to the tape.
    private func scalar(converted: Bool, parent: Int, line: Int) -> Built {
        let scalar = event.pointee.data.scalar
        let text = UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length))
        let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE
        // A quoted (or block) scalar without a tag is text: libyaml marks it so.
        let quotedText = scalar.quoted_implicit == 1
        let tag = quotedText ? nil : Self.text(scalar.tag)
        let offset = tape.storeText(text)
        // A key is text, and so is its anchor's value wherever it is aliased (as Yams had it).
        let index = if !converted || quotedText {
            tape.appendString(offset: offset, length: text.count, line: line, parent: parent)
        } else {
            tape.appendScalar(offset: offset, length: text.count, tag: tag, plain: plain, line: line, parent: parent)
        }
        let identityTag = tag.flatMap { $0 == "!" ? nil : $0 } ?? PlainScalar.stringTag
        let identity = KeyIdentity(offset: offset, length: text.count, tag: identityTag)
        return register(Built(index: index, line: line, size: 1, identity: identity), as: Self.text(scalar.anchor))
    }

    /// What an alias stands for, appended to the tape: a copy of its anchor's
    /// nodes, or as a key its text. Inside keys, and once the document has
    /// failed, a null stands in: those nodes are never decoded, and copying
    /// them could take as long as the aliases expand.
    private func alias(_ target: Built, parent: Int, converted: Bool, asKey: Bool) -> Built {
        var placed = target
        placed.index = tape.count
        if asKey, let identity = target.identity {
            tape.appendString(offset: identity.offset, length: identity.length, line: target.line, parent: parent)
        } else if converted, conversionFailure == nil {
            tape.copy(target.index, parent: parent)
        } else {
            tape.append(.null, line: target.line, parent: parent)
        }
        return placed
    }

    /// Adds a finished node to the collection it is in: an item, a key, or a key's value.
    private func add(_ done: Built, to collection: inout OpenCollection) {
        guard collection.isMapping else {
            collection.count += 1
            collection.size += done.size
            return
        }
        guard !collection.expectsKey else {
            if let identity = done.identity {
                openKeys.append(Key(identity: identity, line: done.line))
            } else if collection.converted {
                fail(ManifestError(.decoding, "mapping keys must be plain values, not lists or objects", line: done.line))
            }
            collection.expectsKey = false
            return
        }
        collection.count += 1
        collection.size += done.size
        collection.expectsKey = true
    }

    private func close(_ collection: OpenCollection) throws(ManifestError) -> Built {
        if collection.isMapping {
            try checkDuplicates(openKeys[collection.firstKey...])
            openKeys.removeSubrange(collection.firstKey...)
        }
        tape.close(collection.index, count: collection.count)
        return register(Built(index: collection.index, line: collection.line, size: collection.size), as: collection.anchor)
    }

    private func unexpected() -> ManifestError {
        let name = switch event.pointee.type {
        case YAML_STREAM_START_EVENT: "streamStart"
        case YAML_STREAM_END_EVENT: "streamEnd"
        case YAML_DOCUMENT_START_EVENT: "documentStart"
        case YAML_DOCUMENT_END_EVENT: "documentEnd"
        case YAML_SEQUENCE_END_EVENT: "sequenceEnd"
        case YAML_MAPPING_END_EVENT: "mappingEnd"
        default: "event"
        }
        return ManifestError(.syntax, "invalid YAML: unexpected \(name) where a value belongs", document: documentNumber)
    }

    private func checkDuplicates(_ keys: ArraySlice<Key>) throws(ManifestError) {
        let repeated = tape.bytes.withUnsafeBufferPointer { bytes in
            DuplicateKeys.firstOccurrences(count: keys.count) { first, second in
                let one = keys[keys.startIndex + first].identity
                let other = keys[keys.startIndex + second].identity
                return one.length == other.length && one.tag == other.tag
                    && ManifestTape.same(bytes, at: one.offset, UnsafeBufferPointer(rebasing: bytes[other.offset..<other.offset + other.length]))
            } key: { position in
                let identity = keys[keys.startIndex + position].identity
                return [Self.text(bytes, identity), identity.tag]
            }
        }
        guard !repeated.isEmpty else { return }
        let sorted = tape.bytes.withUnsafeBufferPointer { bytes in
            repeated.map { position in
                let key = keys[keys.startIndex + position]
                return (text: Self.text(bytes, key.identity), line: key.line)
            }
        }.sorted { $0.text < $1.text }
        throw ManifestError(
            .syntax, "duplicate keys in one mapping: \(sorted.map(\.text).joined(separator: ", "))",
            document: documentNumber, line: sorted[0].line)
    }

    private static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ identity: KeyIdentity) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[identity.offset..<identity.offset + identity.length]), as: UTF8.self)
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

    /// Reads the next event, freeing the one before.
    private func advance() throws(ManifestError) {
        if holdsEvent {
            yaml_event_delete(event)
            holdsEvent = false
        }
        guard yaml_parser_parse(parser, event) == 1 else { throw libyamlFailure() }
        holdsEvent = true
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
