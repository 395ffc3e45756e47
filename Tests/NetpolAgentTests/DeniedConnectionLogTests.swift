import Foundation
import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRules
import NetpolTesting
import Prometheus
import Testing

/// The denied-connection log's records, from packets built in-process against
/// a real plan: no kernel needed.
@Suite("Denied-connection records")
struct DeniedConnectionLogTests {
    /// x/a isolated for ingress by two policies, the second allowing z on TCP 80;
    /// an Admin policy denying ingress from y to x/b with a named rule second.
    private static func cluster() -> Cluster {
        var cluster = ConformanceModel.cluster(dualStack: true)
        cluster.apply(networkPolicy("deny-all", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress]))
        cluster.apply(networkPolicy(
            "allow-z", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress],
            ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "z"]))])]))
        cluster.apply(clusterPolicy(
            "guard-x", tier: .admin, priority: 5, subject: .pods(.labels(["pod": "b"]), inNamespaces: .labels(["ns": "x"])),
            ingress: [
                ClusterPolicyIngressRule(action: .accept, from: [.inNamespaces(.labels(["ns": "z"]))]),
                ClusterPolicyIngressRule(name: "no-y", action: .deny, from: [.inNamespaces(.labels(["ns": "y"]))]),
            ]))
        return cluster
    }

    /// A store holding `cluster`, the node's plan, and a recorder reading both.
    private struct Fixture {
        let registry = PrometheusCollectorRegistry()
        let store = ClusterStore()
        let plan: RulePlan
        var recorder: DeniedConnectionRecorder

        init(_ cluster: Cluster = DeniedConnectionLogTests.cluster(), window: Duration = .seconds(5), capacity: Int = 100) {
            let snapshot = cluster.snapshot
            for kind in ClusterStore.listedKinds {
                store.replaceAll(kind, with: Self.objects(snapshot).filter { $0.kind == kind })
            }
            let plan = RuleCompiler.plan(node: "node-1", snapshot: snapshot)
            self.plan = plan
            recorder = DeniedConnectionRecorder(
                node: "node-1", store: store, plan: { plan }, metrics: AgentMetrics(factory: PrometheusMetricsFactory(registry: registry)),
                deduplicator: ConnectionDeduplicator(window: window, capacity: capacity))
        }

        private static func objects(_ snapshot: Snapshot) -> [KubeObject] {
            snapshot.namespaces.map(KubeObject.namespace) + snapshot.pods.map(KubeObject.pod) + snapshot.policies.map(KubeObject.networkPolicy)
                + snapshot.clusterPolicies.map(KubeObject.clusterNetworkPolicy) + snapshot.nodes.map(KubeObject.node)
        }

        /// The prefix the kernel logs at the end of the chain judging `pod` in `direction`.
        func chainEnd(_ pod: (String, String), _ direction: Direction, ipv6: Bool = false) throws -> String {
            let address = IPAddress(ipv6 ? ConformanceModel.ipv6(pod.0, pod.1) : ConformanceModel.ipv4(pod.0, pod.1))
            let binding = try #require(plan.bindings.first { $0.address == address && $0.direction == direction })
            return DenyPoint(chain: binding.chain).prefix
        }

        /// The prefix of the cluster policy rule `policy` number `index`.
        func clusterRule(_ policy: String, _ index: Int) throws -> String {
            try #require(plan.denyPoints.first { point in
                guard let rule = point.rule else { return false }
                return plan.chain(named: point.chain)?.rules[rule].clusterRule.map { $0.policy == policy && $0.index == index } == true
            }).prefix
        }

        func metric(_ line: String) -> Bool {
            registry.emitToString().split(separator: "\n").contains { $0 == line }
        }
    }

    private static func packet(
        _ prefix: String, from source: String, to destination: String, protocolNumber: Int = 6, sourcePort: Int = 40_000, port: Int = 80
    ) -> PacketLogReader.Packet {
        PacketLogReader.Packet(
            prefix: prefix, source: IPAddress(source)!, destination: IPAddress(destination)!, protocolNumber: protocolNumber,
            sourcePort: sourcePort, destinationPort: port)
    }

    private static let time = 1_796_060_450.1234  // 2026-11-30T17:40:50.123Z

    @Test func aDefaultDenyNamesEveryIsolatingPolicy() throws {
        var fixture = Fixture()
        let prefix = try fixture.chainEnd(("x", "a"), .ingress)
        let batch = PacketLogReader.Batch(packets: [Self.packet(prefix, from: "10.0.2.2", to: "10.0.1.1")], overruns: 0)
        let records = fixture.recorder.records(from: batch, time: Self.time)
        let chain = String(prefix.dropFirst(3))
        let expected: String = #"{"time":"2026-11-30T17:40:50.123Z","node":"node-1","direction":"ingress","src":"y/b","src_ip":"10.0.2.2","#
            + #""dst":"x/a","dst_ip":"10.0.1.1","protocol":"TCP","port":80,"#
            + #""decided_by":[{"kind":"NetworkPolicy","namespace":"x","name":"allow-z","reason":"default-deny"},"#
            + #"{"kind":"NetworkPolicy","namespace":"x","name":"deny-all","reason":"default-deny"}],"chain":"\#(chain)"}"#
        #expect(records.map(\.jsonLine) == [expected])
        #expect(fixture.metric(#"netpol_denied_connections_total{direction="ingress",namespace="x",policy="deny-all"} 1"#))
        #expect(fixture.metric(#"netpol_denied_connections_total{direction="ingress",namespace="x",policy="allow-z"} 1"#))
        #expect(fixture.metric("netpol_denied_log_unattributed_total 0"))
    }

    @Test func aClusterPolicyDenyNamesTierPolicyRuleAndAction() throws {
        var fixture = Fixture()
        let prefix = try fixture.clusterRule("guard-x", 1)
        let batch = PacketLogReader.Batch(
            packets: [Self.packet(prefix, from: "fd00::2:1", to: "fd00::1:2", protocolNumber: 17, port: 81)], overruns: 0)
        let record = try #require(fixture.recorder.records(from: batch, time: Self.time).first)
        #expect(record.direction == .ingress)
        let expected: String = #""src":"y/a","src_ip":"fd00::2:1","dst":"x/b","dst_ip":"fd00::1:2","protocol":"UDP","port":81,"#
            + #""decided_by":[{"kind":"ClusterNetworkPolicy","tier":"Admin","name":"guard-x","rule":1,"ruleName":"no-y","action":"Deny"}]"#
        #expect(record.jsonLine.contains(expected), "\(record.jsonLine)")
        #expect(fixture.metric(#"netpol_denied_connections_total{direction="ingress",namespace="",policy="guard-x"} 1"#))
    }

    /// An address no pod holds stays an IP; ICMP has no port.
    @Test func unknownAddressesStayAddressesAndPortlessProtocolsHaveNoPort() throws {
        var fixture = Fixture()
        let prefix = try fixture.chainEnd(("x", "a"), .ingress)
        let batch = PacketLogReader.Batch(packets: [Self.packet(prefix, from: "192.0.2.9", to: "10.0.1.1", protocolNumber: 1, sourcePort: 0, port: 0)], overruns: 0)
        let line = try #require(fixture.recorder.records(from: batch, time: Self.time).first).jsonLine
        #expect(line.contains(#""src":"192.0.2.9","src_ip":"192.0.2.9","dst":"x/a","dst_ip":"10.0.1.1","protocol":"ICMP","port":null,"#), "\(line)")
    }

    /// A prefix from an older plan, or not netpol's, still makes a record, with
    /// its chain, counted as unattributed.
    @Test func anUnknownPrefixMakesAnUnattributedRecord() throws {
        var fixture = Fixture()
        let batch = PacketLogReader.Batch(
            packets: [Self.packet("np:gone", from: "10.0.2.2", to: "10.0.1.1"), Self.packet("someone-else", from: "10.0.2.2", to: "10.0.1.1")],
            overruns: 0)
        let lines = fixture.recorder.records(from: batch, time: Self.time).map(\.jsonLine)
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.contains(#""direction":null"#) && $0.contains(#""decided_by":[]"#) && $0.hasSuffix(#","unattributed":true}"#) })
        #expect(lines.first?.contains(#""chain":"gone""#) == true)
        #expect(lines.last?.contains(#""chain":"someone-else""#) == true)
        #expect(fixture.metric("netpol_denied_log_unattributed_total 2"))
    }

    /// The new-pod guard drops traffic of an address in the pod ranges no
    /// known pod holds: egress when that address sent it, ingress when it was to receive it.
    @Test func theNewPodGuardIsNamedWithItsDirection() throws {
        var fixture = Fixture()
        let prefix = DenyPoint.podRangeGuard.prefix
        let batch = PacketLogReader.Batch(
            packets: [Self.packet(prefix, from: "10.0.1.99", to: "10.0.1.1"), Self.packet(prefix, from: "10.0.1.1", to: "10.0.1.99")], overruns: 0)
        let lines = fixture.recorder.records(from: batch, time: Self.time).map(\.jsonLine)
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""direction":"egress","src":"10.0.1.99""#) == true, "\(lines)")
        #expect(lines.last?.contains(#""direction":"ingress","src":"x/a""#) == true, "\(lines)")
        #expect(lines.allSatisfy { $0.contains(#""decided_by":[{"kind":"NewPodGuard","reason":"isolate-new-pods"}],"chain":"isolate-new-pods"}"#) })
        #expect(fixture.metric(#"netpol_denied_connections_total{direction="egress",namespace="",policy=""} 1"#))
        #expect(fixture.metric("netpol_denied_log_unattributed_total 0"))
    }

    @Test func kernelOverrunsAreCounted() {
        var fixture = Fixture()
        #expect(fixture.recorder.records(from: PacketLogReader.Batch(packets: [], overruns: 3)).isEmpty)
        #expect(fixture.metric("netpol_denied_log_lost_total 3"))
    }

    /// Retransmitted SYNs of one connection make one record; another source
    /// port is another connection; after the window the same one counts again.
    @Test func repeatsWithinTheWindowMakeOneRecord() throws {
        var fixture = Fixture(window: .seconds(5))
        let prefix = try fixture.chainEnd(("x", "a"), .ingress)
        let syn = Self.packet(prefix, from: "10.0.2.2", to: "10.0.1.1")
        let start = ContinuousClock.now
        let first = fixture.recorder.records(from: .init(packets: [syn, syn, syn], overruns: 0), now: start)
        let later = fixture.recorder.records(
            from: .init(packets: [syn, Self.packet(prefix, from: "10.0.2.2", to: "10.0.1.1", sourcePort: 40_001)], overruns: 0),
            now: start + .seconds(3))
        let afterWindows = fixture.recorder.records(from: .init(packets: [syn], overruns: 0), now: start + .seconds(11))
        #expect(first.count == 1)
        #expect(later.count == 1)
        #expect(afterWindows.count == 1)
        #expect(fixture.metric(#"netpol_denied_connections_total{direction="ingress",namespace="x",policy="deny-all"} 3"#))
    }

    /// A flood of distinct connections keeps at most two generations of
    /// `capacity` keys: an old one is forgotten early rather than memory growing.
    @Test func theDeduplicatorForgetsEarlyRatherThanGrow() {
        var deduplicator = ConnectionDeduplicator(window: .seconds(60), capacity: 10)
        let now = ContinuousClock.now
        let packets = (0..<25).map { Self.packet("np:c", from: "10.0.2.2", to: "10.0.1.1", sourcePort: 30_000 + $0) }
        var fresh = 0
        for packet in packets where deduplicator.isNew(.init(packet), now: now) { fresh += 1 }
        #expect(fresh == 25)
        // The last two generations (keys 10..<25) are remembered; the first ten are forgotten.
        let again = [24, 10, 0].map { deduplicator.isNew(.init(packets[$0]), now: now) }
        #expect(again == [false, false, true])
    }

    @Test func podsAreNamedByEveryAddressTheyHold() throws {
        var cluster = ConformanceModel.cluster(dualStack: true)
        cluster.update(pod: "a", in: "x") { $0.metadata.deletionTimestamp = "2026-11-30T17:00:00Z" }
        cluster.update(pod: "b", in: "x") { $0.spec.hostNetwork = true }
        cluster.update(pod: "c", in: "x") { $0.status.phase = "Succeeded" }
        let book = PodAddressBook(cluster.snapshot.pods)
        var successor = try #require(cluster.pods[PodKey("x", "a")])
        successor.metadata = ObjectMeta(name: "a2", namespace: "x")
        let taken = PodAddressBook([successor] + cluster.snapshot.pods)
        #expect(book.pod(at: IPAddress("fd00::2:3")!) == PodID(namespace: "y", name: "c"))
        #expect(book.pod(at: IPAddress("10.0.1.1")!) == PodID(namespace: "x", name: "a"), "a terminating pod still holds its address")
        #expect(book.pod(at: IPAddress("10.0.1.2")!) == nil, "a host-network pod names no address")
        #expect(book.pod(at: IPAddress("10.0.1.3")!) == nil, "a finished pod's address may be another's already")
        #expect(taken.pod(at: IPAddress("10.0.1.1")!) == PodID(namespace: "x", name: "a2"), "the running pod holds the address now")
    }

    @Test func timesAreRFC3339InUTCWithMilliseconds() {
        let record = DeniedConnection(
            time: 0.9996, node: "n", direction: .egress, source: .init(address: IPAddress("10.0.0.1")!),
            destination: .init(address: IPAddress("10.0.0.2")!), protocolNumber: 6, port: 1, chain: "c", cause: .unknown)
        #expect(record.jsonLine.hasPrefix(#"{"time":"1970-01-01T00:00:00.999Z","node":"n","direction":"egress","#))
    }

    @Test func theWriterAppendsLinesAndCountsWhatItCannotWrite() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = AgentMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-denied-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "earlier\n".write(toFile: path, atomically: true, encoding: .utf8)
        let writer = try DeniedLogWriter(path: path, metrics: metrics)
        writer.offer("{\"a\":1}")
        writer.offer("{\"b\":2}")
        writer.close()
        writer.offer("{\"late\":3}")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "earlier\n{\"a\":1}\n{\"b\":2}\n")

        let full = try DeniedLogWriter(path: "/dev/full", metrics: metrics)
        full.offer("{\"c\":3}")
        full.close()
        let lines = registry.emitToString().split(separator: "\n")
        #expect(lines.contains("netpol_denied_log_records_total 2"))
        #expect(lines.contains("netpol_denied_log_dropped_total 2"), "one after close, one the full disk refused")
    }

    @Test func theWriterRefusesAFileItCannotOpen() {
        let metrics = AgentMetrics(factory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
        #expect(throws: DataplaneError.self) { try DeniedLogWriter(path: "/nonexistent/dir/denied.jsonl", metrics: metrics) }
    }
}
