/// Why a manifest could not be read, parsed or decoded: the one error type of
/// NetpolModel. It names the file, the document, the object (when known), the
/// field and the line, so that a person can go straight to the mistake.
public struct ManifestError: NetpolError {
    public enum Code: String, Hashable, Sendable {
        /// The path does not exist or cannot be read.
        case unreadable
        /// The bytes are not UTF-8 text (binary data, another encoding).
        case notText
        /// The YAML or JSON itself is malformed.
        case syntax
        /// A file or standard input holds no documents at all.
        case empty
        /// A document or its aliases expand beyond what a manifest can sensibly hold.
        case tooLarge
        /// A field has the wrong type, a missing required part, or a number out of range.
        case decoding
        /// A known kind in an API version netpol does not read.
        case unsupportedVersion
    }

    public var code: Code
    public var message: String
    /// The file as given on the command line; `-` for standard input.
    public var file: String?
    /// 1-based document number inside the file.
    public var document: Int?
    public var object: ObjectReference?
    /// Path from the document root, so `items[3].spec` inside a List.
    public var path: FieldPath?
    /// 1-based line of the offending node, when the parser reported it.
    public var line: Int?

    public init(
        _ code: Code, _ message: String, file: String? = nil, document: Int? = nil,
        object: ObjectReference? = nil, path: FieldPath? = nil, line: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.document = document
        self.object = object
        self.path = path
        self.line = line
    }

    /// `FILE:DOC: KIND NS/NAME: FIELD`, leaving out what is unknown.
    public var location: String? {
        var parts: [String] = []
        if let file {
            parts.append(document.map { "\(file):\($0)" } ?? file)
        }
        if let object { parts.append(object.description) }
        if let path, !path.isRoot { parts.append(path.description) }
        return parts.isEmpty ? nil : parts.joined(separator: ": ")
    }

    /// Decoding errors are their own cause: the field path says the rest.
    public var cause: (any Error)? { nil }

    /// `FILE:DOC: KIND NS/NAME: FIELD: MESSAGE (line N)`, leaving out what is unknown.
    public var description: String {
        var text = location.map { "\($0): \(message)" } ?? message
        if let line { text += " (line \(line))" }
        return text
    }

    public static func == (lhs: ManifestError, rhs: ManifestError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.location == rhs.location && lhs.line == rhs.line
    }
}
