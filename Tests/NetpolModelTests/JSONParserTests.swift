import Foundation
@testable import NetpolModel
import NetpolWorkload
import Testing

/// The API's JSON goes through a parser of its own; it must read exactly what
/// the YAML path reads from the same text.
@Suite("JSON parser")
struct JSONParserTests {
    private static func list(_ objects: [KubeObject], kind: String) -> Data {
        let items = objects.filter { $0.kind == kind }.map(ManifestWriter.json)
        return Data(#"{"kind":"\#(kind)List","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[\#(items.joined(separator: ","))]}"#.utf8)
    }

    @Test func readsWhatTheYAMLPathReads() throws {
        let objects = ClusterGenerator(namespaces: 10, pods: 300, policies: 60, nodes: 3, seed: 7, ipv6: true).objects()
        for (kind, apiVersion) in [("Namespace", "v1"), ("Pod", "v1"), ("NetworkPolicy", "networking.k8s.io/v1")] {
            let data = Self.list(objects, kind: kind)
            let viaJSON = try APIDecoder.list(data, kind: kind, apiVersion: apiVersion).items.map { try $0.get() }
            let yaml = try #require(try DocumentParser.documents(in: data).first?.root)
            let viaYAML = try FieldReader(node: yaml, path: .root).object().field("items")?.list().map { item in
                try #require(try ObjectDecoder.decodeObject(kind: kind, apiVersion: apiVersion, fields: item.object())).object
            }
            #expect(viaJSON == viaYAML, "\(kind)")
            #expect(viaJSON == objects.filter { $0.kind == kind })
        }
    }

    @Test(arguments: [
        (#"{"a": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n"}"#, "café 😀 \"q\" \\ / \n"),
        (#"{"a": "plain"}"#, "plain"),
    ])
    func decodesEscapes(json: String, expected: String) throws {
        let node = try JSONParser.parse(Data(json.utf8))
        guard case .map(let pairs) = node.value, case .string(let text) = pairs.first?.value.value else {
            Issue.record("not a map of a string")
            return
        }
        #expect(text == expected)
    }

    @Test func typesNumbersAndLiteralsAsYAMLDoes() throws {
        let node = try JSONParser.parse(Data(#"[1, -2, 1.5, 2e3, true, false, null, "80"]"#.utf8))
        guard case .list(let items) = node.value else { throw CancellationError() }
        let summaries = items.map(\.summary)
        #expect(summaries == ["a number (1)", "a number (-2)", "a number (1.5)", "a number (2000.0)", "a boolean (true)", "a boolean (false)", "null", "a string (\"80\")"])
    }

    @Test(arguments: [
        ("", ManifestError.Code.empty, "empty answer"),
        ("{\"a\": 1,}", .syntax, "expected a quoted key"),
        ("{\"a\": 1\n\n  \"b\": 2}", .syntax, "expected , or '}'"),
        ("[1, 2", .syntax, "the JSON ends early"),
        ("{\"a\": \"x", .syntax, "a string that never ends"),
        ("{\"a\": tru}", .syntax, "expected true"),
        ("{} {}", .syntax, "text after the JSON value"),
        ("\"\\ud83d\"", .syntax, "a lone UTF-16 surrogate"),
        ("\"\u{01}\"", .syntax, "a control character inside a string"),
    ])
    func refusesBrokenJSONClearly(json: String, code: ManifestError.Code, words: String) {
        let error = #expect(throws: ManifestError.self) { try JSONParser.parse(Data(json.utf8)) }
        #expect(error?.code == code)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
    }

    @Test func refusesDeepNestingAndBinaryData() {
        let deep = String(repeating: "[", count: 1_001) + String(repeating: "]", count: 1_001)
        #expect(throws: ManifestError.self) { try JSONParser.parse(Data(deep.utf8)) }
        let binary = Data([UInt8(ascii: "\""), 0xFF, 0xFE, UInt8(ascii: "\"")])
        let error = #expect(throws: ManifestError.self) { try JSONParser.parse(binary) }
        #expect(error?.code == .notText)
    }

    @Test func namesTheLineOfTheMistake() {
        let error = #expect(throws: ManifestError.self) { try JSONParser.parse(Data("{\n\"a\": 1,\n\"b\": ?\n}".utf8)) }
        #expect(error?.line == 3)
    }
}
