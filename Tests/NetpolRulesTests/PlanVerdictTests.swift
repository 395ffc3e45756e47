import NetpolEngine
import NetpolModel
import NetpolRules
import NetpolTesting
import Testing

/// `RulePlan.allows`, which the established re-check trusts, held to the
/// engine: a connection passes the nodes it crosses (the source's, then the
/// destination's) exactly when the engine allows it; and the plan's audit
/// points log it exactly where the audited policies would deny it.
@Suite("Plan verdicts against the engine")
struct PlanVerdictTests {
    @Test(arguments: [UInt64(5), 6, 7, 8, 9])
    func theNodesOnAConnectionsPathDecideAsTheEngineDoes(seed: UInt64) throws {
        // Seeds from 8 on churn ClusterNetworkPolicies and Nodes too; 6 and 9 audit some policies.
        var churn = ClusterChurn(seed: seed, clusterPolicies: seed >= 8, auditedPolicies: seed == 6 || seed == 9)
        var (compared, audits) = (0, 0)
        for step in 0..<300 {
            _ = churn.next()
            guard step % 30 == 29 else { continue }
            let snapshot = churn.cluster.snapshot
            let engine = Engine(snapshot: snapshot)
            let audited = Engine(snapshot: snapshot, inForce: .auditedEnforced)
            let plans = Dictionary(uniqueKeysWithValues: ClusterChurn.nodes.map { ($0, RuleCompiler.plan(node: $0, snapshot: snapshot)) })
            let pods = snapshot.pods.filter { !$0.spec.hostNetwork && !$0.status.addresses.isEmpty && $0.metadata.deletionTimestamp == nil && !["Succeeded", "Failed"].contains($0.status.phase) }
            for source in pods {
                for destination in pods where destination.name != source.name || destination.namespace != source.namespace {
                    for (proto, port) in [(PortProtocol.tcp, 80), (.tcp, 443), (.udp, 53), (.tcp, 8080)] {
                        guard let from = source.status.addresses.first.flatMap({ IPAddress($0) }),
                              let to = destination.status.addresses.compactMap({ IPAddress($0) }).first(where: { $0.family == from.family }) else { continue }
                        let connection = PlanConnection(source: from, destination: to, protocol: proto, port: port)
                        let path = Set([source.spec.nodeName, destination.spec.nodeName])
                        let kernel = path.allSatisfy { plans[$0]?.allows(connection) ?? true }
                        let question = Connection(
                            from: .pod(PodID(namespace: source.namespace, name: source.name)),
                            to: .pod(PodID(namespace: destination.namespace, name: destination.name)),
                            protocol: proto, port: .int(port), family: from.family)
                        let verdict = engine.verdict(for: question)
                        let label = "seed \(seed) step \(step): \(connection) (\(source.namespace)/\(source.name) -> \(destination.namespace)/\(destination.name))"
                        #expect(kernel == verdict.allowed, "\(label)")
                        let logged = Set(path.flatMap { plans[$0].map { $0.auditedDenials(connection) } ?? [] })
                        let wouldDeny = Self.wouldDeny(enforced: verdict, audited: audited.verdict(for: question))
                        #expect(logged == wouldDeny, "audit points, \(label)")
                        audits += logged.count
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 1_000)
        #expect(seed != 6 && seed != 9 || audits > 0, "seed \(seed) reached no audit point")
    }

    /// The directions in which audited policies would deny a connection the
    /// enforced policies leave to the NetworkPolicy layer: none in force
    /// isolates that side and the Admin tier does not decide it, but with the
    /// audited ones in force NetworkPolicy denies it.
    static func wouldDeny(enforced: Verdict, audited: Verdict) -> Set<Direction> {
        guard enforced.exemption == nil, enforced.port != nil, enforced.family != nil else { return [] }
        var directions = Set<Direction>()
        for (now, would) in [(enforced.egress, audited.egress), (enforced.ingress, audited.ingress)] {
            let leftToNetworkPolicy: Bool
            switch now.decidedBy {
            case .baselineTier, .defaultAllow: leftToNetworkPolicy = true
            default: leftToNetworkPolicy = false
            }
            if leftToNetworkPolicy && would.decidedBy == .networkPolicy && would.outcome == .denied { directions.insert(now.direction) }
        }
        return directions
    }

    @Test func aPodRangeAddressNoPodHoldsIsDeniedBothWays() throws {
        var cluster = ConformanceModel.cluster()
        cluster.update(pod: "c", in: "x") { $0.status = PodStatus(phase: "Pending") }
        let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, guards: NodeGuards(podRanges: [CIDR("10.0.1.0/24")!]))
        let unknown = IPAddress("10.0.1.3")!, known = IPAddress("10.0.1.1")!, outside = IPAddress("10.0.3.1")!
        #expect(!plan.allows(PlanConnection(source: unknown, destination: outside, protocol: .tcp, port: 80)))
        #expect(!plan.allows(PlanConnection(source: outside, destination: unknown, protocol: .udp, port: 80)))
        #expect(plan.allows(PlanConnection(source: known, destination: outside, protocol: .tcp, port: 80)))
        #expect(plan.allows(PlanConnection(source: outside, destination: IPAddress("10.0.2.1")!, protocol: .tcp, port: 80)))

        // A terminating pod still holds its address (and its connections) until it finishes.
        cluster.update(pod: "a", in: "x") { $0.metadata.deletionTimestamp = "2026-11-30T00:00:00Z" }
        let draining = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, guards: NodeGuards(podRanges: [CIDR("10.0.1.0/24")!]))
        #expect(draining.allows(PlanConnection(source: known, destination: outside, protocol: .tcp, port: 80)))
        cluster.update(pod: "a", in: "x") { $0.status.phase = "Succeeded" }
        let finished = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, guards: NodeGuards(podRanges: [CIDR("10.0.1.0/24")!]))
        #expect(!finished.allows(PlanConnection(source: known, destination: outside, protocol: .tcp, port: 80)))
    }

    /// Only a difference that can take something away asks for a re-check.
    @Test func onlyADifferenceThatCanDenyAsksForARecheck() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("from-y", in: "x", selecting: .everything, ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
        let before = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        var widened = cluster
        widened.relabel(namespace: "z", ["ns": "y"])
        #expect(!RuleCompiler.plan(node: "node-1", snapshot: widened.snapshot).diff(from: before).mayDeny, "z's pods join a peer set")
        #expect(RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot).diff(from: RuleCompiler.plan(node: "node-1", snapshot: widened.snapshot)).mayDeny,
                "z's pods leave it")
        var isolated = cluster
        isolated.apply(networkPolicy("deny-z", in: "z", types: [.ingress]))
        #expect(RuleCompiler.plan(node: "node-1", snapshot: isolated.snapshot).diff(from: before).mayDeny, "z's pods become isolated")
        var opened = cluster
        opened.delete(policy: "from-y", in: "x")
        #expect(!RuleCompiler.plan(node: "node-1", snapshot: opened.snapshot).diff(from: before).mayDeny, "x is no longer isolated")
    }
}

extension RulePlan {
    /// The directions in which this node's audit points log `connection`:
    /// where audited NetworkPolicies would deny it, whatever is enforced
    /// (the pod-range guards aside).
    func auditedDenials(_ connection: PlanConnection) -> [Direction] {
        [(Direction.egress, connection.source, connection.destination), (.ingress, connection.destination, connection.source)].filter { direction, pod, other in
            chain(bound: direction, pod).map { walk(connection, from: $0, other: other).reachedAuditPoint } ?? false
        }.map(\.0)
    }
}
