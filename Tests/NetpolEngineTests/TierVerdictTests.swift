import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

/// Verdicts and explanations with ClusterNetworkPolicy tiers around NetworkPolicy.
@Suite("Tier verdicts and explanations")
struct TierVerdictTests {
    private func engine(_ change: (inout Cluster) -> Void) -> Engine {
        var cluster = ConformanceModel.cluster(nodes: ["node-1", "node-2"])
        change(&cluster)
        return Engine(snapshot: cluster.snapshot)
    }

    private func verdict(_ engine: Engine, _ from: String, _ to: String, _ port: Int = 80) throws -> Verdict {
        engine.verdict(for: Connection(from: try engine.endpoint(from), to: try engine.endpoint(to), port: .int(port)))
    }

    private func clusterPolicy(
        _ name: String, _ tier: PolicyTier, priority: Int, namespace: String,
        ingress: [ClusterPolicyIngressRule] = [], egress: [ClusterPolicyEgressRule] = []
    ) -> ClusterNetworkPolicy {
        ClusterNetworkPolicy(metadata: ObjectMeta(name: name), spec: ClusterNetworkPolicySpec(
            tier: tier, priority: priority, subject: ClusterPolicySubject(namespaces: .labels(["ns": namespace])),
            ingress: ingress, egress: egress))
    }

    private let fromY = [ClusterPolicyPeer(namespaces: .labels(["ns": "y"]))]
    private let tcp80 = [ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 80)))]

    @Test func anAdminDenyOverridesANetworkPolicyAllow() throws {
        let engine = engine {
            $0.apply(networkPolicy("from-y", in: "x", ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
            $0.apply(clusterPolicy("no-y", .admin, priority: 10, namespace: "x",
                                   ingress: [ClusterPolicyIngressRule(name: "drop-y", action: .deny, from: fromY, protocols: tcp80)]))
        }
        let denied = try verdict(engine, "y/b", "x/a")
        #expect(!denied.allowed)
        #expect(denied.explanation == """
            y/b -> x/a, TCP port 80 over IPv4: DENIED
            Egress from y/b: not isolated (no NetworkPolicy in y selects it for egress)
            Ingress to x/a: DENIED by the Admin tier
              Admin tier: no-y (priority 10)
                no-y spec.ingress[0] "drop-y" matches (from[0], protocols[0]): Deny
              NetworkPolicy and the Baseline tier are skipped
            """)
        // Another port is not the rule's: NetworkPolicy decides.
        #expect(try verdict(engine, "y/b", "x/a", 81).allowed)
    }

    @Test func aPassLeadsOnToNetworkPolicyAndTheBaselineComesLast() throws {
        let engine = engine {
            $0.apply(clusterPolicy("pass-y", .admin, priority: 1, namespace: "x",
                                   ingress: [ClusterPolicyIngressRule(action: .pass, from: fromY)]))
            $0.apply(clusterPolicy("deny-all", .admin, priority: 2, namespace: "x",
                                   ingress: [ClusterPolicyIngressRule(action: .deny, from: [ClusterPolicyPeer(namespaces: .everything)])]))
            $0.apply(clusterPolicy("baseline-deny-y", .baseline, priority: 1, namespace: "x",
                                   ingress: [ClusterPolicyIngressRule(action: .deny, from: fromY)]))
        }
        // y passes the Admin tier; no NetworkPolicy; the Baseline denies.
        let verdict = try verdict(engine, "y/a", "x/b")
        #expect(!verdict.allowed)
        #expect(verdict.ingress.explanationTier == .baseline)
        // z is denied by the second Admin policy, the pass of the first does not reach it.
        #expect(try !self.verdict(engine, "z/a", "x/b").allowed)
        // A NetworkPolicy in x now decides for what the Admin tier passed: the Baseline is not reached.
        let withPolicy = self.engine {
            $0.apply(clusterPolicy("pass-y", .admin, priority: 1, namespace: "x", ingress: [ClusterPolicyIngressRule(action: .pass, from: fromY)]))
            $0.apply(clusterPolicy("baseline-deny-y", .baseline, priority: 1, namespace: "x", ingress: [ClusterPolicyIngressRule(action: .deny, from: fromY)]))
            $0.apply(networkPolicy("from-y", in: "x", ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
        }
        let allowed = try self.verdict(withPolicy, "y/a", "x/b")
        #expect(allowed.allowed)
        #expect(allowed.ingress.decidedBy == .networkPolicy)
    }

    @Test func anEgressAcceptStillMeetsTheDestinationsIngress() throws {
        let engine = engine {
            $0.apply(clusterPolicy("x-to-y", .admin, priority: 5, namespace: "x",
                                   egress: [ClusterPolicyEgressRule(action: .accept, to: [ClusterPolicyPeer(namespaces: .labels(["ns": "y"]))])]))
            $0.apply(networkPolicy("deny", in: "x", types: [.egress]))
            $0.apply(networkPolicy("deny", in: "y", types: [.ingress]))
        }
        let verdict = try verdict(engine, "x/a", "y/a")
        #expect(verdict.egress.allows)
        #expect(!verdict.ingress.allows)
        #expect(!verdict.allowed)
        #expect(verdict.explanation.contains("Accept (the destination's ingress still decides)"))
        // The egress default deny in x is skipped for y, not for z.
        #expect(try !self.verdict(engine, "x/a", "z/a").egress.allows)
    }

    @Test func equalPrioritiesAreOrderedByNameAndSaidSo() throws {
        let engine = engine {
            $0.apply(clusterPolicy("b-allow", .admin, priority: 3, namespace: "x", ingress: [ClusterPolicyIngressRule(action: .accept, from: fromY)]))
            $0.apply(clusterPolicy("a-deny", .admin, priority: 3, namespace: "x", ingress: [ClusterPolicyIngressRule(action: .deny, from: fromY)]))
        }
        let verdict = try verdict(engine, "y/c", "x/c")
        #expect(!verdict.allowed)
        #expect(verdict.explanation.contains("a-deny, b-allow share priority 3: upstream leaves their order undefined; netpol checks them by name"))
    }

    @Test func networksMatchPodsAndUnknownPeersFailClosed() throws {
        let engine = engine {
            $0.apply(clusterPolicy("no-y-net", .admin, priority: 1, namespace: "x",
                                   egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(networks: ["10.0.2.0/24"])])]))
            $0.apply(clusterPolicy("dns-only", .baseline, priority: 1, namespace: "z",
                                   egress: [ClusterPolicyEgressRule(action: .accept, to: [ClusterPolicyPeer(domainNames: ["example.com"])]),
                                            ClusterPolicyEgressRule(action: .pass, to: [ClusterPolicyPeer(domainNames: ["example.org"])])]))
        }
        #expect(try !verdict(engine, "x/a", "y/b").allowed)
        #expect(try verdict(engine, "x/a", "z/b").allowed)
        // The Accept on a domain name matches nothing; the Pass matches everything: the default allows.
        let fromZ = try verdict(engine, "z/a", "x/b")
        #expect(fromZ.allowed)
        #expect(fromZ.egress.baseline?.match?.action == .pass)
        #expect(fromZ.egress.baseline?.match?.index == 1)
    }
}

extension SideDecision {
    /// The tier that decided, if one did.
    var explanationTier: PolicyTier? {
        switch decidedBy {
        case .adminTier(let match), .baselineTier(let match): return match.tier
        default: return nil
        }
    }
}
