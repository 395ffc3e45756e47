import Foundation
import NetpolModel
import Testing

private let policyYAML = """
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: api
      namespace: shop
      labels: {team: shop}
    spec:
      podSelector:
        matchLabels: {tier: backend}
        matchExpressions:
        - {key: track, operator: NotIn, values: [canary]}
      policyTypes: [Ingress, Egress]
      ingress:
      - from:
        - podSelector: {matchLabels: {tier: frontend}}
          namespaceSelector: {matchLabels: {team: shop}}
        - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
        ports:
        - {port: api}
        - {protocol: UDP, port: 5000, endPort: 5010}
      egress:
      - {}
    """

@Suite("Decoding manifests")
struct DecodingTests {
    @Test func everyFieldOfANetworkPolicy() throws {
        let set = load(policyYAML)
        #expect(set.errors == [])
        let loaded = try #require(set.objects.first)
        guard case .networkPolicy(let policy) = loaded.object else {
            Issue.record("expected a NetworkPolicy, got \(loaded.object.kind)")
            return
        }
        let expected = NetworkPolicy(
            metadata: ObjectMeta(name: "api", namespace: "shop", labels: ["team": "shop"]),
            spec: NetworkPolicySpec(
                podSelector: LabelSelector(
                    matchLabels: ["tier": "backend"],
                    matchExpressions: [LabelSelectorRequirement(key: "track", operator: .notIn, values: ["canary"])]),
                ingress: [NetworkPolicyIngressRule(
                    ports: [NetworkPolicyPort(port: .string("api")), NetworkPolicyPort(protocol: .udp, port: .int(5000), endPort: 5010)],
                    from: [
                        NetworkPolicyPeer(podSelector: LabelSelector(matchLabels: ["tier": "frontend"]),
                                          namespaceSelector: LabelSelector(matchLabels: ["team": "shop"])),
                        NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.0/8", except: ["10.1.0.0/16"])),
                    ])],
                egress: [NetworkPolicyEgressRule()],
                policyTypes: [.ingress, .egress]))
        #expect(policy == expected)
        #expect(loaded.location == "test.yaml:1")
        #expect(loaded.unknownFields == [])
    }

    @Test func jsonReadsLikeYAML() throws {
        let json = """
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "api", "namespace": "shop", "labels": {"team": "shop"}},
             "spec": {"podSelector": {"matchLabels": {"tier": "backend"},
                      "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]},
              "policyTypes": ["Ingress", "Egress"],
              "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "frontend"}},
                                     "namespaceSelector": {"matchLabels": {"team": "shop"}}},
                                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                           "ports": [{"port": "api"}, {"protocol": "UDP", "port": 5000, "endPort": 5010}]}],
              "egress": [{}]}}
            """
        let fromJSON = load(json, file: "p.json")
        let fromYAML = load(policyYAML)
        #expect(fromJSON.errors == [])
        #expect(fromJSON.objects.map(\.object) == fromYAML.objects.map(\.object))
    }

    @Test func podFieldsAndDefaults() throws {
        let set = load("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: web
              labels: {app: web}
              deletionTimestamp: "2026-11-26T10:00:00Z"
            spec:
              nodeName: node-a
              hostNetwork: true
              containers:
              - name: a
                ports:
                - {name: http, containerPort: 8080}
                - {name: dns, containerPort: 53, protocol: UDP}
            status:
              phase: Running
              podIP: 10.0.0.5
              podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]
            """)
        #expect(set.errors == [])
        let expected = Pod(
            metadata: ObjectMeta(name: "web", namespace: "default", labels: ["app": "web"], deletionTimestamp: "2026-11-26T10:00:00Z"),
            spec: PodSpec(nodeName: "node-a", hostNetwork: true, containers: [
                Container(name: "a", ports: [ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "dns", containerPort: 53, protocol: .udp)])
            ]),
            status: PodStatus(phase: "Running", podIP: "10.0.0.5", podIPs: ["10.0.0.5", "fd00::5"]))
        #expect(set.objects.map(\.object) == [.pod(expected)])
        #expect(expected.status.addresses == ["10.0.0.5", "fd00::5"])
    }

    @Test func multipleDocumentsAreNumbered() {
        let set = load("""
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: a}
            ---
            # only a comment: an empty document still counts
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: skipped}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: b}
            """)
        #expect(set.errors == [])
        #expect(set.objects.map(\.location) == ["test.yaml:1", "test.yaml:4"])
        #expect(set.objects.map(\.object.metadata.name) == ["a", "b"])
    }

    @Test func listsAsKubectlPrintsThem() {
        let set = load("""
            apiVersion: v1
            kind: List
            metadata: {resourceVersion: ""}
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: shop}
            - apiVersion: v1
              kind: Service
              metadata: {name: skipped}
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: shop}
              spec: {containers: "oops"}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: deny, namespace: shop}
              spec: {podSelector: {}}
            """)
        #expect(set.objects.map(\.object.reference) == ["Namespace shop", "NetworkPolicy shop/deny"])
        #expect(set.objects.map(\.pathInDocument.description) == ["items[0]", "items[3]"])
        #expect(set.errors.map(\.description) == [
            "test.yaml:1: Pod shop/web: items[2].spec.containers: expected a list, got a string (\"oops\") (line 14)"
        ])
    }

    @Test func typedListsToo() {
        let set = load("""
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicyList", "items": [
              {"metadata": {"name": "a", "namespace": "x"}, "spec": {}, "kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1"}]}
            """)
        #expect(set.objects.map(\.object.reference) == ["NetworkPolicy x/a"])
    }

    @Test func standardInput() {
        let set = ManifestLoader.load(["-"], standardInput: { Data("apiVersion: v1\nkind: Namespace\nmetadata: {name: from-stdin}\n".utf8) })
        #expect(set.errors == [])
        #expect(set.files == ["-"])
        #expect(set.objects.map(\.location) == ["-:1"])
    }

    @Test func directoriesRecursivelyInNameOrder() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let namespace = { (name: String) in "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n" }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("nested/deeper"), withIntermediateDirectories: true)
        try namespace("b").write(to: root.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        try namespace("a").write(to: root.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"c\"}}"
            .write(to: root.appendingPathComponent("nested/deeper/c.json"), atomically: true, encoding: .utf8)
        try "not: [a manifest".write(to: root.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try namespace("hidden").write(to: root.appendingPathComponent(".hidden.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("nested/loop"), withDestinationURL: root)

        let set = ManifestLoader.load([root.path])
        #expect(set.errors == [])
        #expect(set.objects.map(\.object.metadata.name) == ["a", "b", "c"])
        #expect(set.files.map { $0.replacingOccurrences(of: root.path, with: "ROOT") } == ["ROOT/a.yaml", "ROOT/b.yml", "ROOT/nested/deeper/c.json"])
    }

    @Test func missingPathIsAnError() {
        let set = ManifestLoader.load(["/nonexistent/netpol.yaml"])
        #expect(set.errors.map(\.description) == ["/nonexistent/netpol.yaml: no such file or directory"])
        #expect(set.errors.map(\.code) == [.unreadable])
    }

    @Test func namespaceDefaultsToDefault() {
        let set = load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {}\n")
        #expect(set.objects.map(\.object.reference) == ["NetworkPolicy default/p"])
    }

    @Test func yamlScalarsTypedAsKubernetesTypesThem() {
        // "80" quoted is a port name (invalid: no letter), 80 plain is a number, 0x50 is 80.
        let set = load("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p}
            spec:
              ingress:
              - ports: [{port: "80"}, {port: 80}, {port: 0x50}, {port: http}]
            """)
        guard case .networkPolicy(let policy)? = set.objects.first?.object else {
            Issue.record("no policy decoded: \(set.errors)")
            return
        }
        #expect(policy.spec.ingress[0].ports.map(\.port) == [.string("80"), .int(80), .int(80), .string("http")])
    }

    @Test(arguments: [
        ("labels: {enabled: yes}", "metadata.labels.enabled: expected a string, got a boolean (true); quote it to keep it text (line 4)"),
        ("labels: {version: 1.10}", "metadata.labels.version: expected a string, got a number (1.1); quote it to keep it text (line 4)"),
        ("name: [a]", "metadata.name: expected a string, got a list (line 4)"),
    ])
    func wrongScalarTypes(metadataLine: String, expected: String) {
        let set = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  \(metadataLine)\n")
        #expect(set.objects == [])
        #expect(set.errors.map(\.description) == ["test.yaml:1: Namespace (unnamed): \(expected)"])
    }

    @Test func numbersOutsideInt32() {
        let set = load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - ports: [{port: 99999999999}]\n")
        #expect(set.errors.map(\.description) == [
            "test.yaml:1: NetworkPolicy default/p: spec.ingress[0].ports[0].port: 99999999999 does not fit a 32-bit integer (line 6)"
        ])
    }

    @Test func unknownNetworkPolicyFieldsAreRecorded() {
        let set = load("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p}
            spec:
              podSelecter: {}
              ingress:
              - from: [{podSelector: {matchLabel: {a: b}}}]
                port: [{port: 80}]
            """)
        #expect(set.objects.first?.unknownFields.map(\.description) == [
            "podSelecter", "ingress[0].port", "ingress[0].from[0].podSelector.matchLabel",
        ].map { "spec." + $0 })
        #expect(set.objects.first.map(Validator.problems)?.first?.description == "spec.podSelecter: Unknown field: not a field of NetworkPolicy")
    }

    @Test func unsupportedAPIVersions() {
        let set = load("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: old}\n---\napiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: calico}\n")
        #expect(set.objects == [])
        #expect(set.errors.map(\.description) == [
            "test.yaml:1: NetworkPolicy default/old: apiVersion: \"extensions/v1beta1\" is not read by netpol; use networking.k8s.io/v1"
        ])
    }
}

@Suite("Addresses and ranges")
struct AddressTests {
    @Test(arguments: [
        ("10.0.0.1", "10.0.0.1"), ("010.000.000.001", "10.0.0.1"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::", "::"), ("::1", "::1"), ("fe80::", "fe80::"), ("1:0:0:1:0:0:0:1", "1:0:0:1::1"), ("::ffff:10.1.2.3", "::ffff:a01:203"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ])
    func parsesAndPrintsCanonically(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-1", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", " 1.2.3.4",
                           "1..2.3", "1.2.3.", ".1.2.3", "1.2.3.4 ", "0001.2.3.4", "1.2.3.1000", "1.2.3.٣"])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }

    /// Leading zeros: read as decimal by the lenient parser (as the API server's
    /// legacy validation does), refused by the strict one.
    @Test func leadingZerosAreStrictOnly() {
        #expect(IPAddress("010.001.0.0")?.description == "10.1.0.0")
        #expect(IPAddress("010.1.0.0", strict: true) == nil)
        #expect(IPAddress("10.1.0.00", strict: true) == nil)
        #expect(IPAddress("0.0.0.0", strict: true)?.description == "0.0.0.0")
        #expect(IPAddress("255.255.255.255", strict: true)?.description == "255.255.255.255")
    }

    @Test func cidrContainment() throws {
        let block = try #require(CIDR("10.0.0.1/8"))
        #expect(block.description == "10.0.0.0/8")
        #expect(block.contains(try #require(IPAddress("10.255.0.1"))))
        #expect(!block.contains(try #require(IPAddress("11.0.0.0"))))
        #expect(block.contains(try #require(CIDR("10.1.0.0/16"))))
        #expect(!block.contains(try #require(CIDR("0.0.0.0/0"))))
        #expect(try #require(CIDR("::/0")).contains(try #require(IPAddress("2001:db8::1"))))
        #expect(!(try #require(CIDR("::/0")).contains(try #require(IPAddress("10.0.0.1")))))
        #expect(try #require(CIDR("2001:db8::/127")).description == "2001:db8::/127")
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("::/129") == nil)
    }
}
