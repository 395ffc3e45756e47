import Foundation
@testable import NetpolModel
import NetpolWorkload
import Testing

/// The YAML subset reader against libyaml's reader (`YAMLReader`): what it
/// reads must be the same tape (nodes, types, lines, text), and what it does not
/// read it must hand over. Debug builds also check every text that any test
/// loads (`DocumentParser` reads it both ways); these tests add the corpora that
/// must never be handed over, the constructs that must be, and a differential
/// fuzz over generated YAML.
@Suite("YAML subset reader")
struct YAMLSubsetReaderTests {
    /// The subset reader's documents or its hand-over, and libyaml's documents or error.
    static func readings(_ data: Data) -> (subset: Result<[DocumentParser.Document], YAMLSubsetReader.HandOver>, libyaml: Result<[DocumentParser.Document], ManifestError>) {
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return (YAMLSubsetReader.documents(in: bytes), Result { () throws(ManifestError) in try YAMLReader(input: bytes).documents() })
        }
    }

    /// Nil when the subset reader read `data` as libyaml does; why not, otherwise.
    static func disagreement(_ data: Data) -> String? {
        let (subset, libyaml) = readings(data)
        switch (subset, libyaml) {
        case (.failure(let handOver), _): return "handed over: \(handOver)"
        case (.success, .failure(let error)): return "libyaml refuses it: \(error)"
        case (.success(let mine), .success(let theirs)): return YAMLSubsetReader.firstDifference(mine, theirs)
        }
    }

    static let examples: [URL] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples").standardized
        return ManifestLoader.load([root.path]).files.map(URL.init(fileURLWithPath:)).filter { $0.pathExtension != "json" }
    }()

    @Test func everyExampleIsReadWithoutLibyaml() throws {
        #expect(Self.examples.count >= 10)
        for file in Self.examples {
            let data = try Data(contentsOf: file)
            #expect(Self.disagreement(data) == nil, "\(file.lastPathComponent)")
            var set = ManifestSet()
            ManifestLoader.load(data: data, file: file.lastPathComponent, into: &set)
            #expect(set.yamlHandOvers == [])
        }
    }

    @Test func generatedClusterIsReadWithoutLibyaml() {
        let objects = ClusterGenerator(namespaces: 8, pods: 200, policies: 60, nodes: 3, seed: 11, ipv6: true, clusterPolicies: 10).objects()
        let data = Data(ManifestWriter.yaml(objects).utf8)
        #expect(Self.disagreement(data) == nil)
        var set = ManifestSet()
        ManifestLoader.load(data: data, file: "cluster.yaml", into: &set)
        #expect(set.yamlHandOvers == [])
        #expect(set.objects.count == objects.count)
    }

    /// `kubectl get -o yaml` as it answers: a List, server fields, the
    /// last-applied annotation as a literal block scalar, an empty status.
    static let kubectlList = """
        apiVersion: v1
        items:
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata:
            annotations:
              kubectl.kubernetes.io/last-applied-configuration: |
                {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"annotations":{},"name":"web","namespace":"shop"},"spec":{"podSelector":{"matchLabels":{"app":"web"}}}}
            creationTimestamp: "2026-11-30T10:00:00Z"
            generation: 1
            labels:
              app.kubernetes.io/name: web
            name: web
            namespace: shop
            resourceVersion: "123456"
            uid: 0b8f1c2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e
          spec:
            ingress:
            - from:
              - podSelector:
                  matchLabels:
                    app: front
              - namespaceSelector: {}
              ports:
              - port: 8080
                protocol: TCP
            podSelector:
              matchLabels:
                app: web
            policyTypes:
            - Ingress
        - apiVersion: v1
          kind: Namespace
          metadata:
            creationTimestamp: null
            labels:
              kubernetes.io/metadata.name: shop
            name: shop
          spec:
            finalizers:
            - kubernetes
          status:
            phase: Active
        kind: List
        metadata:
          resourceVersion: ""

        """

    @Test func kubectlListIsReadWithoutLibyaml() {
        let data = Data(Self.kubectlList.utf8)
        #expect(Self.disagreement(data) == nil)
        var set = ManifestSet()
        ManifestLoader.load(data: data, file: "list.yaml", into: &set)
        #expect(set.yamlHandOvers == [])
        #expect(set.errors == [])
        #expect(set.objects.count == 2)
    }

    /// Texts inside the subset, each read exactly as libyaml reads it.
    static let subsetTexts: [String] = [
        "a: 1\n",
        "a: 1",
        "# only a comment\n",
        "",
        "---\n",
        "---\n---\n",
        "a: 1\n---\n",
        "a: 1\n---\n# the end",
        "--- # first\na: 1\n--- \nb: 2\n   ",
        "a:\n  b:\n    c: d\n  e: f\ng: h\n",
        "a:\n- 1\n- 2\nb:\n  - x\n  -\n  - y\n",
        "a:\nb:\n- \nc: ~\n",
        "- a\n- b: 1\n  c: 2\n-\n- x\n",
        "- name: x\n  ports:\n  - port: 80\n  -\n    port: 81\n- name: y\n",
        "  a: 1\n  b: 2\n",
        "a: y\nb: on\nc: No\nd: 1.10\ne: 0777\nf: 0x1F\ng: ~\nh:\ni: null\nj: -1\nk: +80\nl: 1_000\nm: .inf\nn: 1e3\no: TRUE\n",
        "a: 'y'\nb: \"on\"\nc: 'it''s'\nd: \"tab\\t \\\"q\\\" \\\\ \\/ \\u00e9 \\x41 \\N \\_ \\L \\P \\0 \\U0001F600\"\n",
        "list: a,b]c}d{e[f\nseq:\n- x],y\n",
        "image: nginx:1.25\nurl: http://example.com/a#b\ncmd: a #comment\ntext: a b  c   \n",
        "labels: {app: web, \"tier\": 'db', x: 'y', n: 1, e: \"\"}\nports: [80, \"http\", {port: 443, protocol: TCP}, [], {}]\nempty: {  }\n",
        "a: {\"k\":\"v\",\"n\":[1,2,{\"x\":null}]}\n",
        "a: [-1, -x, +2, .5, a b]\n",
        "\"quoted key\": 1\n'single': 2\n\"\": 3\n80: http\n",
        "a: é日本語😀\n\"é\": 'ü'\n",
        "script: |\n  line one\n    indented\n\n  after an empty line\nnext: 1\n",
        "a: |-\n  x\n  y\n\n\nb: |+\n  x\n\n\nc: >\n  folded\n  text\n\n  para\n    kept\n  end\nd: >-\n  x\n  y\ne: |\n  no end",
        "- |\n  item\n- >\n  folded\n  item\n",
        "a: |   # a comment\n  x\n",
        "key: value # trailing comment\n# full line\n  # indented comment\nlist:\n# between\n- a # c\n",
        "a:\n  b: 1\n\n\n  c: 2\n",
        "b: -x\nc: ?x\nd: :x\ne: x:y\n",
        "---a: 1\n...a: 2\n",
    ]

    @Test(arguments: subsetTexts)
    func readsAsLibyamlReads(text: String) {
        #expect(Self.disagreement(Data(text.utf8)) == nil, "\(text.debugDescription)")
    }

    /// Texts outside the subset, or mistakes: libyaml's reader reads them.
    static let handedOverTexts: [String] = [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: 1\n...\n",
        "a: multi\n  line\n",
        "a: \"multi\n  line\"\n",
        "a: {b: 1,\n  c: 2}\n",
        "a:\tb\n",
        "a: b\r\n",
        "? complex\n: key\n",
        "[a]: b\n",
        "a: [1, 2, ]\n",
        "a: {b}\n",
        "a: {b: }\n",
        "a: {b:c}\n",
        "a: 1\na: 2\n",
        "a: {b: 1, b: 2}\n",
        "a:\n  b: 1\n c: 2\n",
        "a: b: c\n",
        "- - a\n",
        "a: - b\n",
        "a: |2\n   x\n",
        "a: |\n\n  x\n",
        "a: |\nb: 1\n",
        "a: |\n  x\n   \n  y\n",
        "a: \"\\q\"\n",
        "a: \"\\ud800\"\n",
        "--- a\n",
        "just text\n",
        "{a: 1}\n",
        "a: \u{2028}\n",
        "\u{FEFF}a: 1\n",
        "a: 1\n  b: 2\n",
        "a: \"x\"y\n",
        "a: \"x\"#c\n",
        "a: [b, c]: d\n",
        "a: {\"k\" : v}\n",
        "a: [x # c\n]\n",
        "a: @x\n",
        "k : v\n",
        "\(String(repeating: "k", count: 1_100)): v\n",
    ]

    @Test(arguments: handedOverTexts)
    func handsOver(text: String) throws {
        let data = Data(text.utf8)
        let (subset, _) = Self.readings(data)
        #expect(throws: YAMLSubsetReader.HandOver.self, "\(text.debugDescription)") { try subset.get() }
        // And the parser reads it with libyaml, saying so (unless libyaml refuses it).
        let parsed = Result { () throws(ManifestError) in try DocumentParser.parse(data) }
        if case .success(let parsed) = parsed {
            #expect(parsed.yamlHandOver != nil)
        }
    }

    @Test func loaderNamesTheFileOfAHandOver() {
        let set = load("kind: Namespace\napiVersion: v1\nmetadata: &m {name: a}\n", file: "anchored.yaml")
        #expect(set.yamlHandOvers == ["anchored.yaml: an anchor, alias, tag, block scalar or reserved indicator (line 3)"])
        #expect(set.objects.count == 1)
        #expect(load("kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n").yamlHandOvers == [])
    }

    /// Differential fuzz: random documents in every style the subset reads (and
    /// a few it does not), read both ways. Each one the subset reader reads must
    /// be libyaml's tape; most must be read.
    @Test func generatedYAMLReadsAsLibyamlReads() {
        var random = SplitMix(seed: 2026)
        var read = 0
        let count = 600
        for round in 0..<count {
            let text = RandomYAML.stream(&random)
            let data = Data(text.utf8)
            let (subset, libyaml) = Self.readings(data)
            guard case .success(let mine) = subset else { continue }
            read += 1
            switch libyaml {
            case .failure(let error):
                Issue.record("round \(round): libyaml refuses what the subset read: \(error)\n\(text)")
            case .success(let theirs):
                if let difference = YAMLSubsetReader.firstDifference(mine, theirs) {
                    Issue.record("round \(round): \(difference)\n\(text)")
                }
            }
        }
        #expect(read > count / 2, "only \(read) of \(count) generated texts stayed in the subset")
    }

    /// Mutated examples: whatever the subset reader still reads is libyaml's tape.
    @Test func mutatedExamplesReadAsLibyamlReads() throws {
        var random = SplitMix(seed: 15)
        let seeds = try Self.examples.map { try Data(contentsOf: $0) } + [Data(Self.kubectlList.utf8)]
        let structural = Array("{}[]:-,'\"#|>\n ab1".utf8)
        for round in 0..<3_000 {
            var bytes = [UInt8](seeds[round % seeds.count])
            for _ in 0...random.next(3) where !bytes.isEmpty {
                let position = random.next(bytes.count)
                switch random.next(3) {
                case 0: bytes[position] = structural[random.next(structural.count)]
                case 1: bytes.insert(structural[random.next(structural.count)], at: position)
                default: bytes.remove(at: position)
                }
            }
            let data = Data(bytes)
            guard String(data: data, encoding: .utf8) != nil, case .success(let mine) = Self.readings(data).subset else { continue }
            switch Self.readings(data).libyaml {
            case .failure(let error): Issue.record("round \(round): libyaml refuses what the subset read: \(error)")
            case .success(let theirs):
                if let difference = YAMLSubsetReader.firstDifference(mine, theirs) { Issue.record("round \(round): \(difference)") }
            }
        }
    }

    @Test func utf8ValidationAgreesWithTheStandardLibrary() {
        var random = SplitMix(seed: 8)
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0xA0, 0x8F, 0x90]
        for _ in 0..<20_000 {
            let bytes = (0..<random.next(24)).map { _ in random.next(2) == 0 ? interesting[random.next(interesting.count)] : UInt8(random.next(256)) }
            let valid = bytes.withUnsafeBufferPointer(UTF8Validation.isValid)
            #expect(valid == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
        let text = Array("ascii then é, 日本, 😀 and more ascii to pass eight at a time".utf8)
        #expect(text.withUnsafeBufferPointer(UTF8Validation.isValid))
    }
}

/// A small seeded generator, so that a failure replays.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A number in 0..<bound.
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((mixed ^ (mixed >> 31)) % UInt64(max(bound, 1)))
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[next(choices.count)] }
}

/// Random YAML in the styles manifests use: block and flow collections, plain
/// and quoted scalars (some that YAML 1.1 retypes, some that are not valid
/// plain), block scalars, comments, blank lines and several documents.
enum RandomYAML {
    static let words = [
        "a", "web", "app.kubernetes.io/name", "y", "on", "No", "1.10", "0777", "0x1F", "~", "null", "", "-1", "+80", "1_000",
        "a b", "a:b", "http://x/y#z", "é", "it's", "say \"hi\"", "-", "80", ".inf", "true", "x: y", "[a]", "a,b", "a #b", "\\", "日本",
    ]

    static func stream(_ random: inout SplitMix) -> String {
        (0...random.next(3)).map { _ in
            var text = ""
            block(&random, indent: 0, depth: 0, into: &text)
            return text
        }.joined(separator: random.pick(["---\n", "--- # next\n", "\n---\n"]))
    }

    static func scalar(_ random: inout SplitMix) -> String {
        let word = random.pick(words)
        switch random.next(4) {
        case 0: return "'" + word.replacingOccurrences(of: "'", with: "''") + "'"
        case 1: return jsonQuoted(word)
        default: return word
        }
    }

    static func key(_ random: inout SplitMix) -> String {
        random.next(8) == 0 ? scalar(&random) : random.pick(["name", "kind", "labels", "spec", "ports", "port", "app", "x"]) + String(random.next(40))
    }

    static func flow(_ random: inout SplitMix, depth: Int) -> String {
        let space = random.pick(["", " "])
        switch depth < 3 ? random.next(4) : 3 {
        case 0: return "{" + space + (0..<random.next(3)).map { _ in key(&random) + ":" + " " + flow(&random, depth: depth + 1) }.joined(separator: "," + space) + space + "}"
        case 1: return "[" + (0..<random.next(4)).map { _ in flow(&random, depth: depth + 1) }.joined(separator: "," + space) + "]"
        default: return scalar(&random)
        }
    }

    static func blockScalar(_ random: inout SplitMix, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent + 2)
        let lines = ["text"] + (0..<random.next(4)).map { _ in random.next(4) == 0 ? "" : random.pick(["  more", "text", "a: b", "# not a comment"]) }
        return random.pick(["|", "|-", "|+", ">", ">-"]) + "\n" + lines.map { $0.isEmpty ? "\n" : pad + $0 + "\n" }.joined()
    }

    /// A block mapping or sequence at `indent`, with comments and blank lines between entries.
    static func block(_ random: inout SplitMix, indent: Int, depth: Int, mapping: Bool = false, into text: inout String) {
        let pad = String(repeating: " ", count: indent)
        let isSequence = !mapping && random.next(3) == 0
        for _ in 0..<1 + random.next(3) {
            switch random.next(10) {
            case 0: text += pad + "# comment\n"
            case 1: text += "\n"
            default: break
            }
            text += pad + (isSequence ? "- " : key(&random) + ":")
            switch depth < 3 ? random.next(6) : 0 {
            case 0: text += (isSequence ? "" : " ") + flow(&random, depth: 0) + random.pick(["\n", " # c\n", "\n"])
            case 1:
                text += (isSequence ? "" : " ") + blockScalar(&random, indent: indent)
            case 2 where isSequence:
                // A compact mapping: its first key on the `-` line.
                var nested = ""
                block(&random, indent: indent + 2, depth: depth + 1, mapping: true, into: &nested)
                text += nested.drop { $0 == " " }
            case 3 where !isSequence:
                // An indentless sequence.
                text += "\n"
                for _ in 0..<1 + random.next(2) { text += pad + "- " + flow(&random, depth: 1) + "\n" }
            case 4:
                text += "\n"
            default:
                text += "\n"
                block(&random, indent: indent + 2, depth: depth + 1, into: &text)
            }
        }
    }
}
