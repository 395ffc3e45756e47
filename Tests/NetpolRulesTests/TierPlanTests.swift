import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

/// ClusterNetworkPolicy tiers in one node's rules: what the chains decide,
/// how they are shared, and what a change of them may deny.
@Suite("Tiers in rule plans")
struct TierPlanTests {
    private func connection(_ from: (String, String), _ to: (String, String), _ proto: PortProtocol = .tcp, _ port: Int = 80) -> PlanConnection {
        PlanConnection(source: IPAddress(ConformanceModel.ipv4(from.0, from.1))!, destination: IPAddress(ConformanceModel.ipv4(to.0, to.1))!, protocol: proto, port: port)
    }

    /// A Pass to a peer netpol does not enforce matches everything, also where
    /// the tier goes on to allow (no NetworkPolicy, no Baseline): the Deny after it
    /// in the same policy decides nothing.
    @Test func aFailClosedPassMatchesEverything() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "pass-then-deny"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 1, subject: ClusterPolicySubject(namespaces: .labels(["ns": "x"])),
            egress: [ClusterPolicyEgressRule(action: .pass, to: [ClusterPolicyPeer(domainNames: ["example.com"])]),
                     ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(namespaces: .everything)])])))
        let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        #expect(Engine(snapshot: cluster.snapshot).verdict(for: Connection(from: .pod(PodID(namespace: "x", name: "a")), to: .pod(PodID(namespace: "y", name: "a")), port: .int(80))).allowed)
        #expect(plan.allows(connection(("x", "a"), ("y", "a"))))
    }

    /// Each tier decides in turn, on the node where it applies, as the engine says.
    @Test func adminDenyPassAndBaselineDecideInOrder() throws {
        let cluster = tieredCluster()
        let snapshot = cluster.snapshot
        let plans = ["node-1", "node-2"].map { RuleCompiler.plan(node: $0, snapshot: snapshot) }
        let engine = Engine(snapshot: snapshot)
        func allows(_ c: PlanConnection) -> Bool { plans.allSatisfy { $0.allows(c) } }
        // Pass from y/a on TCP 80 skips the Admin Deny; x/a's NetworkPolicy allows y.
        #expect(allows(connection(("y", "a"), ("x", "a"))))
        // Pass, then x/b has no NetworkPolicy: the Baseline Deny of every namespace decides.
        #expect(!allows(connection(("y", "a"), ("x", "b"))))
        // The Admin Deny of y, before x/a's NetworkPolicy allows it.
        #expect(!allows(connection(("y", "b"), ("x", "a"))))
        #expect(!allows(connection(("y", "a"), ("x", "a"), .tcp, 81)))
        // Admin Accept of z on the named port serve-81-tcp (81 here), over the Baseline Deny.
        #expect(allows(connection(("z", "a"), ("x", "b"), .tcp, 81)))
        // Baseline Pass on TCP 80 from z: the default, allowed; other ports, the Baseline Deny.
        #expect(allows(connection(("z", "a"), ("x", "b"))))
        #expect(!allows(connection(("z", "a"), ("y", "b"), .udp, 80)))
        // x/a is isolated by its NetworkPolicy: the Baseline tier never judges it.
        #expect(!allows(connection(("z", "a"), ("x", "a"))))
        // Egress: the Admin Deny of the documentation networks, the Accept of zone a's kubelets.
        let docs = PlanConnection(source: IPAddress(ConformanceModel.ipv4("x", "a"))!, destination: IPAddress("192.0.2.200")!, protocol: .tcp, port: 443)
        #expect(!allows(docs))
        let kubelet = PlanConnection(source: IPAddress(ConformanceModel.ipv4("x", "a"))!, destination: IPAddress("192.168.0.1")!, protocol: .tcp, port: 10250)
        #expect(allows(kubelet))
        for c in [connection(("y", "a"), ("x", "a")), connection(("y", "a"), ("x", "b")), connection(("y", "b"), ("x", "a")),
                  connection(("z", "a"), ("x", "b"), .tcp, 81), connection(("z", "a"), ("x", "b")), connection(("z", "a"), ("y", "b"), .udp, 80)] {
            let verdict = engine.verdict(for: Connection(from: .address(c.source), to: .address(c.destination), protocol: c.protocol ?? .tcp, port: .int(c.port)))
            #expect(verdict.allowed == allows(c), "\(c)")
        }
    }

    /// The NetworkPolicy and Baseline part is a chain of its own: the Admin
    /// chain's Pass and end go to it, and pods judged by it alone share it.
    @Test func theAdminChainGoesOnToTheRestChain() throws {
        let plan = tieredPlan()
        let chains = Dictionary(uniqueKeysWithValues: plan.chains.map { ($0.name, $0) })
        let byPod = Dictionary(grouping: plan.bindings.filter { $0.direction == .ingress }, by: { $0.pod.description }).mapValues { $0[0].chain }
        let xaName = try #require(byPod["x/a"]), ybName = try #require(byPod["y/b"])
        let xa = try #require(chains[xaName])
        guard case .goto(let rest) = xa.end else {
            Issue.record("x/a's ingress chain ends with \(xa.end), not a goto")
            return
        }
        #expect(xa.rules.first?.action == .goto(rest), "the Pass goes to the rest chain")
        #expect(chains[rest]?.end == .deny, "x/a's NetworkPolicy isolates it")
        #expect(chains[rest]?.rules.allSatisfy { $0.action == .allow } == true)
        // y/b: only the Baseline tier judges it (once per family); ends allowed.
        let yb = try #require(chains[ybName])
        #expect(yb.end == .allow && yb.gotoTargets.isEmpty)
        #expect(yb.rules.map(\.action) == [.allow, .allow, .deny, .deny])
    }

    @Test func aPeerNetpolDoesNotEnforceFailsClosed() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "dns"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 1, subject: ClusterPolicySubject(namespaces: .everything),
            egress: [
                ClusterPolicyEgressRule(action: .accept, to: [ClusterPolicyPeer(domainNames: ["example.com"])]),
                ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(domainNames: ["example.org"])],
                                        protocols: [ClusterPolicyProtocol(udp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 53)))]),
            ])))
        let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        let rules = plan.chains.flatMap(\.rules)
        #expect(rules.map(\.action) == [.deny], "the Accept matches nothing; the Deny every address")
        #expect(rules.first?.peer == .any)
        #expect(!plan.allows(connection(("x", "a"), ("y", "b"), .udp, 53)))
        #expect(plan.allows(connection(("x", "a"), ("y", "b"), .tcp, 53)))
    }

    /// A `networks` peer of one CIDR shares the ipBlock's set; a peer of
    /// `namespaces` or `pods` shares the NetworkPolicy peer's.
    @Test func clusterPeersShareNetworkPolicySets() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("np", in: "x", types: [.ingress, .egress],
                                    ingress: [.init(from: [.namespaces(.labels(["ns": "y"])), .pods(.labels(["pod": "a"]), inNamespaces: .labels(["ns": "z"]))])],
                                    egress: [.init(to: [.block("192.0.2.0/24")])]))
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "cnp"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 1, subject: ClusterPolicySubject(namespaces: .labels(["ns": "y"])),
            ingress: [ClusterPolicyIngressRule(action: .deny, from: [
                ClusterPolicyPeer(namespaces: .labels(["ns": "y"])),
                ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: .labels(["ns": "z"]), podSelector: .labels(["pod": "a"]))),
            ])],
            egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(networks: ["192.0.2.0/24"])])])))
        let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        #expect(plan.sets.map(\.origin).sorted() == ["addresses 192.0.2.0/24", "pods {pod=a} in namespaces {ns=z}", "pods {} in namespaces {ns=y}"])
    }

    /// An element joining a set that a Deny matches can deny; joining an allow's set cannot.
    @Test func anElementJoiningADenySetMayDeny() throws {
        let before = tieredPlan()
        let after = tieredPlan { $0.relabel(namespace: "z", ["ns": "y"]) }
        let diff = after.diff(from: before)
        #expect(!diff.elementChanges.isEmpty)
        #expect(diff.mayDeny)
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("from-y", in: "x", selecting: .everything, ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
        let allowOnly = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        cluster.relabel(namespace: "z", ["ns": "y"])
        #expect(!RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot).diff(from: allowOnly).mayDeny)
    }

    /// An audit layer's rules go on to the Baseline tier whether they match or
    /// not: a pod joining their set changes no verdict, so it never `mayDeny`
    /// (which would sweep conntrack for nothing).
    @Test func anElementJoiningAnAuditedSetDeniesNothing() throws {
        var cluster = ConformanceModel.cluster()
        var audited = networkPolicy("from-y", in: "x", selecting: .everything, ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])])
        audited.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit"
        cluster.apply(audited)
        cluster.apply(clusterPolicy(
            "base-x", tier: .baseline, priority: 1, subject: .pods(.everything, inNamespaces: .labels(["ns": "x"])),
            ingress: [ClusterPolicyIngressRule(action: .deny, from: [.inNamespaces(.labels(["ns": "elsewhere"]))])]))
        let before = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        let audit = try #require(before.chains.first { !$0.auditedBy.isEmpty })
        #expect(audit.rules.allSatisfy { if case .goto = $0.action { return true } else { return false } }, "the audit layer goes on to the Baseline chain")
        cluster.relabel(namespace: "z", ["ns": "y"])
        let diff = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot).diff(from: before)
        #expect(diff.elementChanges.contains { !$0.added.isEmpty })
        #expect(!diff.mayDeny)
    }

    /// Planner and whole compile agree on the tiered cluster through its changes.
    @Test func thePlannerFollowsTierChanges() throws {
        let clusters = [tieredCluster(), tieredCluster { $0.clusterPolicies["guard-x"]?.spec.priority = 1; $0.clusterPolicies["guard-x"]?.spec.tier = .baseline },
                        tieredCluster { $0.delete(clusterPolicy: "guard-x"); $0.nodes["node-2"]?.metadata.labels = ["zone": "a"] }, tieredCluster()]
        var planner = NodePlanner(node: "node-1", snapshot: clusters[0].snapshot, retention: .zero)
        var applied = planner.plan
        for (number, cluster) in clusters.enumerated().dropFirst() {
            for change in cluster.snapshot.changes(from: clusters[number - 1].snapshot) { planner.apply(change) }
            let diff = planner.commit(now: .seconds(Int64(number)))
            applied.apply(diff)
            let whole = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
            #expect(planner.plan == whole, "step \(number)")
            #expect(applied == whole, "step \(number): the difference leads to the plan")
        }
    }
}
