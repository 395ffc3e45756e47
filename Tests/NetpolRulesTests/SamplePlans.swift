import NetpolModel
import NetpolRules
import NetpolTesting

/// node-1's plan for a dual-stack x/y/z cluster with every kind of set: pod
/// addresses, an ipBlock minus an exception (an interval set), a named port on
/// egress (`address . protocol . port`), a port range.
func dualStackPlan(guards: NodeGuards = NodeGuards(), _ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
    var cluster = ConformanceModel.cluster(dualStack: true)
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
    cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]),
                                ingress: [.init(ports: [.tcp(80), .range(8000, 8080)], from: [.namespaces(.labels(["ns": "y"]))])]))
    cluster.apply(networkPolicy("out", in: "x", selecting: .labels(["pod": "a"]), types: [.egress], egress: [
        .init(ports: [.named("serve-80-tcp")], to: [.pods(.labels(["pod": "b"]), inNamespaces: .everything)]),
        .init(to: [.block("192.0.2.0/24", except: ["192.0.2.64/26"])]),
    ]))
    change(&cluster)
    return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, guards: guards)
}

/// Both node guards, over part of the x/y/z cluster's addresses in each family.
let sampleGuards = NodeGuards(podRanges: [CIDR("10.0.1.0/24")!, CIDR("10.0.2.0/25")!, CIDR("fd00::1:0/112")!], synOnlyOpens: true)


/// The x/y/z cluster (dual-stack, on node-1 and node-2) with both tiers around
/// a NetworkPolicy: every action, every kind of cluster peer, a named port on
/// both sides and a port range. `change` edits it further.
func tieredCluster(_ change: (inout Cluster) -> Void = { _ in }) -> Cluster {
    var cluster = ConformanceModel.cluster(dualStack: true, nodes: ["node-1", "node-2"])
    for (number, name) in ["node-1", "node-2"].enumerated() {
        cluster.nodes[name] = Node(metadata: ObjectMeta(name: name, labels: ["zone": number == 0 ? "a" : "b"]),
                                   addresses: [NodeAddress(type: "InternalIP", address: "192.168.0.\(number + 1)"), NodeAddress(type: "Hostname", address: name)])
    }
    let tcp80 = ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 80)))
    cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "guard-x"), spec: ClusterNetworkPolicySpec(
        tier: .admin, priority: 10, subject: ClusterPolicySubject(namespaces: .labels(["ns": "x"])),
        ingress: [
            ClusterPolicyIngressRule(name: "y-a-to-policies", action: .pass, from: [ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: .labels(["ns": "y"]), podSelector: .labels(["pod": "a"])))], protocols: [tcp80]),
            ClusterPolicyIngressRule(name: "no-y", action: .deny, from: [ClusterPolicyPeer(namespaces: .labels(["ns": "y"]))]),
            ClusterPolicyIngressRule(name: "z-on-81", action: .accept, from: [ClusterPolicyPeer(namespaces: .labels(["ns": "z"]))],
                                     protocols: [ClusterPolicyProtocol(destinationNamedPort: "serve-81-tcp")]),
        ],
        egress: [
            ClusterPolicyEgressRule(name: "no-docs", action: .deny, to: [ClusterPolicyPeer(networks: ["192.0.2.0/24", "2001:db8::/32", "192.0.2.128/25"])]),
            ClusterPolicyEgressRule(name: "kubelets", action: .accept, to: [ClusterPolicyPeer(nodes: .labels(["zone": "a"]))],
                                    protocols: [ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(range: PortRange(start: 10250, end: 10259))))]),
            ClusterPolicyEgressRule(name: "z-named", action: .pass, to: [ClusterPolicyPeer(namespaces: .labels(["ns": "z"]))],
                                    protocols: [ClusterPolicyProtocol(destinationNamedPort: "serve-80-udp")]),
        ])))
    cluster.apply(networkPolicy("from-y-a", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
    cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "default-closed"), spec: ClusterNetworkPolicySpec(
        tier: .baseline, priority: 5, subject: ClusterPolicySubject(namespaces: .everything),
        ingress: [
            ClusterPolicyIngressRule(action: .pass, from: [ClusterPolicyPeer(namespaces: .labels(["ns": "z"]))], protocols: [tcp80]),
            ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(namespaces: .everything)]),
        ],
        egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(domainNames: ["example.com"])], protocols: [ClusterPolicyProtocol(udp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 5353)))])])))
    change(&cluster)
    return cluster
}

/// node-1's plan of `tieredCluster`.
func tieredPlan(guards: NodeGuards = NodeGuards(), _ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
    RuleCompiler.plan(node: "node-1", snapshot: tieredCluster(change).snapshot, guards: guards)
}

/// `tieredPlan`, then with the Admin policy reprioritised and its Deny turned into a Pass, then without it.
func tieredPlanSequence() -> [RulePlan] {
    [
        tieredPlan(),
        tieredPlan { cluster in
            cluster.clusterPolicies["guard-x"]?.spec.priority = 1
            cluster.clusterPolicies["guard-x"]?.spec.ingress[1].action = .pass
        },
        tieredPlan { $0.delete(clusterPolicy: "guard-x") },
        tieredPlan(),
    ]
}
