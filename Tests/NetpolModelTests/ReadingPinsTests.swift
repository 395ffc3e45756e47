import Foundation
@testable import NetpolModel
import Testing

/// How netpol reads YAML and JSON at their edges: each input with what it
/// decodes to, or the exact errors. The expected lines were recorded through
/// the Yams node tree, before the event reader and the JSON fast path replaced
/// it, so these pin that nothing a user sees changed.
@Suite("Reading at the edges, as before")
struct ReadingPinsTests {
    /// Inputs at the edges of YAML and JSON reading, each with what netpol made
    /// of it through Yams (recorded before the event reader replaced it).
    static let cases: [(name: String, file: String, text: String)] = [
        ("duplicate key", "t.yaml", "apiVersion: v1\nkind: Namespace\nkind: Pod\nmetadata: {name: a}\n"),
        ("duplicate keys, several", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nspec:\n  b: 1\n  a: 1\n  b: 2\n  a: 2\n  a: 3\n"),
        ("duplicate key, quoted and plain", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, \"name\": b}\n"),
        ("duplicate key, tagged differently", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, !!int name: b, ! name: c}\n"),
        ("duplicate key through an alias", "t.yaml", "apiVersion: v1\nkind: Namespace\nx: &k name\nmetadata: {name: a, *k : b}\n"),
        ("undefined alias", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: *nope}\n"),
        ("self alias", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: &m {name: a, x: *m}\n"),
        ("alias across documents", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: &m {name: a, labels: {team: x}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: *m\n"),
        ("alias as a key", "t.yaml", "apiVersion: v1\nkind: Namespace\nx: &k team\nmetadata: {name: a, labels: {*k : shop}}\n"),
        ("anchored key aliased as a value", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {&k app: x, y: *k}\n"),
        ("control character", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: \"a\u{01}\"}\n"),
        ("DEL character", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\u{7F}\n"),
        ("control character after non-ASCII", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  annotations: {a: \"ééééé\nééé\"}\n  name: \"a\u{02}\"\n"),
        ("tab indentation", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: a\n"),
        ("unclosed flow", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a\n"),
        ("bad indentation", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n labels: {}\n"),
        ("key that is a list", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, [x]: b}\n"),
        ("key that is an object, after a syntax error", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, {x: 1}: b}\nspec: [\n"),
        ("key error, then a syntax error in the next document", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, [x]: b}\n---\nkind: [\n"),
        ("block scalars", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n    literal: |\n      one\n      two\n    folded: >-\n      one\n      two\n    kept: |+\n      x\n\n    plain: multi\n      line\n"),
        ("double-quoted escapes", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations: {a: \"tab\\there \\u00e9 \\x41 \\/ \\N \\_ \\L\", b: 'it''s', c: \"folded\n    line\"}\n"),
        ("YAML 1.1 scalars in ports", "t.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - ports: [{port: 0777}, {port: 0x50}, {port: 0o17}, {port: 0b101}, {port: 1_000}, {port: +80}, {port: \"0777\"}, {port: !!str 80}, {port: !!int \"81\"}, {port: ! 82}, {port: 83, endPort: 1e3}]\n"),
        ("YAML 1.1 booleans as labels", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {a: on}\n"),
        ("float as a label", "t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {a: .inf}\n"),
        ("nulls in text fields", "t.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ~, labels: {a: , b: null, c: ~, d: x}}\nspec:\n  podSelector: {matchLabels: {tier: ~}}\n  ingress:\n  - ports: [{protocol: null, port: 80}]\n"),
        ("null document among others", "t.yaml", "null\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n~\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"),
        ("document that is a scalar", "t.yaml", "just text\n"),
        ("CRLF line ends", "t.yaml", "apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: [a]\r\n"),
        ("lone CR line ends", "t.yaml", "apiVersion: v1\rkind: Namespace\rmetadata:\r  name: [a]\r"),
        ("byte order mark", "t.yaml", "\u{FEFF}apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"),
        ("alias bomb, then a syntax error", "t.yaml", aliasBomb + "x: [\n"),
        ("alias bomb, then a syntax error in the next document", "t.yaml", aliasBomb + "---\nx: [\n"),
        ("JSON", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\",\n \"metadata\": {\"name\": \"a\", \"labels\": {\"x\": \"y\"}}}\n"),
        ("JSON with an error on line 3", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\",\n \"metadata\": {\"name\": \"a\",\n \"labels\": [1]}}\n"),
        ("JSON, CRLF", "t.json", "{\"apiVersion\": \"v1\",\r\n \"kind\": \"Namespace\",\r\n \"metadata\": {\"name\": [\"a\"]}}\r\n"),
        ("JSON, lone CR", "t.json", "{\"apiVersion\": \"v1\",\r \"kind\": \"Namespace\",\r \"metadata\": {\"name\": [\"a\"]}}\r"),
        ("JSON, duplicate key", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}"),
        ("JSON, comment", "t.json", "# a comment\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n"),
        ("JSON, comment after", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}} # done\n"),
        ("JSON, two documents", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"b\"}}\n"),
        ("JSON, two values", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n{}\n"),
        ("JSON, surrogate pair", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"e\": \"\\ud83d\\ude00\"}}}"),
        ("JSON, U+2028 in a string", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"e\": \"x\u{2028}y\"}}}"),
        ("JSON, NEL in a string", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"e\": \"x\u{85}y\"}}}"),
        ("JSON, C1 control in a string", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"e\": \"x\u{90}y\"}}}"),
        ("JSON, DEL in a string", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"e\": \"x\u{7F}y\"}}}"),
        ("JSON, tab before the root", "t.json", "\t{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}"),
        ("JSON, tab on a line after the root", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n\t\n"),
        ("JSON, tabs inside", "t.json", "{\t\"apiVersion\":\t\"v1\",\n\t\"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}"),
        ("JSON, key and colon on two lines", "t.json", "{\"apiVersion\"\n: \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}"),
        ("JSON, a long key", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"" + String(repeating: "k", count: 1_100) + "\": \"v\"}}}"),
        ("JSON, deep nesting in an unread field", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}, \"x\": " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}"),
        ("JSON, leading zero", "t.json", "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": [{\"ports\": [{\"port\": 0777}]}]}}"),
        ("JSON, numbers", "t.json", "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": [{\"ports\": [{\"port\": 80, \"endPort\": 1e3}, {\"port\": -0, \"endPort\": 1.0E+2}, {\"port\": 12345678901234567890}]}]}}"),
        ("JSON, number as a label", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"labels\": {\"v\": 1.10}}}"),
        ("JSON, trailing comma", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\",}}"),
        ("JSON, unquoted key", "t.json", "{apiVersion: v1, kind: Namespace, metadata: {name: a}}"),
        ("JSON, a List", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}},\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": 1}}\n]}\n"),
        ("JSON, escapes", "t.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"annotations\": {\"e\": \"q\\\"b\\\\s\\/n\\nt\\tu\\u00e9\\u0041\\b\\f\\r\"}}}"),
        ("JSON, empty", "t.json", "  \n"),
        ("JSON list root", "t.json", "[{\"a\": 1}]"),
    ]

    /// A billion laughs: ten levels of ten aliases.
    static let aliasBomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + (1...9).map { level in
        "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
    }.joined()

    /// Objects (location, path in document, JSON) and errors (code, description), a line each.
    static func rendering(_ set: ManifestSet) -> String {
        let objects = set.objects.map { loaded in
            "\(loaded.location) [\(loaded.pathInDocument)] \(ManifestWriter.json(loaded.object))"
                + (loaded.unknownFields.isEmpty ? "" : " unknown: \(loaded.unknownFields.map(\.description))")
                + (loaded.object.metadata.annotations.isEmpty ? "" : " annotations: \(loaded.object.metadata.annotations.sorted { $0.key < $1.key }.map { goQuoted($0.key) + "=" + goQuoted($0.value) })")
        }
        let errors = set.errors.map { "error \($0.code): \($0.description)" }
        return (objects + errors).joined(separator: "\n")
    }

    /// What each case read to through Yams, by case name.
    static let expected: [String: String] = [
        "duplicate key": "error syntax: t.yaml:1: duplicate keys in one mapping: kind (line 2)",
        "duplicate keys, several": "error syntax: t.yaml:1: duplicate keys in one mapping: a, b (line 6)",
        "duplicate key, quoted and plain": "error syntax: t.yaml:1: duplicate keys in one mapping: name (line 3)",
        "duplicate key, tagged differently": "error syntax: t.yaml:1: duplicate keys in one mapping: name (line 3)",
        "duplicate key through an alias": "error syntax: t.yaml:1: duplicate keys in one mapping: name (line 4)",
        "undefined alias": "error syntax: t.yaml:1: invalid YAML: found undefined alias at column 18 (line 3)",
        "self alias": "error syntax: t.yaml:1: invalid YAML: found undefined alias at column 27 (line 3)",
        "alias across documents": "t.yaml:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"x\"}}}\nt.yaml:2 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"x\"}}}",
        "alias as a key": "t.yaml:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"shop\"}}}",
        "anchored key aliased as a value": "t.yaml:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{\"app\":\"x\",\"y\":\"app\"}}}",
        "control character": "error notText: t.yaml:1: cannot read text: control characters are not allowed (line 3)",
        "DEL character": "error notText: t.yaml:1: cannot read text: control characters are not allowed (line 4)",
        "control character after non-ASCII": "error notText: t.yaml:1: cannot read text: control characters are not allowed (line 6)",
        "tab indentation": "error syntax: t.yaml:1: invalid YAML: while scanning for the next token: found character that cannot start any token at column 1 (line 4)",
        "unclosed flow": "error syntax: t.yaml:1: invalid YAML: while parsing a flow mapping: did not find expected ',' or '}' at column 1 (line 4)",
        "bad indentation": "error syntax: t.yaml:1: invalid YAML: while parsing a block mapping: did not find expected key at column 2 (line 5)",
        "key that is a list": "error decoding: t.yaml:1: mapping keys must be plain values, not lists or objects (line 3)",
        "key that is an object, after a syntax error": "error syntax: t.yaml:1: invalid YAML: while parsing a flow node: did not find expected node content at column 1 (line 5)",
        "key error, then a syntax error in the next document": "error decoding: t.yaml:1: mapping keys must be plain values, not lists or objects (line 3)",
        "block scalars": "t.yaml:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"annotations\":{\"folded\":\"one two\",\"kept\":\"x\\n\\n\",\"literal\":\"one\\ntwo\\n\",\"plain\":\"multi line\"}}} annotations: [\"\\\"folded\\\"=\\\"one two\\\"\", \"\\\"kept\\\"=\\\"x\\\\n\\\\n\\\"\", \"\\\"literal\\\"=\\\"one\\\\ntwo\\\\n\\\"\", \"\\\"plain\\\"=\\\"multi line\\\"\"]",
        "double-quoted escapes": "t.yaml:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"annotations\":{\"a\":\"tab\\there é A /     \",\"b\":\"it's\",\"c\":\"folded line\"}}} annotations: [\"\\\"a\\\"=\\\"tab\\\\there é A /     \\\"\", \"\\\"b\\\"=\\\"it\\'s\\\"\", \"\\\"c\\\"=\\\"folded line\\\"\"]",
        "YAML 1.1 scalars in ports": "t.yaml:1 [] {\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":511},{\"port\":80},{\"port\":15},{\"port\":5},{\"port\":1000},{\"port\":80},{\"port\":\"0777\"},{\"port\":\"80\"},{\"port\":81},{\"port\":\"82\"},{\"port\":83,\"endPort\":1000}]}]}}",
        "YAML 1.1 booleans as labels": "error decoding: t.yaml:1: Namespace a: metadata.labels.a: expected a string, got a boolean (true); quote it to keep it text (line 5)",
        "float as a label": "error decoding: t.yaml:1: Namespace a: metadata.labels.a: expected a string, got a number (inf); quote it to keep it text (line 5)",
        "nulls in text fields": "t.yaml:1 [] {\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"labels\":{\"d\":\"x\"}},\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}]}}",
        "null document among others": "t.yaml:2 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}\nt.yaml:4 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}",
        "document that is a scalar": "error decoding: t.yaml:1: expected an object, got a string (\"just text\") (line 1)",
        "CRLF line ends": "error decoding: t.yaml:1: Namespace (unnamed): metadata.name: expected a string, got a list (line 4)",
        "lone CR line ends": "error decoding: t.yaml:1: Namespace (unnamed): metadata.name: expected a string, got a list (line 4)",
        "byte order mark": "error syntax: t.yaml:2: invalid YAML: did not find expected <document start> at column 1 (line 2)",
        "alias bomb, then a syntax error": "error syntax: t.yaml:1: invalid YAML: while parsing a flow node: did not find expected node content at column 1 (line 12)",
        "alias bomb, then a syntax error in the next document": "error tooLarge: t.yaml:1: document expands to more nodes than its size allows (recursive or exponential aliases?)",
        "JSON": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"y\"}}}",
        "JSON with an error on line 3": "error decoding: t.json:1: Namespace a: metadata.labels: expected an object of strings, got a list (line 3)",
        "JSON, CRLF": "error decoding: t.json:1: Namespace (unnamed): metadata.name: expected a string, got a list (line 3)",
        "JSON, lone CR": "error decoding: t.json:1: Namespace (unnamed): metadata.name: expected a string, got a list (line 3)",
        "JSON, duplicate key": "error syntax: t.json:1: duplicate keys in one mapping: kind (line 1)",
        "JSON, comment": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
        "JSON, comment after": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
        "JSON, two documents": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}\nt.json:2 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}",
        "JSON, two values": "error syntax: t.json:2: invalid YAML: did not find expected <document start> at column 1 (line 2)",
        "JSON, surrogate pair": "error syntax: t.json:1: invalid YAML: while parsing a quoted scalar: found invalid Unicode character escape code at column 93 (line 1)",
        "JSON, U+2028 in a string": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"annotations\":{\"e\":\"x y\"}}} annotations: [\"\\\"e\\\"=\\\"x y\\\"\"]",
        "JSON, NEL in a string": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"annotations\":{\"e\":\"x y\"}}} annotations: [\"\\\"e\\\"=\\\"x y\\\"\"]",
        "JSON, C1 control in a string": "error notText: t.json:1: cannot read text: control characters are not allowed (line 1)",
        "JSON, DEL in a string": "error notText: t.json:1: cannot read text: control characters are not allowed (line 1)",
        "JSON, tab before the root": "error syntax: t.json:1: invalid YAML: while scanning for the next token: found character that cannot start any token at column 1 (line 1)",
        "JSON, tab on a line after the root": "error syntax: t.json:1: invalid YAML: while scanning for the next token: found character that cannot start any token at column 1 (line 2)",
        "JSON, tabs inside": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
        "JSON, key and colon on two lines": "error syntax: t.json:1: invalid YAML: while parsing a flow mapping: did not find expected ',' or '}' at column 1 (line 2)",
        "JSON, a long key": "error syntax: t.json:1: invalid YAML: while parsing a flow mapping: did not find expected ',' or '}' at column 1187 (line 1)",
        "JSON, deep nesting in an unread field": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
        "JSON, leading zero": "t.json:1 [] {\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":511}]}]}}",
        "JSON, numbers": "error decoding: t.json:1: NetworkPolicy default/p: spec.ingress[0].ports[2].port: expected a port number or name, got a number (1.2345678901234567e+19) (line 1)",
        "JSON, number as a label": "error decoding: t.json:1: Namespace a: metadata.labels.v: expected a string, got a number (1.1); quote it to keep it text (line 1)",
        "JSON, trailing comma": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
        "JSON, unquoted key": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
        "JSON, a List": "t.json:1 [items[0]] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}\nerror decoding: t.json:1: Pod default/p: items[1].spec.containers: expected a list, got a number (1) (line 3)",
        "JSON, escapes": "t.json:1 [] {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\",\"annotations\":{\"e\":\"q\\\"b\\\\s/n\\nt\\tuéA\\u0008\\u000c\\r\"}}} annotations: [\"\\\"e\\\"=\\\"q\\\\\\\"b\\\\\\\\s/n\\\\nt\\\\tuéA\\\\x08\\\\x0c\\\\r\\\"\"]",
        "JSON, empty": "error empty: t.json: no YAML or JSON documents (empty input)",
        "JSON list root": "error decoding: t.json:1: expected an object, got a list (line 1)",
    ]

    @Test(arguments: cases)
    func readsAsBefore(name: String, file: String, text: String) {
        var set = ManifestSet()
        ManifestLoader.load(data: Data(text.utf8), file: file, into: &set)
        #expect(Self.rendering(set) == Self.expected[name], "\(name)")
    }
}
