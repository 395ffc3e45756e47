import NetpolModel
import Testing

/// One validation rule: a valid object, an invalid one, and the exact lines the
/// API server prints for the invalid one.
struct RuleCase: CustomTestStringConvertible, Sendable {
    let rule: String
    let valid: KubeObject
    let invalid: KubeObject
    let expected: [String]

    var testDescription: String { rule }
}

private let range = "must be between 1 and 65535, inclusive"
private let cidrHint = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
private let subdomainRegex = "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'"
private let qualifiedRegex = "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'"

private func port(_ value: IntOrString?, end: Int? = nil, protocol proto: PortProtocol? = nil) -> NetworkPolicyPort {
    NetworkPolicyPort(protocol: proto, port: value, endPort: end)
}

private func withName(_ name: String, namespace: String = "default") -> KubeObject {
    policy(NetworkPolicySpec(), name: name, namespace: namespace)
}

private func withLabels(_ labels: [String: String]) -> KubeObject {
    .networkPolicy(NetworkPolicy(metadata: ObjectMeta(name: "p", namespace: "default", labels: labels), spec: NetworkPolicySpec()))
}

private func expression(_ key: String, _ op: SelectorOperator, _ values: [String] = []) -> LabelSelector {
    LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: op, values: values)])
}

private func block(_ cidr: String, _ except: [String] = []) -> NetworkPolicyPeer {
    NetworkPolicyPeer(ipBlock: IPBlock(cidr: cidr, except: except))
}

let ruleCases: [RuleCase] = [
    // metadata
    RuleCase(rule: "name is required", valid: withName("web"), invalid: withName(""),
             expected: ["metadata.name: Required value: name or generateName is required"]),
    RuleCase(rule: "name is a DNS subdomain", valid: withName("allow.web-1"), invalid: withName("Allow_Web"),
             expected: ["metadata.name: Invalid value: \"Allow_Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is \(subdomainRegex))"]),
    RuleCase(rule: "name at most 253 characters", valid: withName(String(repeating: "a", count: 253)), invalid: withName(String(repeating: "a", count: 254)),
             expected: ["metadata.name: Invalid value: \"\(String(repeating: "a", count: 254))\": must be no more than 253 characters"]),
    RuleCase(rule: "namespace is a DNS label", valid: withName("p", namespace: "shop-1"), invalid: withName("p", namespace: "shop.prod"),
             expected: ["metadata.namespace: Invalid value: \"shop.prod\": must not contain dots"]),
    RuleCase(rule: "namespace lowercase", valid: withName("p", namespace: "shop"), invalid: withName("p", namespace: "Shop"),
             expected: ["metadata.namespace: Invalid value: \"Shop\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]),
    RuleCase(rule: "label key is a qualified name", valid: withLabels(["example.com/tier": "web"]), invalid: withLabels(["-tier": "web"]),
             expected: ["metadata.labels: Invalid value: \"-tier\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \(qualifiedRegex))"]),
    RuleCase(rule: "label key prefix is a DNS subdomain", valid: withLabels(["a.b/c": "d"]), invalid: withLabels(["A_B/c": "d"]),
             expected: ["metadata.labels: Invalid value: \"A_B/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is \(subdomainRegex))"]),
    RuleCase(rule: "label key has at most one slash", valid: withLabels(["a/b": "c"]), invalid: withLabels(["a/b/c": "d"]),
             expected: ["metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \(qualifiedRegex)) with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]),
    RuleCase(rule: "label value at most 63 characters", valid: withLabels(["k": String(repeating: "v", count: 63)]), invalid: withLabels(["k": String(repeating: "v", count: 64)]),
             expected: ["metadata.labels: Invalid value: \"\(String(repeating: "v", count: 64))\": must be no more than 63 characters"]),
    RuleCase(rule: "label value characters", valid: withLabels(["k": ""]), invalid: withLabels(["k": "a b"]),
             expected: ["metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),

    // selectors
    RuleCase(rule: "In needs values", valid: policy(selecting: expression("tier", .in, ["web"])), invalid: policy(selecting: expression("tier", .in)),
             expected: ["spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]),
    RuleCase(rule: "NotIn needs values", valid: policy(selecting: expression("tier", .notIn, ["web"])), invalid: policy(selecting: expression("tier", .notIn)),
             expected: ["spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]),
    RuleCase(rule: "Exists takes no values", valid: policy(selecting: expression("tier", .exists)), invalid: policy(selecting: expression("tier", .exists, ["web"])),
             expected: ["spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"]),
    RuleCase(rule: "DoesNotExist takes no values", valid: policy(selecting: expression("tier", .doesNotExist)), invalid: policy(selecting: expression("tier", .doesNotExist, ["x"])),
             expected: ["spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"]),
    RuleCase(rule: "operator is known", valid: policy(selecting: expression("tier", .exists)), invalid: policy(selecting: expression("tier", SelectorOperator(rawValue: "Equals"), ["web"])),
             expected: ["spec.podSelector.matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator"]),
    RuleCase(rule: "selector key is a qualified name", valid: policy(selecting: expression("app.kubernetes.io/name", .exists)), invalid: policy(selecting: expression("", .exists)),
             expected: ["spec.podSelector.matchExpressions[0].key: Invalid value: \"\": name part must be non-empty",
                        "spec.podSelector.matchExpressions[0].key: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is \(qualifiedRegex))"]),
    RuleCase(rule: "selector values are label values", valid: policy(selecting: expression("tier", .in, ["web", ""])), invalid: policy(selecting: expression("tier", .in, ["web", "we b"])),
             expected: ["spec.podSelector.matchExpressions[0].values[1]: Invalid value: \"we b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
    RuleCase(rule: "matchLabels are labels", valid: policy(selecting: LabelSelector(matchLabels: ["tier": "web"])), invalid: policy(selecting: LabelSelector(matchLabels: ["tier": "web!"])),
             expected: ["spec.podSelector.matchLabels: Invalid value: \"web!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),

    // ports
    RuleCase(rule: "port at least 1", valid: policy(ports: [port(.int(1))]), invalid: policy(ports: [port(.int(0))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: 0: \(range)"]),
    RuleCase(rule: "port at most 65535", valid: policy(ports: [port(.int(65535))]), invalid: policy(ports: [port(.int(65536))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: 65536: \(range)"]),
    RuleCase(rule: "port name at most 15 characters", valid: policy(ports: [port(.string("abcdefghijklmno"))]), invalid: policy(ports: [port(.string("abcdefghijklmnop"))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: \"abcdefghijklmnop\": must be no more than 15 characters"]),
    RuleCase(rule: "port name lowercase alphanumerics and hyphens", valid: policy(ports: [port(.string("http-alt"))]), invalid: policy(ports: [port(.string("HTTP"))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                        "spec.ingress[0].ports[0].port: Invalid value: \"HTTP\": must contain at least one letter (a-z)"]),
    RuleCase(rule: "port name has a letter", valid: policy(ports: [port(.string("h2"))]), invalid: policy(ports: [port(.string("8080"))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: \"8080\": must contain at least one letter (a-z)"]),
    RuleCase(rule: "port name without double hyphen", valid: policy(ports: [port(.string("a-b"))]), invalid: policy(ports: [port(.string("a--b"))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: \"a--b\": must not contain consecutive hyphens"]),
    RuleCase(rule: "port name without edge hyphen", valid: policy(ports: [port(.string("web"))]), invalid: policy(ports: [port(.string("-web"))]),
             expected: ["spec.ingress[0].ports[0].port: Invalid value: \"-web\": must not begin or end with a hyphen"]),
    RuleCase(rule: "protocol TCP, UDP or SCTP", valid: policy(ports: [port(.int(53), protocol: .udp), port(.int(9), protocol: .sctp), port(nil, protocol: .tcp)]),
             invalid: policy(ports: [port(.int(53), protocol: PortProtocol(rawValue: "udp"))]),
             expected: ["spec.ingress[0].ports[0].protocol: Unsupported value: \"udp\": supported values: \"TCP\", \"UDP\", \"SCTP\""]),
    RuleCase(rule: "endPort not below port", valid: policy(ports: [port(.int(80), end: 80)]), invalid: policy(ports: [port(.int(80), end: 79)]),
             expected: ["spec.ingress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to `port`"]),
    RuleCase(rule: "endPort at most 65535", valid: policy(ports: [port(.int(1), end: 65535)]), invalid: policy(ports: [port(.int(1), end: 65536)]),
             expected: ["spec.ingress[0].ports[0].endPort: Invalid value: 65536: \(range)"]),
    RuleCase(rule: "endPort only with a numeric port", valid: policy(ports: [port(.int(8000), end: 8080)]), invalid: policy(ports: [port(.string("http"), end: 8080)]),
             expected: ["spec.ingress[0].ports[0].endPort: Invalid value: 8080: may not be specified when `port` is non-numeric"]),
    RuleCase(rule: "endPort only with a port", valid: policy(ports: [port(nil)]), invalid: policy(ports: [port(nil, end: 8080)]),
             expected: ["spec.ingress[0].ports[0].endPort: Invalid value: 8080: may not be specified when `port` is not specified"]),

    // peers
    RuleCase(rule: "peer selects something", valid: policy(peers: [NetworkPolicyPeer(podSelector: .everything)]), invalid: policy(peers: [NetworkPolicyPeer()]),
             expected: ["spec.egress[0].to[0]: Required value: must specify a peer"]),
    RuleCase(rule: "ipBlock stands alone (podSelector)",
             valid: policy(peers: [NetworkPolicyPeer(podSelector: .everything, namespaceSelector: .everything)]),
             invalid: policy(peers: [NetworkPolicyPeer(podSelector: .everything, ipBlock: IPBlock(cidr: "10.0.0.0/8"))]),
             expected: ["spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"]),
    RuleCase(rule: "ipBlock stands alone (namespaceSelector)", valid: policy(peers: [block("10.0.0.0/8")]),
             invalid: policy(peers: [NetworkPolicyPeer(namespaceSelector: .everything, ipBlock: IPBlock(cidr: "10.0.0.0/8"))]),
             expected: ["spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"]),
    RuleCase(rule: "ipBlock needs a cidr", valid: policy(peers: [block("0.0.0.0/0")]), invalid: policy(peers: [block("")]),
             expected: ["spec.egress[0].to[0].ipBlock.cidr: Required value"]),
    RuleCase(rule: "cidr is a CIDR", valid: policy(peers: [block("2001:db8::/32")]), invalid: policy(peers: [block("10.0.0.0")]),
             expected: ["spec.egress[0].to[0].ipBlock.cidr: Invalid value: \"10.0.0.0\": \(cidrHint)"]),
    RuleCase(rule: "cidr prefix in range", valid: policy(peers: [block("10.0.0.1/32")]), invalid: policy(peers: [block("10.0.0.0/33")]),
             expected: ["spec.egress[0].to[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": \(cidrHint)"]),
    RuleCase(rule: "except is a CIDR", valid: policy(peers: [block("10.0.0.0/8", ["10.1.0.0/16"])]), invalid: policy(peers: [block("10.0.0.0/8", ["10.1.0.0/16", "ten"])]),
             expected: ["spec.egress[0].to[0].ipBlock.except[1]: Invalid value: \"ten\": \(cidrHint)"]),
    RuleCase(rule: "except inside cidr", valid: policy(peers: [block("10.0.0.0/8", ["10.255.255.255/32"])]), invalid: policy(peers: [block("10.0.0.0/8", ["11.0.0.0/16"])]),
             expected: ["spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"11.0.0.0/16\": must be a strict subset of `cidr`"]),
    RuleCase(rule: "except strictly inside cidr", valid: policy(peers: [block("10.0.0.0/8", ["10.0.0.0/9"])]), invalid: policy(peers: [block("10.0.0.0/8", ["10.0.0.0/8"])]),
             expected: ["spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`"]),
    RuleCase(rule: "except of the same family", valid: policy(peers: [block("2001:db8::/32", ["2001:db8:1::/48"])]), invalid: policy(peers: [block("0.0.0.0/0", ["::/1"])]),
             expected: ["spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"::/1\": must be a strict subset of `cidr`"]),

    // policyTypes
    RuleCase(rule: "policyTypes Ingress or Egress", valid: policy(NetworkPolicySpec(policyTypes: [.ingress, .egress])),
             invalid: policy(NetworkPolicySpec(policyTypes: [PolicyType(rawValue: "ingress")])),
             expected: ["spec.policyTypes[0]: Unsupported value: \"ingress\": supported values: \"Ingress\", \"Egress\""]),
    RuleCase(rule: "policyTypes without duplicates", valid: policy(NetworkPolicySpec(policyTypes: [.egress])),
             invalid: policy(NetworkPolicySpec(policyTypes: [.egress, .egress])),
             expected: ["spec.policyTypes[1]: Duplicate value: \"Egress\""]),
    RuleCase(rule: "policyTypes at most two", valid: policy(NetworkPolicySpec(policyTypes: [.egress, .ingress])),
             invalid: policy(NetworkPolicySpec(policyTypes: [.ingress, .egress, .ingress])),
             expected: ["spec.policyTypes: Invalid value: []networking.PolicyType{\"Ingress\", \"Egress\", \"Ingress\"}: may not specify more than two policyTypes"]),
]

@Suite("Validation equals the API server's ValidateNetworkPolicy")
struct ValidationTests {
    @Test(arguments: ruleCases)
    func rule(_ ruleCase: RuleCase) {
        #expect(messages(ruleCase.valid) == [], "valid case of \(ruleCase.rule)")
        #expect(messages(ruleCase.invalid) == ruleCase.expected)
    }

    @Test func problemsComeInTheAPIServerOrder() {
        let spec = NetworkPolicySpec(
            podSelector: LabelSelector(matchLabels: ["a": "b c"]),
            ingress: [NetworkPolicyIngressRule(ports: [NetworkPolicyPort(port: .int(0))], from: [NetworkPolicyPeer()])],
            egress: [NetworkPolicyEgressRule(to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: ""))])],
            policyTypes: [PolicyType(rawValue: "Both")])
        let paths = Validator.problems(policy(spec, name: "")).map(\.path.description)
        #expect(paths == ["metadata.name", "spec.podSelector.matchLabels", "spec.ingress[0].ports[0].port",
                          "spec.ingress[0].from[0]", "spec.egress[0].to[0].ipBlock.cidr", "spec.policyTypes[0]"])
    }

    @Test func ambiguousCIDRsAreWarningsNotProblems() {
        let object = policy(peers: [block("10.0.0.1/24", ["10.0.0.128/25"]), block("010.0.0.0/8")])
        #expect(messages(object) == [])
        #expect(Validator.warnings(object) == [
            "spec.egress[0].to[0].ipBlock.cidr: CIDR value \"10.0.0.1/24\" is ambiguous in this context (should be \"10.0.0.0/24\" or \"10.0.0.1/32\"?)",
            "spec.egress[0].to[1].ipBlock.cidr: non-standard CIDR value \"010.0.0.0/8\" will be considered invalid in a future Kubernetes release: use \"10.0.0.0/8\"",
        ])
    }

    @Test(arguments: [
        (nil, PolicyMode.enforce, false), ("enforce", .enforce, false), ("audit", .audit, false),
        ("Audit", .enforce, true), ("dry-run", .enforce, true), ("", .enforce, true),
    ] as [(String?, PolicyMode, Bool)])
    func modeAnnotationAuditsOnlyWhenExactlyAuditAndWarnsOfOtherValues(value: String?, mode: PolicyMode, warns: Bool) {
        var policy = NetworkPolicy(metadata: ObjectMeta(name: "p", namespace: "default"), spec: NetworkPolicySpec())
        policy.metadata.annotations[NetworkPolicy.modeAnnotation] = value
        #expect(policy.mode == mode)
        #expect(policy.isAudited == (mode == .audit))
        #expect(messages(.networkPolicy(policy)) == [])
        let warning = "metadata.annotations[netpol.io/mode]: Unsupported value: \"\(value ?? "")\": supported values: \"enforce\", \"audit\": the policy is enforced"
        #expect(Validator.warnings(.networkPolicy(policy)) == (warns ? [warning] : []))
    }

    @Test func namespacesAreDNSLabelsAndClusterScoped() {
        let valid = KubeObject.namespace(Namespace(metadata: ObjectMeta(name: "shop")))
        #expect(messages(valid) == [])
        let dotted = KubeObject.namespace(Namespace(metadata: ObjectMeta(name: "shop.prod", namespace: "default")))
        #expect(messages(dotted) == [
            "metadata.name: Invalid value: \"shop.prod\": must not contain dots",
            "metadata.namespace: Forbidden: not allowed on this type",
        ])
    }

    @Test func podPortsAndAddresses() {
        let ports = [ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "http", containerPort: 0, protocol: PortProtocol(rawValue: "ICMP"))]
        let pod = Pod(
            metadata: ObjectMeta(name: "web", namespace: "shop"),
            spec: PodSpec(containers: [Container(name: "c", ports: ports)]),
            status: PodStatus(podIP: "10.0.0.300", podIPs: [IPAddressText.valid, "fe80::zz"]))
        #expect(messages(.pod(pod)) == [
            "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
            "spec.containers[0].ports[1].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
            "status.podIP: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            "status.podIPs[1].ip: Invalid value: \"fe80::zz\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ])
    }

    @Test func annotationsHaveASizeLimit() {
        let big = ObjectMeta(name: "p", namespace: "default", annotations: ["note": String(repeating: "x", count: 256 * 1024)])
        #expect(messages(.networkPolicy(NetworkPolicy(metadata: big, spec: NetworkPolicySpec()))) == [
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        ])
    }
}

private enum IPAddressText {
    static let valid = "2001:db8::1"
}
