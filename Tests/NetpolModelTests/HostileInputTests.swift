import Foundation
import NetpolModel
import NetpolTesting
import NetpolWorkload
import Testing

/// Inputs written to break a parser. Each must end in a clear error (or clean
/// objects), never a crash or a hang.
@Suite("Hostile input")
struct HostileInputTests {
    private func onlyError(_ set: ManifestSet) -> ManifestError? {
        #expect(set.objects == [])
        #expect(set.errors.count == 1)
        return set.errors.first
    }

    @Test func truncatedYAML() {
        let error = onlyError(load("apiVersion: v1\nkind: Namespace\nmetadata: {name: \"shop"))
        #expect(error?.code == .syntax)
        #expect(error?.description.hasPrefix("test.yaml:1: invalid YAML: ") == true)
        #expect(error?.line == 3)
    }

    @Test func truncatedJSON() {
        let error = onlyError(load("{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": ", file: "t.json"))
        #expect(error?.code == .syntax)
    }

    @Test func syntaxErrorNamesItsDocument() {
        let set = load("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n")
        #expect(set.errors.map(\.document) == [2])
        #expect(set.errors.map(\.code) == [.syntax])
    }

    @Test func aStringWhereAListBelongs() {
        let error = onlyError(load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  egress: everything\n"))
        #expect(error?.description == "test.yaml:1: NetworkPolicy x/p: spec.egress: expected a list, got a string (\"everything\") (line 5)")
    }

    @Test func anObjectWhereAStringBelongs() {
        let error = onlyError(load("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeName: {a: b}\n"))
        #expect(error?.description == "test.yaml:1: Pod default/p: spec.nodeName: expected a string, got an object (line 5)")
    }

    @Test func documentThatIsNotAnObject() {
        let error = onlyError(load("- just\n- a list\n"))
        #expect(error?.description == "test.yaml:1: expected an object, got a list (line 1)")
    }

    @Test func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = onlyError(load(deep))
        #expect(error?.code == .syntax)
        #expect(error?.description.contains("nesting") == true)
        let block = (0..<5_000).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n")
        #expect(onlyError(load(block))?.code == .syntax)
    }

    @Test func billionLaughs() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = onlyError(load(text))
        #expect(error?.code == .tooLarge)
    }

    @Test func aliasesWithinReasonWork() {
        let set = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: &l {team: shop}\n  annotations: *l\n")
        #expect(set.errors == [])
        #expect(set.objects.first?.object.metadata.annotations == ["team": "shop"])
    }

    @Test func binaryGarbage() {
        var generator = SeededGenerator(seed: 7)
        let bytes = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var set = ManifestSet()
        ManifestLoader.load(data: Data(bytes), file: "garbage.bin", into: &set)
        #expect(set.errors.map(\.code) == [.notText])
        #expect(set.errors.first?.description == "garbage.bin: not UTF-8 text (binary data?)")
    }

    @Test func nulBytes() {
        let error = onlyError(load("apiVersion: v1\nkind: Namespace\u{0}\n"))
        #expect(error?.description == "test.yaml: contains a NUL byte (binary data?) (line 2)")
    }

    @Test(arguments: ["", "\n\n", "# nothing but a comment\n", "---\n---\n"])
    func emptyInput(text: String) {
        let error = onlyError(load(text))
        #expect(error?.description == "test.yaml: no YAML or JSON documents (empty input)")
    }

    @Test func duplicateKeys() {
        let error = onlyError(load("apiVersion: v1\nkind: Namespace\nkind: Pod\nmetadata: {name: a}\n"))
        #expect(error?.code == .syntax)
        #expect(error?.description.contains("duplicate keys") == true)
    }

    @Test func tenMegabyteDocument() {
        // One List of about 25,000 pods, over 10 MB: read whole, no error.
        var text = "apiVersion: v1\nkind: List\nitems:\n"
        var count = 0
        while text.utf8.count < 10 * 1024 * 1024 {
            text += """
                - apiVersion: v1
                  kind: Pod
                  metadata: {name: pod-\(count), namespace: ns-\(count % 50), labels: {app: app-\(count % 100), tier: t\(count % 3)}}
                  spec: {nodeName: node-\(count % 10), containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
                  status: {phase: Running, podIP: 10.\(count / 65536 % 256).\(count / 256 % 256).\(count % 256)}
                  # padding to make the document look like real kubectl output, which carries managedFields
                  # and status conditions that netpol does not read but must skip over quickly.

                """
            count += 1
        }
        let set = load(text)
        #expect(set.errors == [])
        #expect(set.objects.count == count)
    }

    @Test func tenMegabyteString() {
        let error = onlyError(load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + String(repeating: "x", count: 10 * 1024 * 1024) + "\n  labels: [oops]\n"))
        #expect(error?.code == .decoding)
        let problems = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + String(repeating: "x", count: 300) + "\n").objects.map(Validator.problems)
        #expect(problems.first?.map(\.description.count).first ?? 0 > 300)
    }
}
