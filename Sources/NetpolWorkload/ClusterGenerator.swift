import NetpolModel

/// Generates a synthetic cluster with a realistic mix of NetworkPolicies, the
/// same for the same parameters and seed: the input of benchmarks and scale tests.
///
/// Pods are spread evenly over namespaces and at random over nodes, labelled
/// `app` (one of 25) and `tier` (web, api, db, cache), and serve named ports
/// `http` (8000-8002), `grpc` (9000) and `metrics` (9100). Addresses come from
/// 10.0.0.0/8 (and fd00::/64 as well with `ipv6`). Policies: one default deny per
/// namespace first, then in turn allow-from-same-namespace, allow from labelled
/// namespaces (matchExpressions) on a named port, allow by pod labels with
/// matchExpressions on a port range, ipBlock-with-except egress on a named and a
/// numbered port, egress to pods of every namespace, and metrics scraping.
public struct ClusterGenerator: Sendable {
    public var namespaces: Int
    public var pods: Int
    public var policies: Int
    public var nodes: Int
    public var seed: UInt64
    public var ipv6: Bool

    static let apps = (0..<25).map { "app-\($0)" }
    static let tiers = ["web", "api", "db", "cache"]
    static let teams = (0..<5).map { "team-\($0)" }

    public init(namespaces: Int, pods: Int, policies: Int, nodes: Int, seed: UInt64 = 1, ipv6: Bool = false) {
        self.namespaces = max(1, namespaces)
        self.pods = max(0, pods)
        self.policies = max(0, policies)
        self.nodes = max(1, nodes)
        self.seed = seed
        self.ipv6 = ipv6
    }

    /// The node names: `node-0`, `node-1`, ...
    public var nodeNames: [String] { (0..<nodes).map { "node-\($0)" } }

    public func objects() -> [KubeObject] {
        var random = SeededGenerator(seed: seed)
        var objects: [KubeObject] = []
        let namespaceNames = (0..<namespaces).map { "ns-\($0)" }
        for (index, name) in namespaceNames.enumerated() {
            objects.append(.namespace(Namespace(metadata: ObjectMeta(name: name, labels: [
                "team": Self.teams[index % Self.teams.count], "env": index.isMultiple(of: 2) ? "dev" : "prod",
            ]))))
        }
        for number in 0..<pods {
            objects.append(.pod(pod(number, namespace: namespaceNames[number % namespaces], random: &random)))
        }
        for number in 0..<policies {
            objects.append(.networkPolicy(policy(number, namespace: namespaceNames[number % namespaces], random: &random)))
        }
        return objects
    }

    /// 10.x.y.z for pod `number` (and fd00::x:yz with IPv6).
    static func addresses(_ number: Int, ipv6: Bool) -> [String] {
        let v4 = "10.\(number / 65536 % 256).\(number / 256 % 256).\(number % 256)"
        return ipv6 ? [v4, "fd00::\(String(number / 65536, radix: 16)):\(String(number % 65536, radix: 16))"] : [v4]
    }

    private func pod(_ number: Int, namespace: String, random: inout SeededGenerator) -> Pod {
        let addresses = Self.addresses(number + 1, ipv6: ipv6)
        return Pod(
            metadata: ObjectMeta(name: "pod-\(number)", namespace: namespace, labels: [
                "app": Self.apps.randomElement(using: &random)!, "tier": Self.tiers.randomElement(using: &random)!,
            ]),
            spec: PodSpec(nodeName: "node-\(Int.random(in: 0..<nodes, using: &random))", containers: [
                Container(name: "main", ports: [
                    ContainerPort(name: "http", containerPort: 8000 + number % 3),
                    ContainerPort(name: "grpc", containerPort: 9000),
                    ContainerPort(name: "metrics", containerPort: 9100),
                ]),
            ]),
            status: PodStatus(phase: "Running", podIP: addresses[0], podIPs: addresses))
    }

    private func policy(_ number: Int, namespace: String, random: inout SeededGenerator) -> NetworkPolicy {
        let meta = ObjectMeta(name: "policy-\(number)", namespace: namespace)
        func app() -> LabelSelector { LabelSelector(matchLabels: ["app": Self.apps.randomElement(using: &random)!]) }
        func tier() -> LabelSelector { LabelSelector(matchLabels: ["tier": Self.tiers.randomElement(using: &random)!]) }
        // The first policy of every namespace is its default deny.
        if number < namespaces {
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(
                egress: [NetworkPolicyEgressRule(ports: [NetworkPolicyPort(protocol: .udp, port: .int(53))])],
                policyTypes: [.ingress, .egress]))
        }
        switch number % 6 {
        case 0:
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(
                podSelector: app(), ingress: [NetworkPolicyIngressRule(from: [NetworkPolicyPeer(podSelector: .everything)])]))
        case 1:
            let teams = [Self.teams.randomElement(using: &random)!, Self.teams.randomElement(using: &random)!]
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(podSelector: tier(), ingress: [NetworkPolicyIngressRule(
                ports: [NetworkPolicyPort(port: .string("http"))],
                from: [NetworkPolicyPeer(namespaceSelector: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "team", operator: .in, values: teams)]))])]))
        case 2:
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(podSelector: app(), ingress: [NetworkPolicyIngressRule(
                ports: [NetworkPolicyPort(port: .int(8000), endPort: 8002)],
                from: [NetworkPolicyPeer(
                    podSelector: LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "tier", operator: .notIn, values: ["db"])]),
                    namespaceSelector: LabelSelector(matchLabels: ["env": "prod"]))])]))
        case 3:
            let hole = Int.random(in: 0..<4, using: &random)
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(podSelector: tier(), egress: [NetworkPolicyEgressRule(
                ports: [NetworkPolicyPort(protocol: .tcp, port: .int(443)), NetworkPolicyPort(port: .string("http"))],
                to: [NetworkPolicyPeer(ipBlock: IPBlock(cidr: "10.0.0.0/16", except: ["10.0.\(hole).0/24"]))])], policyTypes: [.egress]))
        case 4:
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(podSelector: app(), egress: [NetworkPolicyEgressRule(
                to: [NetworkPolicyPeer(podSelector: tier(), namespaceSelector: .everything)])], policyTypes: [.egress]))
        default:
            let team = Self.teams.randomElement(using: &random)!
            return NetworkPolicy(metadata: meta, spec: NetworkPolicySpec(ingress: [NetworkPolicyIngressRule(
                ports: [NetworkPolicyPort(port: .string("metrics"))],
                from: [NetworkPolicyPeer(namespaceSelector: LabelSelector(matchLabels: ["team": team]))])]))
        }
    }
}
