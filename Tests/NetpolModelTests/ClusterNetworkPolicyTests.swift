import Foundation
import NetpolModel
import Testing

/// A ClusterNetworkPolicy named `p`, Admin tier, priority 10, subject every namespace, unless told otherwise.
private func cnp(
    tier: PolicyTier = .admin, priority: Int = 10, subject: ClusterPolicySubject = ClusterPolicySubject(namespaces: .everything),
    ingress: [ClusterPolicyIngressRule] = [], egress: [ClusterPolicyEgressRule] = [], name: String = "p"
) -> ClusterNetworkPolicy {
    ClusterNetworkPolicy(
        metadata: ObjectMeta(name: name),
        spec: ClusterNetworkPolicySpec(tier: tier, priority: priority, subject: subject, ingress: ingress, egress: egress))
}

private func object(_ policy: ClusterNetworkPolicy) -> KubeObject { .clusterNetworkPolicy(policy) }

/// A policy with one egress rule to `peers` with `protocols`.
private func egress(_ peers: [ClusterPolicyPeer], _ protocols: [ClusterPolicyProtocol] = [], action: ClusterPolicyAction = .accept, name: String = "") -> KubeObject {
    object(cnp(egress: [ClusterPolicyEgressRule(name: name, action: action, to: peers, protocols: protocols)]))
}

/// A policy with one ingress rule from every namespace on `protocols`.
private func ingress(_ protocols: [ClusterPolicyProtocol], action: ClusterPolicyAction = .deny) -> KubeObject {
    object(cnp(ingress: [ClusterPolicyIngressRule(action: action, from: [ClusterPolicyPeer(namespaces: .everything)], protocols: protocols)]))
}

private func tcp(_ port: ClusterPolicyPort?) -> ClusterPolicyProtocol {
    ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: port))
}

private let everyNamespace = ClusterPolicyPeer(namespaces: .everything)
private let domainPattern = #"'^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$'"#
private let namedPortRule = "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"
private let protocolPath = "spec.ingress[0].protocols[0]"
private let portPath = protocolPath + ".tcp.destinationPort"

let clusterPolicyRuleCases: [RuleCase] = [
    RuleCase(rule: "name is a DNS subdomain", valid: object(cnp(name: "deny.all-1")), invalid: object(cnp(name: "Deny_All")),
             expected: ["metadata.name: Invalid value: \"Deny_All\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]),
    RuleCase(rule: "tier is Admin or Baseline", valid: object(cnp(tier: .baseline)), invalid: object(cnp(tier: PolicyTier(rawValue: "Foo"))),
             expected: ["spec.tier: Unsupported value: \"Foo\": supported values: \"Admin\", \"Baseline\""]),
    RuleCase(rule: "priority at most 1000", valid: object(cnp(priority: 1000)), invalid: object(cnp(priority: 1001)),
             expected: ["spec.priority: Invalid value: 1001: spec.priority in body should be less than or equal to 1000"]),
    RuleCase(rule: "priority at least 0", valid: object(cnp(priority: 0)), invalid: object(cnp(priority: -1)),
             expected: ["spec.priority: Invalid value: -1: spec.priority in body should be greater than or equal to 0"]),
    RuleCase(rule: "subject sets one field", valid: object(cnp(subject: ClusterPolicySubject(pods: NamespacedPods(podSelector: .everything)))),
             invalid: object(cnp(subject: ClusterPolicySubject(namespaces: .everything, pods: NamespacedPods(podSelector: .everything)))),
             expected: ["spec.subject: Too many: 2: must have at most 1 items"]),
    RuleCase(rule: "subject sets a field", valid: object(cnp()), invalid: object(cnp(subject: ClusterPolicySubject())),
             expected: ["spec.subject: Invalid value: 0: spec.subject in body should have at least 1 properties"]),
    RuleCase(rule: "at most 25 ingress rules",
             valid: object(cnp(ingress: Array(repeating: ClusterPolicyIngressRule(action: .deny, from: [everyNamespace]), count: 25))),
             invalid: object(cnp(ingress: Array(repeating: ClusterPolicyIngressRule(action: .deny, from: [everyNamespace]), count: 26))),
             expected: ["spec.ingress: Too many: 26: must have at most 25 items"]),
    RuleCase(rule: "at most 25 egress rules",
             valid: object(cnp(egress: Array(repeating: ClusterPolicyEgressRule(action: .pass, to: [everyNamespace]), count: 25))),
             invalid: object(cnp(egress: Array(repeating: ClusterPolicyEgressRule(action: .pass, to: [everyNamespace]), count: 26))),
             expected: ["spec.egress: Too many: 26: must have at most 25 items"]),
    RuleCase(rule: "rule name at most 100 characters", valid: egress([everyNamespace], name: String(repeating: "é", count: 100)),
             invalid: egress([everyNamespace], name: String(repeating: "a", count: 101)),
             expected: ["spec.egress[0].name: Too long: may not be more than 100 bytes"]),
    RuleCase(rule: "action is Accept, Deny or Pass", valid: egress([everyNamespace], action: .pass), invalid: egress([everyNamespace], action: ClusterPolicyAction(rawValue: "Allow")),
             expected: ["spec.egress[0].action: Unsupported value: \"Allow\": supported values: \"Accept\", \"Deny\", \"Pass\""]),
    RuleCase(rule: "to has at least one peer", valid: egress([everyNamespace]), invalid: egress([]),
             expected: ["spec.egress[0].to: Invalid value: 0: spec.egress[0].to in body should have at least 1 items"]),
    RuleCase(rule: "from has at most 25 peers",
             valid: object(cnp(ingress: [ClusterPolicyIngressRule(action: .deny, from: Array(repeating: everyNamespace, count: 25))])),
             invalid: object(cnp(ingress: [ClusterPolicyIngressRule(action: .deny, from: Array(repeating: everyNamespace, count: 26))])),
             expected: ["spec.ingress[0].from: Too many: 26: must have at most 25 items"]),
    RuleCase(rule: "a peer sets one field", valid: egress([ClusterPolicyPeer(nodes: .everything)]),
             invalid: egress([ClusterPolicyPeer(namespaces: .everything, networks: ["10.0.0.0/8"])]),
             expected: ["spec.egress[0].to[0]: Too many: 2: must have at most 1 items"]),
    RuleCase(rule: "ingress peers are namespaces or pods", valid: object(cnp(ingress: [ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(pods: NamespacedPods(podSelector: .everything))])])),
             invalid: object(cnp(ingress: [ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(networks: ["10.0.0.0/8"])])])),
             expected: ["spec.ingress[0].from[0].networks: Unknown field: not a field of ClusterNetworkPolicy"]),
    RuleCase(rule: "networks has at least one CIDR", valid: egress([ClusterPolicyPeer(networks: ["10.0.0.0/8"])]), invalid: egress([ClusterPolicyPeer(networks: [])]),
             expected: ["spec.egress[0].to[0].networks: Invalid value: 0: spec.egress[0].to[0].networks in body should have at least 1 items"]),
    RuleCase(rule: "networks has at most 25 CIDRs", valid: egress([ClusterPolicyPeer(networks: (0..<25).map { "10.\($0).0.0/16" })]),
             invalid: egress([ClusterPolicyPeer(networks: (0..<26).map { "10.\($0).0.0/16" })]),
             expected: ["spec.egress[0].to[0].networks: Too many: 26: must have at most 25 items"]),
    RuleCase(rule: "networks are a set", valid: egress([ClusterPolicyPeer(networks: ["10.0.0.0/8", "fd00::/8"])]),
             invalid: egress([ClusterPolicyPeer(networks: ["10.0.0.0/8", "fd00::/8", "10.0.0.0/8"])]),
             expected: ["spec.egress[0].to[0].networks[2]: Duplicate value: \"10.0.0.0/8\""]),
    RuleCase(rule: "a CIDR is at most 43 characters", valid: egress([ClusterPolicyPeer(networks: ["2001:0db8:0000:0000:0000:0000:0000:0001/128"])]),
             invalid: egress([ClusterPolicyPeer(networks: ["2001:0db8:0000:0000:0000:0000:0000:00001/128"])]),
             expected: ["spec.egress[0].to[0].networks[0]: Too long: may not be more than 43 bytes"]),
    RuleCase(rule: "a CIDR is a CIDR (CEL isCIDR)", valid: egress([ClusterPolicyPeer(networks: ["10.0.0.1/8", "::/0"])]),
             invalid: egress([ClusterPolicyPeer(networks: ["10.0.0.0", "010.0.0.0/8", "::ffff:10.0.0.0/104", "10.0.0.0/08", "10.0.0.0/33"])]),
             expected: ["10.0.0.0", "010.0.0.0/8", "::ffff:10.0.0.0/104", "10.0.0.0/08", "10.0.0.0/33"].enumerated().map {
                 "spec.egress[0].to[0].networks[\($0.offset)]: Invalid value: \"\($0.element)\": Invalid CIDR format provided"
             }),
    RuleCase(rule: "domain names match the pattern", valid: egress([ClusterPolicyPeer(domainNames: ["kubernetes.io", "*.kubernetes.io", "my_host.example.com."])]),
             invalid: egress([ClusterPolicyPeer(domainNames: ["localhost", "*kubernetes.io", "www.*.io", "-a.io"])]),
             expected: ["localhost", "*kubernetes.io", "www.*.io", "-a.io"].enumerated().map {
                 "spec.egress[0].to[0].domainNames[\($0.offset)]: Invalid value: \"\($0.element)\": spec.egress[0].to[0].domainNames[\($0.offset)] in body should match \(domainPattern)"
             }),
    RuleCase(rule: "domain names are a set", valid: egress([ClusterPolicyPeer(domainNames: ["a.io", "b.io"])]), invalid: egress([ClusterPolicyPeer(domainNames: ["a.io", "a.io"])]),
             expected: ["spec.egress[0].to[0].domainNames[1]: Duplicate value: \"a.io\""]),
    RuleCase(rule: "at most 25 protocols", valid: ingress(Array(repeating: tcp(ClusterPolicyPort(number: 80)), count: 25)),
             invalid: ingress(Array(repeating: tcp(ClusterPolicyPort(number: 80)), count: 26)),
             expected: ["spec.ingress[0].protocols: Too many: 26: must have at most 25 items"]),
    RuleCase(rule: "a protocol entry sets one field", valid: ingress([ClusterPolicyProtocol(destinationNamedPort: "http")]),
             invalid: ingress([ClusterPolicyProtocol(udp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 53)), destinationNamedPort: "dns")]),
             expected: ["\(protocolPath): Too many: 2: must have at most 1 items"]),
    RuleCase(rule: "a protocol entry sets a field", valid: ingress([ClusterPolicyProtocol(sctp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 9)))]),
             invalid: ingress([ClusterPolicyProtocol()]),
             expected: ["\(protocolPath): Invalid value: 0: \(protocolPath) in body should have at least 1 properties"]),
    RuleCase(rule: "tcp sets destinationPort", valid: ingress([tcp(ClusterPolicyPort(number: 80))]), invalid: ingress([tcp(nil)]),
             expected: ["\(protocolPath).tcp: Invalid value: 0: \(protocolPath).tcp in body should have at least 1 properties"]),
    RuleCase(rule: "a port is a number or a range", valid: ingress([tcp(ClusterPolicyPort(range: PortRange(start: 80, end: 81)))]),
             invalid: ingress([tcp(ClusterPolicyPort(number: 80, range: PortRange(start: 80, end: 81)))]),
             expected: ["\(portPath): Too many: 2: must have at most 1 items"]),
    RuleCase(rule: "port number at most 65535", valid: ingress([tcp(ClusterPolicyPort(number: 65535))]), invalid: ingress([tcp(ClusterPolicyPort(number: 65536))]),
             expected: ["\(portPath).number: Invalid value: 65536: \(portPath).number in body should be less than or equal to 65535"]),
    RuleCase(rule: "port number at least 1", valid: ingress([tcp(ClusterPolicyPort(number: 1))]), invalid: ingress([tcp(ClusterPolicyPort(number: -5))]),
             expected: ["\(portPath).number: Invalid value: -5: \(portPath).number in body should be greater than or equal to 1"]),
    RuleCase(rule: "range ends within 1-65535", valid: ingress([tcp(ClusterPolicyPort(range: PortRange(start: 1, end: 65535)))]),
             invalid: ingress([tcp(ClusterPolicyPort(range: PortRange(start: 1, end: 70000)))]),
             expected: ["\(portPath).range.end: Invalid value: 70000: \(portPath).range.end in body should be less than or equal to 65535"]),
    RuleCase(rule: "range start below end (CEL)", valid: ingress([tcp(ClusterPolicyPort(range: PortRange(start: 80, end: 81)))]),
             invalid: ingress([tcp(ClusterPolicyPort(range: PortRange(start: 81, end: 81)))]),
             expected: ["\(portPath).range: Invalid value: Start port must be less than End port"]),
    RuleCase(rule: "named ports not with networks (CEL)", valid: egress([everyNamespace], [ClusterPolicyProtocol(destinationNamedPort: "http")]),
             invalid: egress([everyNamespace, ClusterPolicyPeer(networks: ["10.0.0.0/8"])], [ClusterPolicyProtocol(destinationNamedPort: "http")]),
             expected: ["spec.egress[0]: Invalid value: \(namedPortRule)"]),
    RuleCase(rule: "named ports not with nodes (CEL)", valid: egress([ClusterPolicyPeer(nodes: .everything)], [tcp(ClusterPolicyPort(number: 22))]),
             invalid: egress([ClusterPolicyPeer(nodes: .everything)], [tcp(ClusterPolicyPort(number: 22)), ClusterPolicyProtocol(destinationNamedPort: "ssh")]),
             expected: ["spec.egress[0]: Invalid value: \(namedPortRule)"]),
    RuleCase(rule: "named ports not with domain names (CEL)", valid: egress([ClusterPolicyPeer(domainNames: ["a.io"])]),
             invalid: egress([ClusterPolicyPeer(domainNames: ["a.io"])], [ClusterPolicyProtocol(destinationNamedPort: "https")]),
             expected: ["spec.egress[0]: Invalid value: \(namedPortRule)"]),
]

@Suite("ClusterNetworkPolicy validation equals the API server's CRD checks")
struct ClusterNetworkPolicyValidationTests {
    @Test(arguments: clusterPolicyRuleCases)
    func rule(_ ruleCase: RuleCase) {
        #expect(messages(ruleCase.valid) == [], "valid case of \(ruleCase.rule)")
        #expect(messages(ruleCase.invalid) == ruleCase.expected)
    }

    /// What the model cannot show is judged while decoding the manifest.
    @Test func writtenProblemsOfAManifest() throws {
        let set = load("""
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: p}
            spec:
              ingress:
              - from: [{}, {pods: {namespaceSelector: {}}}]
                protocols: []
              egress:
              - action: Deny
                protocols: [{tcp: {destinationPort: {range: {start: 80}}}}]
            """)
        #expect(set.errors == [])
        let loaded = try #require(set.objects.first)
        #expect(Validator.problems(loaded).map(\.description) == [
            "spec.tier: Required value",
            "spec.priority: Required value",
            "spec.subject: Required value",
            "spec.ingress[0].action: Required value",
            "spec.ingress[0].from[0]: Invalid value: 0: spec.ingress[0].from[0] in body should have at least 1 properties",
            "spec.ingress[0].from[1].pods.podSelector: Required value",
            "spec.ingress[0].protocols: Invalid value: 0: spec.ingress[0].protocols in body should have at least 1 items",
            "spec.egress[0].to: Required value",
            "spec.egress[0].protocols[0].tcp.destinationPort.range.end: Required value",
        ])
    }

    @Test func aPolicyWithoutSpec() throws {
        let set = load("apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: p}\n")
        let loaded = try #require(set.objects.first)
        #expect(Validator.problems(loaded).map(\.description) == ["spec: Required value"])
    }

    @Test func unsupportedPeersFailClosedWithAWarning() {
        let policy = object(cnp(
            ingress: [ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer()])],
            egress: [
                ClusterPolicyEgressRule(action: .accept, to: [ClusterPolicyPeer(domainNames: ["*.example.com"])]),
                ClusterPolicyEgressRule(action: .pass, to: [ClusterPolicyPeer(domainNames: ["example.com"])]),
            ]))
        #expect(messages(policy) == [])
        #expect(Validator.warnings(policy) == [
            "spec.ingress[0].from[0]: sets no peer field netpol knows (one of a newer CRD?): netpol cannot enforce it and fails closed: this Deny rule matches all traffic",
            "spec.egress[0].to[0].domainNames: not enforced by netpol, which fails closed: this Accept rule matches no traffic",
            "spec.egress[1].to[0].domainNames: not enforced by netpol, which fails closed: this Pass rule matches all traffic",
        ])
    }

    @Test func selectorsAndAmbiguousCIDRsAreWarnings() {
        let bad = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "tier", operator: SelectorOperator(rawValue: "Equals"), values: ["web"])])
        let policy = object(cnp(subject: ClusterPolicySubject(namespaces: bad), egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(networks: ["10.0.0.1/8"])])]))
        #expect(messages(policy) == [])
        #expect(Validator.warnings(policy) == [
            "spec.subject.namespaces.matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator (the API server does not check the selectors of a ClusterNetworkPolicy; this one is not a valid label selector)",
            "spec.egress[0].to[0].networks[0]: CIDR value \"10.0.0.1/8\" is ambiguous in this context (should be \"10.0.0.0/8\" or \"10.0.0.1/32\"?)",
        ])
    }

    @Test func nodesAreCheckedForTheirMetadataOnly() {
        let node = KubeObject.node(Node(metadata: ObjectMeta(name: "Node_1"), addresses: [NodeAddress(type: "Hostname", address: "node 1")]))
        #expect(messages(node).map { String($0.prefix(40)) } == ["metadata.name: Invalid value: \"Node_1\": "])
    }
}

@Suite("ClusterNetworkPolicy and Node decoding")
struct ClusterPolicyDecodingTests {
    @Test func everyField() throws {
        let set = load("""
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: guard, namespace: ignored, labels: {team: platform}}
            spec:
              tier: Admin
              priority: 5
              subject: {pods: {namespaceSelector: {matchLabels: {env: prod}}, podSelector: {matchExpressions: [{key: app, operator: Exists}]}}}
              ingress:
              - name: from-monitoring
                action: Accept
                from: [{namespaces: {matchLabels: {team: monitoring}}}, {pods: {podSelector: {}}}]
                protocols: [{tcp: {destinationPort: {number: 9090}}}, {destinationNamedPort: metrics}]
              egress:
              - action: Deny
                to: [{nodes: {}}, {networks: [10.0.0.0/8, "fd00::/8"]}, {domainNames: ["*.example.com"]}]
                protocols: [{udp: {destinationPort: {range: {start: 1000, end: 2000}}}}, {sctp: {destinationPort: {number: 9}}}]
            status: {conditions: []}
            """)
        #expect(set.errors == [])
        let loaded = try #require(set.objects.first)
        #expect(loaded.unknownFields == [])
        #expect(loaded.writtenProblems == [])
        let expected = ClusterNetworkPolicy(
            metadata: ObjectMeta(name: "guard", labels: ["team": "platform"]),
            spec: ClusterNetworkPolicySpec(
                tier: .admin, priority: 5,
                subject: ClusterPolicySubject(pods: NamespacedPods(
                    namespaceSelector: LabelSelector(matchLabels: ["env": "prod"]),
                    podSelector: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "app", operator: .exists)]))),
                ingress: [ClusterPolicyIngressRule(
                    name: "from-monitoring", action: .accept,
                    from: [ClusterPolicyPeer(namespaces: LabelSelector(matchLabels: ["team": "monitoring"])), ClusterPolicyPeer(pods: NamespacedPods(podSelector: .everything))],
                    protocols: [tcp(ClusterPolicyPort(number: 9090)), ClusterPolicyProtocol(destinationNamedPort: "metrics")])],
                egress: [ClusterPolicyEgressRule(
                    action: .deny,
                    to: [ClusterPolicyPeer(nodes: .everything), ClusterPolicyPeer(networks: ["10.0.0.0/8", "fd00::/8"]), ClusterPolicyPeer(domainNames: ["*.example.com"])],
                    protocols: [
                        ClusterPolicyProtocol(udp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(range: PortRange(start: 1000, end: 2000)))),
                        ClusterPolicyProtocol(sctp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 9))),
                    ])]))
        #expect(loaded.object == .clusterNetworkPolicy(expected))
        #expect(loaded.object.reference == "ClusterNetworkPolicy guard")
        #expect(Validator.problems(loaded) == [])
    }

    @Test func unknownFieldsAreReportedWithTheirPaths() throws {
        let set = load("""
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: p}
            spek: {}
            spec:
              tier: Admin
              priority: 1
              subject: {namespace: {}}
              ingress:
              - action: Deny
                from: [{networks: [10.0.0.0/8]}]
                protocols: [{tcp: {destinationPort: {number: 80, end: 81}}}]
              egress:
              - action: Deny
                to: [{pods: {podSelector: {}, podSelecter: {}}}]
                ports: []
            """)
        let loaded = try #require(set.objects.first)
        #expect(loaded.unknownFields.map(\.description) == [
            "spek", "spec.subject.namespace", "spec.ingress[0].from[0].networks", "spec.ingress[0].protocols[0].tcp.destinationPort.end",
            "spec.egress[0].ports", "spec.egress[0].to[0].pods.podSelecter",
        ])
        #expect(Validator.problems(loaded).first?.description == "spek: Unknown field: not a field of ClusterNetworkPolicy")
    }

    @Test func nodesKeepMetadataAndAddressesOnly() throws {
        let set = load("""
            apiVersion: v1
            kind: NodeList
            items:
            - apiVersion: v1
              kind: Node
              metadata: {name: node-a, labels: {zone: a}}
              spec: {podCIDR: 10.244.1.0/24, taints: [{key: k, effect: NoSchedule}]}
              status:
                addresses: [{type: InternalIP, address: 192.168.1.10}, {type: Hostname, address: node-a}]
                capacity: {cpu: "2"}
                nodeInfo: {kubeletVersion: v1.33.0}
            """)
        #expect(set.errors == [])
        let loaded = try #require(set.objects.first)
        let node = Node(metadata: ObjectMeta(name: "node-a", labels: ["zone": "a"]),
                        addresses: [NodeAddress(type: "InternalIP", address: "192.168.1.10"), NodeAddress(type: "Hostname", address: "node-a")])
        #expect(loaded.object == .node(node))
        #expect(loaded.pathInDocument.description == "items[0]")
        #expect(node.ipAddresses.map(\.description) == ["192.168.1.10"])
        #expect(Validator.problems(loaded) == [])
    }

    @Test func clusterNetworkPolicyLists() {
        let set = load("""
            {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicyList", "items": [
              {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "a"},
               "spec": {"tier": "Baseline", "priority": 0, "subject": {"namespaces": {}}}}]}
            """, file: "list.json")
        #expect(set.errors == [])
        #expect(set.objects.map(\.object.reference) == ["ClusterNetworkPolicy a"])
    }

    @Test func otherVersionsAreRefused() {
        let set = load("""
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: ClusterNetworkPolicy
            metadata: {name: old}
            ---
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: AdminNetworkPolicy
            metadata: {name: anp}
            ---
            apiVersion: v2
            kind: Node
            metadata: {name: node-1}
            ---
            apiVersion: example.com/v1
            kind: AdminNetworkPolicy
            metadata: {name: someone-else}
            """)
        #expect(set.objects == [])
        #expect(set.errors.map(\.description) == [
            "test.yaml:1: ClusterNetworkPolicy old: apiVersion: \"policy.networking.k8s.io/v1alpha1\" is not read by netpol; use policy.networking.k8s.io/v1alpha2",
            "test.yaml:2: AdminNetworkPolicy anp: kind: AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) is not read by netpol; ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) replaces it, with tier Admin",
            "test.yaml:3: Node node-1: apiVersion: \"v2\" is not read by netpol; use v1",
        ])
    }

    @Test func theAPIDecoderReadsThemTooAndIgnoresNewerFields() throws {
        let list = """
            {"kind": "ClusterNetworkPolicyList", "metadata": {"resourceVersion": "7"}, "items": [
              {"metadata": {"name": "a", "resourceVersion": "6"},
               "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}},
                        "egress": [{"action": "Deny", "to": [{"services": {"name": "x"}}]}]},
               "status": {"conditions": []}}]}
            """
        let decoded = try APIDecoder.list(Data(list.utf8), kind: "ClusterNetworkPolicy", apiVersion: "policy.networking.k8s.io/v1alpha2")
        #expect(decoded.resourceVersion == "7")
        let object = try decoded.items[0].get()
        guard case .clusterNetworkPolicy(let policy) = object else { Issue.record("not a ClusterNetworkPolicy: \(object)"); return }
        // A peer of a newer CRD reads as a peer with no field: enforced fail-closed, and valid.
        #expect(policy.spec.egress.first?.to == [ClusterPolicyPeer()])
        #expect(Validator.problems(object) == [])

        let event = #"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}}"#
        guard case .added(.success(.node(let node))) = try APIDecoder.watchEvent(Data(event.utf8)) else { Issue.record("not a Node event"); return }
        #expect(node.ipAddresses.map(\.description) == ["10.0.0.1"])
    }
}

@Suite("ClusterNetworkPolicy ties: one tier, one priority, subjects that may overlap")
struct ClusterPolicyTieTests {
    private static func labels(_ pairs: [String: String]) -> LabelSelector { LabelSelector(matchLabels: pairs) }
    private static func expression(_ key: String, _ op: SelectorOperator, _ values: [String] = []) -> LabelSelector {
        LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: op, values: values)])
    }

    @Test(arguments: [
        (LabelSelector.everything, labels(["a": "1"]), true),
        (labels(["a": "1"]), labels(["a": "2"]), false),
        (labels(["a": "1"]), labels(["b": "2"]), true),
        (labels(["a": "1"]), expression("a", .notIn, ["1"]), false),
        (labels(["a": "1"]), expression("a", .notIn, ["2"]), true),
        (expression("a", .in, ["1", "2"]), expression("a", .in, ["2", "3"]), true),
        (expression("a", .in, ["1"]), expression("a", .in, ["2", "3"]), false),
        (expression("a", .exists), expression("a", .doesNotExist), false),
        (expression("a", .notIn, ["1"]), expression("a", .doesNotExist), true),
        (expression("a", .in, []), .everything, false),
        (expression("a", SelectorOperator(rawValue: "Equals"), ["1"]), .everything, false),
    ])
    func selectorsMayOverlap(first: LabelSelector, second: LabelSelector, overlap: Bool) {
        #expect(first.mayOverlap(second) == overlap)
        #expect(second.mayOverlap(first) == overlap)
    }

    @Test func tiesAreSameTierSamePriorityOverlappingSubjects() {
        let prod = ClusterPolicySubject(namespaces: Self.labels(["env": "prod"]))
        let dev = ClusterPolicySubject(namespaces: Self.labels(["env": "dev"]))
        let prodWeb = ClusterPolicySubject(pods: NamespacedPods(namespaceSelector: Self.labels(["env": "prod"]), podSelector: Self.labels(["app": "web"])))
        let policies = [
            cnp(subject: prodWeb, name: "b"), cnp(subject: prod, name: "a"), cnp(subject: dev, name: "c"),
            cnp(tier: .baseline, subject: prod, name: "d"), cnp(priority: 11, subject: prod, name: "e"),
        ]
        #expect(ClusterPolicyTie.ties(among: policies).map { "\($0.first.name) \($0.second.name)" } == ["a b"])
        #expect(ClusterPolicyTie.ties(among: policies).first?.description
            == "spec.priority: Admin tier policy with the same priority (10) as ClusterNetworkPolicy a, and their subjects may select the same pods: upstream leaves their order undefined; netpol orders them by name (a first)")
    }
}
