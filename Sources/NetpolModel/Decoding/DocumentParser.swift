import Foundation
import Yams

/// Splits a YAML or JSON text into documents (`---` separated) and parses each
/// into a `ManifestNode` tree. JSON is read by the same parser: it is YAML.
///
/// Nesting deeper than libyaml's limit (1,000 levels) and alias bombs are errors,
/// not crashes; invalid UTF-8 is rejected before parsing.
enum DocumentParser {
    /// One document of a stream, numbered from 1; `root` is nil for an empty document.
    struct Document {
        var number: Int
        var root: ManifestNode?
    }

    /// Parses every document of `data`. Throws at the first syntax error, naming the
    /// document it is in.
    static func documents(in data: Data) throws(ManifestError) -> [Document] {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ManifestError(.notText, "not UTF-8 text (binary data?)")
        }
        if let zero = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<zero].lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1
            throw ManifestError(.notText, "contains a NUL byte (binary data?)", line: line)
        }
        let parser: Parser
        do {
            parser = try Parser(yaml: text, resolver: .basic)
        } catch {
            throw syntaxError(error, text: text, document: 1)
        }
        var documents: [Document] = []
        var converter = NodeConverter(sourceBytes: data.count)
        while true {
            let number = documents.count + 1
            let root: Node?
            do {
                root = try parser.nextRoot()
            } catch {
                throw syntaxError(error, text: text, document: number)
            }
            guard let root else { break }
            do {
                documents.append(Document(number: number, root: try converter.convert(root)))
            } catch var failure {
                failure.document = number
                throw failure
            }
        }
        return documents.map { document in
            // An empty document (`---` followed by nothing) parses as a null scalar.
            guard let root = document.root, case .null = root.value else { return document }
            return Document(number: document.number, root: nil)
        }
    }

    private static func syntaxError(_ error: Error, text: String, document: Int) -> ManifestError {
        guard let yamlError = error as? YamlError else {
            return ManifestError(.syntax, "\(error)", document: document)
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text): " } ?? ""
            return ManifestError(.syntax, "invalid YAML: \(prefix)\(problem) at column \(mark.column)", document: document, line: mark.line)
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in text.utf8.prefix(offset).lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1 }
            return ManifestError(.notText, "cannot read text: \(problem)", document: document, line: line)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ManifestError(.syntax, "duplicate keys in one mapping: \(duplicates.joined(separator: ", "))", document: document, line: context.mark.line)
        default:
            return ManifestError(.syntax, "invalid YAML: \(yamlError)", document: document)
        }
    }
}
