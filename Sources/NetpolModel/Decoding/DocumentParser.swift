import Foundation

/// Splits a YAML or JSON text into documents (`---` separated) and parses each
/// into a `ManifestTape` of nodes.
///
/// A text that starts like JSON (`{` or `[`) is read by `JSONParser`, many
/// times faster than YAML; when that parser refuses it (invalid JSON, more than
/// one document, or JSON that YAML would read otherwise), the YAML reader
/// reads it, so that every text reads, and fails, exactly as YAML. YAML is read
/// the same way: `YAMLSubsetReader` reads what manifests are written in, and
/// hands the whole text to `YAMLReader` (libyaml) for anything else and for
/// every mistake.
///
/// Nesting deeper than libyaml's limit (1,000 levels) and alias bombs are errors,
/// not crashes; invalid UTF-8 is rejected before parsing.
enum DocumentParser {
    /// One document of a stream, numbered from 1; `root` is nil for an empty document.
    struct Document {
        var number: Int
        var root: ManifestNode?
    }

    /// The documents of one text, and how they were read.
    struct Parsed {
        var documents: [Document]
        /// Why the JSON parser handed a JSON-looking text to the YAML reader;
        /// nil when the text was read by the reader its first byte chose.
        var jsonRefusal: ManifestError?
        /// Why `YAMLSubsetReader` handed YAML to `YAMLReader`; nil when it read
        /// the text itself, or when the text was JSON.
        var yamlHandOver: YAMLSubsetReader.HandOver?
    }

    /// Parses every document of `data`. Throws at the first syntax error, naming the
    /// document it is in.
    static func documents(in data: Data) throws(ManifestError) -> [Document] {
        try parse(data).documents
    }

    /// Parses every document of `data`, saying whether JSON took the slow path.
    static func parse(_ data: Data) throws(ManifestError) -> Parsed {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(ManifestError) in try parse(raw.bindMemory(to: UInt8.self)) }
        }
        return try result.get()
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ManifestError) -> Parsed {
        guard UTF8Validation.isValid(bytes) else {
            throw ManifestError(.notText, "not UTF-8 text (binary data?)")
        }
        if let zero = bytes.firstIndex(of: 0) {
            let line = bytes[..<zero].lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1
            throw ManifestError(.notText, "contains a NUL byte (binary data?)", line: line)
        }
        var refusal: ManifestError?
        if startsLikeJSON(bytes) {
            do {
                return Parsed(documents: [Document(number: 1, root: try JSONParser.parse(bytes, dialect: .manifest))])
            } catch {
                refusal = error
            }
        }
        switch YAMLSubsetReader.documents(in: bytes) {
        case .success(let documents):
            #if DEBUG
            checkAgainstLibyaml(documents, bytes)
            #endif
            return Parsed(documents: documents, jsonRefusal: refusal)
        case .failure(let handOver):
            return Parsed(documents: try YAMLReader(input: bytes).documents(), jsonRefusal: refusal, yamlHandOver: handOver)
        }
    }

    #if DEBUG
    /// Debug builds (the tests) read every text that `YAMLSubsetReader` read with
    /// `YAMLReader` too, and stop at the first difference: every test input is a
    /// differential test of the two readers.
    private static func checkAgainstLibyaml(_ documents: [Document], _ bytes: UnsafeBufferPointer<UInt8>) {
        do {
            let libyaml = try YAMLReader(input: bytes).documents()
            if let difference = YAMLSubsetReader.firstDifference(documents, libyaml) {
                preconditionFailure("YAMLSubsetReader and YAMLReader differ: \(difference)")
            }
        } catch {
            preconditionFailure("YAMLSubsetReader read a text that YAMLReader refuses: \(error)")
        }
    }
    #endif

    /// Whether the first byte after blanks opens a JSON object or array.
    private static func startsLikeJSON(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let first = bytes.first { byte in
            byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") && byte != UInt8(ascii: "\n")
        }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }
}
