import Foundation
import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolRules
import NetpolTesting
import Testing

/// The denied-connection log end to end: the agent programs a lab node with
/// logging on and reads the kernel's log; real probes, both backends, IPv4
/// and IPv6.
@Suite("Denied-connection log on a lab node", .enabled(if: isRoot, Comment(rawValue: rootOnly)), .serialized)
struct DeniedLogLabTests {
    private static func id(_ namespace: String, _ pod: String) -> PodID { PodID(namespace: namespace, name: pod) }

    /// x/a isolated for ingress by two policies, the second allowing z; an
    /// Admin policy denying ingress from y to x/b in its second rule; z/c
    /// isolated for ingress only by an audited policy allowing x.
    private static func cluster() -> Cluster {
        var cluster = ConformanceModel.cluster(dualStack: true)
        cluster.apply(networkPolicy("deny-all", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress]))
        cluster.apply(networkPolicy(
            "allow-z", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress],
            ingress: [.init(from: [.namespaces(.labels(["ns": "z"]))])]))
        cluster.apply(clusterPolicy(
            "guard-x", tier: .admin, priority: 5, subject: .pods(.labels(["pod": "b"]), inNamespaces: .labels(["ns": "x"])),
            ingress: [
                ClusterPolicyIngressRule(action: .accept, from: [.inNamespaces(.labels(["ns": "z"]))]),
                ClusterPolicyIngressRule(name: "no-y", action: .deny, from: [.inNamespaces(.labels(["ns": "y"]))]),
            ]))
        var audited = networkPolicy(
            "audit-only-x", in: "z", selecting: .labels(["pod": "c"]), types: [.ingress],
            ingress: [.init(from: [.namespaces(.labels(["ns": "x"]))])])
        audited.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit"
        cluster.apply(audited)
        return cluster
    }

    private static func objects(_ snapshot: Snapshot) -> [KubeObject] {
        AgentLabTests.objects(snapshot) + snapshot.clusterPolicies.map(KubeObject.clusterNetworkPolicy)
    }

    /// A lab of the cluster on node-1 and an agent logging denied connections to a fresh file.
    private func start(_ backend: Backend, logging: DenyLogging) async throws -> (Lab, AgentHarness, DeniedLogFile) {
        let cluster = Self.cluster()
        let lab = try Lab(snapshot: cluster.snapshot, backend: backend, iptablesMode: .nft)
        lab.probeTimeout = .milliseconds(400)
        let file = DeniedLogFile()
        let agent = try await AgentHarness(
            objects: Self.objects(cluster.snapshot), node: "node-1", runner: try #require(lab.runner(node: "node-1") as? NetnsRunner),
            backend: backend, deniedLog: (logging, file.path))
        return (lab, agent, file)
    }

    /// Each denied probe makes exactly one record naming who denied it, and so
    /// does a probe an audited policy would deny (which connects); an allowed one none.
    @Test(arguments: Backend.allCases)
    func aDeniedProbeMakesOneRecordAndAnAllowedOneNone(backend: Backend) async throws {
        try await onAgentThreads {
            let (lab, agent, file) = try await start(backend, logging: DenyLogging(group: 100))
            defer { lab.teardown(); file.remove() }
            try await waitUntil { agent.status.isReady }
            let steps: [(from: PodID, to: PodID, family: IPAddress.Family, allowed: Bool)] = [
                (Self.id("y", "b"), Self.id("x", "a"), .ipv4, false),
                (Self.id("z", "a"), Self.id("x", "a"), .ipv4, true),
                (Self.id("y", "a"), Self.id("x", "b"), .ipv6, false),
                (Self.id("z", "b"), Self.id("x", "a"), .ipv6, true),
                (Self.id("y", "c"), Self.id("x", "a"), .ipv6, false),
                (Self.id("y", "c"), Self.id("x", "b"), .ipv4, false),
                (Self.id("x", "a"), Self.id("z", "c"), .ipv6, true),
                (Self.id("y", "a"), Self.id("z", "c"), .ipv4, true),
            ]
            for step in steps {
                #expect(try lab.attempt(from: step.from, to: step.to, port: 80, family: step.family) == step.allowed, "\(step)")
            }
            // Records come in the kernel's order, one reader and one writer: once the last is in, all are.
            try await waitUntil(timeout: .seconds(10)) { file.records().count >= 5 }
            let records = file.records()
            let defaultDeny: [[String: String]] = [
                ["kind": "NetworkPolicy", "namespace": "x", "name": "allow-z", "reason": "default-deny"],
                ["kind": "NetworkPolicy", "namespace": "x", "name": "deny-all", "reason": "default-deny"],
            ]
            let clusterDeny: [[String: String]] = [
                ["kind": "ClusterNetworkPolicy", "tier": "Admin", "name": "guard-x", "rule": "1", "ruleName": "no-y", "action": "Deny"],
            ]
            let auditDeny: [[String: String]] = [
                ["kind": "NetworkPolicy", "namespace": "z", "name": "audit-only-x", "reason": "audit-default-deny"],
            ]
            let expected: [(String, String, String, [[String: String]])] = [
                ("y/b", "x/a", ConformanceModel.ipv4("x", "a"), defaultDeny),
                ("y/a", "x/b", ConformanceModel.ipv6("x", "b"), clusterDeny),
                ("y/c", "x/a", ConformanceModel.ipv6("x", "a"), defaultDeny),
                ("y/c", "x/b", ConformanceModel.ipv4("x", "b"), clusterDeny),
                ("y/a", "z/c", ConformanceModel.ipv4("z", "c"), auditDeny),
            ]
            #expect(records.count == expected.count, "\(records)")
            for (record, (src, dst, dstIP, decidedBy)) in zip(records, expected) {
                #expect(record["src"] as? String == src && record["dst"] as? String == dst && record["dst_ip"] as? String == dstIP, "\(record)")
                #expect(record["direction"] as? String == "ingress" && record["protocol"] as? String == "TCP" && record["port"] as? Int == 80)
                #expect(DeniedLogFile.deciders(record) == decidedBy, "\(record)")
                #expect((record["audit"] as? Bool) == (decidedBy == auditDeny ? true : nil), "only a would-be deny is marked audit: \(record)")
            }
            #expect(agent.metric("netpol_denied_log_records_total") == 5)
            #expect(agent.registry.emitToString().contains(#"netpol_audit_would_deny_total{direction="ingress",namespace="z",policy="audit-only-x"} 1"#))
            #expect(!agent.registry.emitToString().contains(#"netpol_denied_connections_total{direction="ingress",namespace="z""#))
            #expect(agent.registry.emitToString().contains(#"netpol_denied_connections_total{direction="ingress",namespace="",policy="guard-x"} 2"#))
            #expect(agent.metric("netpol_denied_log_unattributed_total") == 0)
            await agent.stop()
        }
    }

    /// 2,000 denied SYNs as fast as one pod sends them: the records stay
    /// within the kernel's rate × time + burst, and the reader loses none
    /// without counting it.
    @Test(arguments: Backend.allCases)
    func aFloodStaysWithinTheRate(backend: Backend) async throws {
        try await onAgentThreads {
            let logging = DenyLogging(group: 100, rate: 10, burst: 20)
            let (lab, agent, file) = try await start(backend, logging: logging)
            defer { lab.teardown(); file.remove() }
            try await waitUntil { agent.status.isReady }
            let started = ContinuousClock.now
            let sent = try lab.synFlood(from: Self.id("y", "b"), to: Self.id("x", "a"), port: 80, count: 2_000, family: .ipv4)
            #expect(sent == 2_000)
            try await waitUntil(timeout: .seconds(10)) { file.records().count >= logging.burst }
            let elapsed = started.duration(to: .now)
            let records = file.records()
            let bound = Double(logging.burst) + Double(logging.rate) * (Double(elapsed.components.seconds) + 1)
            #expect(Double(records.count) <= bound, "\(records.count) records in \(elapsed)")
            #expect(records.allSatisfy { $0["dst"] as? String == "x/a" && DeniedLogFile.deciders($0).count == 2 })
            // What the kernel could not hand over is counted, not hidden; what was read was written.
            #expect(agent.registry.emitToString().contains("netpol_denied_log_lost_total "))
            #expect(agent.metric("netpol_denied_log_dropped_total") == 0)
            await agent.stop()
            #expect(agent.metric("netpol_denied_log_records_total") == Double(file.records().count))
        }
    }
}

/// A temporary file the denied-connection log appends to, read back as JSON objects.
struct DeniedLogFile: Sendable {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-denied-\(getpid())-\(UUID().uuidString).jsonl").path

    func records() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// `decided_by`, each value as text.
    static func deciders(_ record: [String: Any]) -> [[String: String]] {
        ((record["decided_by"] as? [[String: Any]]) ?? []).map { $0.mapValues { "\($0)" } }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
