import Foundation
@testable import NetpolModel
import NetpolWorkload
import Testing

/// The two readers behind `ManifestLoader`: the YAML reader over libyaml's
/// events, and the JSON parser that JSON manifests take instead.
@Suite("YAML reader and JSON fast path")
struct ManifestReadingTests {
    /// A node tree as text: every value with its type and line.
    static func dump(_ node: ManifestNode?) -> String {
        guard let node else { return "nil" }
        let line = node.line.map(String.init) ?? "?"
        switch node.value {
        case .null: return "null@\(line)"
        case .bool(let flag): return "\(flag)@\(line)"
        case .int(let number): return "int \(number)@\(line)"
        case .float(let number): return "float \(number)@\(line)"
        case .string(let text): return "\(goQuoted(text))@\(line)"
        case .list(let items): return "[@\(line) " + items.map(dump).joined(separator: ", ") + "]"
        case .map(let pairs): return "{@\(line) " + pairs.map { "\(goQuoted($0.key)): \(dump($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    static func yamlReading(_ data: Data) throws -> [String] {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(ManifestError) in try YAMLReader(input: raw.bindMemory(to: UInt8.self)).documents() }
        }
        return try result.get().map { "\($0.number): \(dump($0.root))" }
    }

    static let cluster = ClusterGenerator(namespaces: 10, pods: 300, policies: 60, nodes: 3, seed: 7, ipv6: true).objects()

    @Test func jsonFastPathReadsWhatTheYAMLReaderReads() throws {
        var json = ManifestWriter.jsonList(Self.cluster)
        // Types and lines the generator does not write: numbers of every shape, escapes, CRLF, empty containers.
        json = json.replacingOccurrences(of: "\"metadata\": {\"resourceVersion\": \"\"}", with: """
            "metadata": {"resourceVersion": "", "n": [0, -0, 1.5, -2e3, 1E+2, 12345678901234567890, true, false, null],\r
              "e": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u0000 é 😀", "empty": [{}, []]}
            """)
        let data = Data(json.utf8)
        let parsed = try DocumentParser.parse(data)
        #expect(parsed.jsonRefusal == nil, "the fast path must not fall back: \(String(describing: parsed.jsonRefusal))")
        #expect(parsed.documents.map { "\($0.number): \(Self.dump($0.root))" } == (try Self.yamlReading(data)))
    }

    @Test func jsonManifestsTakeTheFastPath() {
        var set = ManifestSet()
        ManifestLoader.load(data: Data(ManifestWriter.jsonList(Self.cluster).utf8), file: "cluster.json", into: &set)
        #expect(set.jsonFallbacks == [])
        #expect(set.errors == [])
        #expect(set.objects.map(\.object) == Self.cluster)
        #expect(set.objects.allSatisfy { $0.retypedScalars.isEmpty })
    }

    @Test(arguments: [
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\""),
        ("{\"a\": \"\\ud83d\\ude00\"}", "surrogate"),
        ("{\"a\": \"x\u{2028}\"}", "line break"),
        ("{\"a\": \"x\u{85}\"}", "line break"),
        ("{\"a\": \"x\u{7F}\"}", "DEL"),
        ("\t{}", "tab"),
        ("{}\n\t", "tab"),
        ("{\"a\"\n: 1}", "different lines"),
        ("{\"" + String(repeating: "k", count: 1_001) + "\": 1}", "1,000 bytes"),
        (String(repeating: "[", count: 201) + String(repeating: "]", count: 201), "nesting deeper than 200"),
        ("[0777]", "not a number: 0777"),
        ("{} # comment", "text after"),
    ])
    func manifestDialectLeavesToYAMLWhatYAMLReadsOtherwise(json: String, words: String) {
        let error = #expect(throws: ManifestError.self) {
            try Data(json.utf8).withUnsafeBytes { raw in
                try JSONParser.parse(raw.bindMemory(to: UInt8.self), dialect: .manifest)
            }
        }
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
    }

    @Test func apiDialectTakesAnyJSON() throws {
        let node = try JSONParser.parse(Data("{\"a\": 1, \"a\": \"\\ud83d\\ude00\u{2028}\", \"b\": \(String(repeating: "[", count: 300) + String(repeating: "]", count: 300))}".utf8))
        #expect(Self.dump(node).hasPrefix("{@1 \"a\": int 1@1, \"a\": \"😀\u{2028}\"@1"))
        for number in ["01", "1.", "-", "1e", "1.5.5", "1-2"] {
            let error = #expect(throws: ManifestError.self) { try JSONParser.parse(Data("[\(number)]".utf8)) }
            #expect(error?.message == "invalid JSON: not a number: \(number)")
        }
    }

    @Test func jsonThatYAMLReadsOtherwiseIsReadAsYAMLAndReported() {
        var set = ManifestSet()
        ManifestLoader.load(data: Data("{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}} # done\n".utf8), file: "a.json", into: &set)
        #expect(set.objects.map(\.object.reference) == ["Namespace a"])
        #expect(set.jsonFallbacks.map(\.description) == ["a.json: invalid JSON: text after the JSON value (line 1)"])
    }

    @Test func retypedScalarsThatDecodingAccepts() throws {
        let set = load("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: ~, labels: {a: , b: null, c: ~, d: x, e: "~", f: !!null x}}
            spec:
              podSelector: {matchLabels: {tier: ~}}
              ingress:
              - ports: [{protocol: null, port: 80}, {port: 0777}, {port: 0x50}, {port: "0777"}, {port: 1_000, endPort: 0777}]
            """)
        #expect(set.errors == [])
        let loaded = try #require(set.objects.first)
        #expect(loaded.object.metadata.namespace == "default")
        #expect(loaded.object.metadata.labels == ["d": "x", "e": "~"])
        #expect(loaded.retypedScalars.map(\.description) == [
            "metadata.namespace: ~ reads as null (line 3)",
            "metadata.labels.a: (nothing) reads as null (line 3)",
            "metadata.labels.b: null reads as null (line 3)",
            "metadata.labels.c: ~ reads as null (line 3)",
            "spec.podSelector.matchLabels.tier: ~ reads as null (line 5)",
            "spec.ingress[0].ports[0].protocol: null reads as null (line 7)",
            "spec.ingress[0].ports[1].port: 0777 reads as 511 (line 7)",
            "spec.ingress[0].ports[2].port: 0x50 reads as 80 (line 7)",
            "spec.ingress[0].ports[4].port: 1_000 reads as 1000 (line 7)",
        ])
    }

    @Test func retypedScalarsInsideAListAreRelativeToTheirObject() {
        let set = load("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, labels: {app: ~}}\n")
        #expect(set.objects.map(\.pathInDocument.description) == ["items[0]"])
        #expect(set.objects.first?.retypedScalars == [RetypedScalar(path: FieldPath("metadata", "labels", "app"), text: "~", readAs: "null", line: 6)])
    }

    @Test func jsonNullsAreNotRetyped() {
        let set = load("{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"labels\": {\"x\": null}}}", file: "n.json")
        #expect(set.jsonFallbacks == [])
        #expect(set.objects.first?.retypedScalars == [])
    }

    @Test func generatedYAMLQuotesEveryString() {
        let set = load(ManifestWriter.yaml(Self.cluster))
        #expect(set.errors == [])
        #expect(set.objects.map(\.object) == Self.cluster)
        #expect(set.objects.allSatisfy { $0.retypedScalars.isEmpty })
    }

    @Test func documentsAreNumberedAcrossEmptyOnes() throws {
        let reading = try Self.yamlReading(Data("---\n---\na: &x [1, on]\n---\n# nothing\n---\nb: *x\n".utf8))
        #expect(reading == ["1: nil", "2: {@3 \"a\": [@3 int 1@3, true@3]}", "3: nil", "4: {@7 \"b\": [@3 int 1@3, true@3]}"])
    }
}
