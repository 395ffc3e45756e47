import NetpolEngine
import NetpolModel
import NetpolTesting
import NetpolWorkload
import Testing

/// The matrix works on pod sets, a verdict pair by pair; on random clusters and
/// random policies (NetworkPolicies and cluster policies of both tiers) the two
/// must agree on every pair.
@Suite("Matrix and verdicts agree on random clusters")
struct RandomClusterTests {
    @Test(arguments: 1...25)
    func matrixEqualsVerdicts(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var cluster = ConformanceModel.cluster(dualStack: seed % 3 == 0, nodes: ["n1", "n2"])
        let labelValues = ["a", "b", "c"]
        func selector() -> LabelSelector {
            switch random.next() % 5 {
            case 0: return .everything
            case 1: return .labels(["pod": labelValues[Int(random.next() % 3)]])
            case 2: return .expression("pod", random.next() % 2 == 0 ? .in : .notIn, [labelValues[Int(random.next() % 3)]])
            case 3: return .labels(["ns": ConformanceModel.namespaceNames[Int(random.next() % 3)]])
            default: return .expression("ns", .exists)
            }
        }
        func peer() -> NetworkPolicyPeer {
            switch random.next() % 4 {
            case 0: return .pods(selector())
            case 1: return .namespaces(selector())
            case 2: return .pods(selector(), inNamespaces: selector())
            default: return .block(random.next() % 2 == 0 ? "10.0.\(1 + random.next() % 3).0/24" : "fd00::/100", except: random.next() % 2 == 0 ? [] : ["10.0.2.2/32"])
            }
        }
        func ports() -> [NetworkPolicyPort] {
            let choices: [NetworkPolicyPort] = [.tcp(80), .tcp(81), .udp(80), .range(80, 81), .named("serve-81-tcp"), .named("serve-80-udp", .udp), .all(.udp)]
            return (0..<Int(random.next() % 3)).map { _ in choices[Int(random.next() % UInt64(choices.count))] }
        }
        for number in 0..<Int(2 + random.next() % 6) {
            let namespace = ConformanceModel.namespaceNames[Int(random.next() % 3)]
            let types: [[PolicyType]] = [[], [.ingress], [.egress], [.ingress, .egress]]
            var policy = networkPolicy(
                "p\(number)", in: namespace, selecting: selector(), types: types[Int(random.next() % 4)],
                ingress: (0..<Int(random.next() % 3)).map { _ in NetworkPolicyIngressRule(ports: ports(), from: (0..<Int(random.next() % 3)).map { _ in peer() }) },
                egress: (0..<Int(random.next() % 3)).map { _ in NetworkPolicyEgressRule(ports: ports(), to: (0..<Int(random.next() % 3)).map { _ in peer() }) })
            // Seeds from 20 on audit some policies.
            if seed >= 20, random.next() % 3 == 0 { policy.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit" }
            cluster.apply(policy)
        }
        func clusterPeer() -> ClusterPolicyPeer {
            switch random.next() % 5 {
            case 0: return ClusterPolicyPeer(namespaces: selector())
            case 1: return ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: selector(), podSelector: selector()))
            case 2: return ClusterPolicyPeer(networks: [random.next() % 2 == 0 ? "10.0.\(1 + random.next() % 3).0/24" : "fd00::/100"])
            case 3: return ClusterPolicyPeer(networks: ["10.0.2.2/32", "fd00::1:0/112"])
            default: return ClusterPolicyPeer(domainNames: ["example.com"])
            }
        }
        func protocols() -> [ClusterPolicyProtocol] {
            let choices: [ClusterPolicyProtocol] = [
                ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 80))),
                ClusterPolicyProtocol(udp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 80))),
                ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(range: PortRange(start: 79, end: 81)))),
                ClusterPolicyProtocol(destinationNamedPort: "serve-81-tcp"),
                ClusterPolicyProtocol(destinationNamedPort: "serve-80-udp"),
            ]
            return (0..<Int(random.next() % 3)).map { _ in choices[Int(random.next() % UInt64(choices.count))] }
        }
        func action() -> ClusterPolicyAction { ClusterPolicyAction.supported[Int(random.next() % 3)] }
        for number in 0..<Int(random.next() % 5) {
            let subject = random.next() % 2 == 0
                ? ClusterPolicySubject(namespaces: selector())
                : ClusterPolicySubject(pods: NamespacedPods(namespaceSelector: selector(), podSelector: selector()))
            cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "c\(number)"), spec: ClusterNetworkPolicySpec(
                tier: random.next() % 2 == 0 ? .admin : .baseline, priority: Int(random.next() % 3), subject: subject,
                ingress: (0..<Int(random.next() % 3)).map { _ in ClusterPolicyIngressRule(action: action(), from: [clusterPeer()], protocols: protocols()) },
                egress: (0..<Int(random.next() % 3)).map { _ in ClusterPolicyEgressRule(action: action(), to: [clusterPeer(), clusterPeer()], protocols: protocols()) })))
        }
        for engine in [Engine(snapshot: cluster.snapshot), Engine(snapshot: cluster.snapshot, inForce: .auditedEnforced)] {
            expectMatrixEqualsVerdicts(engine, seed: seed)
        }
    }

    /// Audited policies count exactly as if they were absent, and with
    /// `.auditedEnforced` exactly as if they were not annotated.
    @Test(arguments: 30...39)
    func auditedPoliciesDecideAsAbsentOrAsEnforced(seed: UInt64) {
        var churn = ClusterChurn(seed: seed, clusterPolicies: seed % 2 == 0, auditedPolicies: true)
        var (compared, audited) = (0, 0)
        for step in 0..<120 {
            _ = churn.next()
            guard step % 20 == 19 else { continue }
            var withoutAudited = churn.cluster, unannotated = churn.cluster
            for (key, policy) in churn.cluster.policies where policy.isAudited {
                withoutAudited.policies[key] = nil
                unannotated.policies[key]?.metadata.annotations = [:]
                audited += 1
            }
            let pairs = [
                (Engine(snapshot: churn.cluster.snapshot), Engine(snapshot: withoutAudited.snapshot)),
                (Engine(snapshot: churn.cluster.snapshot, inForce: .auditedEnforced), Engine(snapshot: unannotated.snapshot)),
            ]
            for (engine, reference) in pairs {
                for (port, proto) in [(IntOrString.int(80), PortProtocol.tcp), (.int(53), .udp), (.string("web"), .tcp)] {
                    let matrix = engine.matrix(port: port, protocol: proto)
                    #expect(matrix == reference.matrix(port: port, protocol: proto), "seed \(seed) step \(step) \(engine.inForce) \(proto)/\(port)")
                    compared += 1
                }
            }
        }
        #expect(compared == 36)
        #expect(audited > 0, "seed \(seed) audits some policies")
    }

    private func expectMatrixEqualsVerdicts(_ engine: Engine, seed: UInt64) {
        for (port, proto) in [(IntOrString.int(80), PortProtocol.tcp), (.int(81), .tcp), (.int(80), .udp), (.string("serve-81-tcp"), .tcp)] {
            for family in [nil, IPAddress.Family.ipv4, .ipv6] {
                let matrix = engine.matrix(port: port, protocol: proto, family: family)
                for (i, source) in matrix.pods.enumerated() {
                    for (j, destination) in matrix.pods.enumerated() {
                        let verdict = engine.verdict(for: Connection(from: .pod(source), to: .pod(destination), protocol: proto, port: port, family: family))
                        #expect(verdict.allowed == matrix.allowed[i][j], "seed \(seed) \(engine.inForce) \(proto)/\(port) \(family?.rawValue ?? "-"): \(source) -> \(destination)\n\(verdict.explanation)")
                    }
                }
            }
        }
    }
}
