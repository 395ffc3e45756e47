import NetpolDataplane
import NetpolLab
import NetpolModel
import NetpolTesting
import Testing

struct TierLabCase: CustomStringConvertible, Sendable {
    let nodes: [String]
    let backend: Backend

    var description: String { "\(nodes.count) node\(nodes.count == 1 ? "" : "s"), \(backend)" }
}

/// ClusterNetworkPolicy tiers on a real kernel: an Admin Deny and Pass around
/// a NetworkPolicy, and a Baseline Deny, probed with real connections on one
/// node and on three, with both backends; then the Deny becomes a Pass.
@Suite("Cluster policy tiers in the lab", .enabled(if: isRoot, Comment(rawValue: rootOnly)))
struct LabTierTests {
    static let cases = Backend.allCases.flatMap { backend in [["node-1"], ["node-1", "node-2", "node-3"]].map { TierLabCase(nodes: $0, backend: backend) } }

    @Test(arguments: cases)
    func kernelMatchesTheEngineThroughTheTiers(_ labCase: TierLabCase) throws {
        var cluster = ConformanceModel.cluster(nodes: labCase.nodes)
        let tcp80 = ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 80)))
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "guard-x"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 10, subject: ClusterPolicySubject(namespaces: .labels(["ns": "x"])),
            ingress: [
                ClusterPolicyIngressRule(action: .pass, from: [ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: .labels(["ns": "y"]), podSelector: .labels(["pod": "a"])))], protocols: [tcp80]),
                ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(namespaces: .labels(["ns": "y"]))]),
            ])))
        cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "no-z"), spec: ClusterNetworkPolicySpec(
            tier: .baseline, priority: 1, subject: ClusterPolicySubject(namespaces: .everything),
            ingress: [ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(namespaces: .labels(["ns": "z"]))])],
            egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(networks: ["10.0.2.3/32"])], protocols: [tcp80])])))
        let lab = try Lab(snapshot: cluster.snapshot, backend: labCase.backend, iptablesMode: .nft)
        defer { lab.teardown() }
        try probe(lab, "\(labCase), first")

        cluster.clusterPolicies["guard-x"]?.spec.ingress[1].action = .pass
        let outcomes = try lab.program(cluster.snapshot)
        #expect(outcomes.allSatisfy { $0.fallback == nil }, "the change fell back to a whole replace: \(outcomes.compactMap(\.fallback))")
        try probe(lab, "\(labCase), after the Deny became a Pass")
    }

    private func probe(_ lab: Lab, _ label: String) throws {
        for (port, proto) in [(80, PortProtocol.tcp), (81, .tcp), (80, .udp)] {
            let result = try lab.run(port: .int(port), protocol: proto)
            #expect(result.mismatches.isEmpty, "\(label) \(proto)/\(port): kernel differs from the engine at \(result.mismatches.map { "\($0.from)->\($0.to)" })")
            // Not a trivial matrix: the tiers both allow and deny.
            let cells = result.expected.flatMap { $0 }
            #expect(cells.contains(true) && cells.contains(false), "\(label) \(proto)/\(port)")
        }
    }
}
