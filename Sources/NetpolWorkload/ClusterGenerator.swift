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
///
/// With `clusterPolicies`, Node objects (labelled by zone, addressed from
/// 192.168.0.0/16) and ClusterNetworkPolicies follow, from a random stream of
/// their own so that the rest stays the same: Admin and Baseline, namespace and
/// pod subjects, namespace, pod, network and node peers, port numbers, ranges and
/// named ports, with Accept, Deny and Pass.
public struct ClusterGenerator: Sendable {
    public var namespaces: Int
    public var pods: Int
    public var policies: Int
    public var nodes: Int
    public var seed: UInt64
    public var ipv6: Bool
    public var clusterPolicies: Int

    static let apps = (0..<25).map { "app-\($0)" }
    static let tiers = ["web", "api", "db", "cache"]
    static let teams = (0..<5).map { "team-\($0)" }

    public init(namespaces: Int, pods: Int, policies: Int, nodes: Int, seed: UInt64 = 1, ipv6: Bool = false, clusterPolicies: Int = 0) {
        self.clusterPolicies = max(0, clusterPolicies)
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
        guard clusterPolicies > 0 else { return objects }
        var clusterRandom = SeededGenerator(seed: seed &+ 0x636e70)
        for (number, name) in nodeNames.enumerated() {
            objects.append(.node(Node(
                metadata: ObjectMeta(name: name, labels: ["zone": "zone-\(number % 3)"]),
                addresses: [NodeAddress(type: "InternalIP", address: "192.168.\(number / 256 % 256).\(number % 256)")])))
        }
        for number in 0..<clusterPolicies {
            objects.append(.clusterNetworkPolicy(clusterPolicy(number, random: &clusterRandom)))
        }
        return objects
    }

    private func clusterPolicy(_ number: Int, random: inout SeededGenerator) -> ClusterNetworkPolicy {
        func team() -> LabelSelector { LabelSelector(matchLabels: ["team": Self.teams.randomElement(using: &random)!]) }
        func app() -> LabelSelector { LabelSelector(matchLabels: ["app": Self.apps.randomElement(using: &random)!]) }
        func port(_ number: Int) -> ClusterPolicyProtocol {
            ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: number)))
        }
        let range = ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(range: PortRange(start: 8000, end: 8002))))
        let subject = number.isMultiple(of: 2)
            ? ClusterPolicySubject(namespaces: team())
            : ClusterPolicySubject(pods: NamespacedPods(namespaceSelector: team(), podSelector: app()))
        let ingress: [ClusterPolicyIngressRule]
        let egress: [ClusterPolicyEgressRule]
        switch number % 5 {
        case 0:
            // Monitoring may scrape; other teams may not reach the metrics port.
            ingress = [
                ClusterPolicyIngressRule(name: "scrape", action: .accept, from: [ClusterPolicyPeer(namespaces: LabelSelector(matchLabels: ["team": "team-0"]))],
                                         protocols: [ClusterPolicyProtocol(destinationNamedPort: "metrics")]),
                ClusterPolicyIngressRule(name: "no-metrics", action: .deny, from: [ClusterPolicyPeer(namespaces: .everything)], protocols: [port(9100)]),
            ]
            egress = []
        case 1:
            // Leave same-team traffic to NetworkPolicy; deny the rest of the cluster's HTTP.
            ingress = [
                ClusterPolicyIngressRule(action: .pass, from: [ClusterPolicyPeer(namespaces: team())]),
                ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(pods: NamespacedPods(podSelector: app()))], protocols: [range]),
            ]
            egress = []
        case 2:
            ingress = []
            egress = [
                ClusterPolicyEgressRule(name: "no-metadata", action: .deny, to: [ClusterPolicyPeer(networks: ["169.254.169.254/32", "10.200.0.0/16"])]),
                ClusterPolicyEgressRule(action: .accept, to: [ClusterPolicyPeer(networks: ["10.0.0.0/16"])], protocols: [port(443), range]),
            ]
        case 3:
            ingress = []
            egress = [
                ClusterPolicyEgressRule(name: "nodes-kubelet", action: .accept, to: [ClusterPolicyPeer(nodes: LabelSelector(matchLabels: ["zone": "zone-\(number % 3)"]))],
                                        protocols: [port(10250)]),
                ClusterPolicyEgressRule(action: .pass, to: [ClusterPolicyPeer(namespaces: team())], protocols: [ClusterPolicyProtocol(destinationNamedPort: "grpc")]),
            ]
        default:
            ingress = [ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(namespaces: team()), ClusterPolicyPeer(namespaces: team())])]
            egress = [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: team(), podSelector: app()))])]
        }
        // Every third policy is a Baseline (the cluster's defaults); the rest are Admin rules.
        return ClusterNetworkPolicy(metadata: ObjectMeta(name: "cluster-policy-\(number)"), spec: ClusterNetworkPolicySpec(
            tier: number % 3 == 2 ? .baseline : .admin, priority: Int.random(in: 0...100, using: &random),
            subject: subject, ingress: ingress, egress: egress))
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
