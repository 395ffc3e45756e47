import Foundation
import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolKube
import NetpolLab
import NetpolModel
import NetpolRules
import NetpolTesting
import Testing

/// A pod's first moments and the connections already open when a policy
/// changes, with the agent programming a lab node from the fake API server.
@Suite("Pod birth and established flows, on a lab node", .enabled(if: isRoot, Comment(rawValue: rootOnly)), .serialized)
struct PodLifecycleLabTests {
    private static func id(_ namespace: String, _ pod: String) -> PodID { PodID(namespace: namespace, name: pod) }

    private static let fromYB = AgentLabTests.fromYB

    /// A lab of `cluster` on node-1, and an agent that starts from `objects`.
    private func start(_ cluster: Cluster, objects: [KubeObject], backend: Backend, podRanges: [CIDR] = [], recheck: Bool = false)
        async throws -> (Lab, AgentHarness) {
        let lab = try Lab(snapshot: cluster.snapshot, backend: backend, iptablesMode: .nft)
        lab.probeTimeout = .milliseconds(400)
        let agent = try await AgentHarness(
            objects: objects, node: "node-1", runner: try #require(lab.runner(node: "node-1") as? NetnsRunner), backend: backend,
            podRanges: podRanges, recheck: recheck)
        return (lab, agent)
    }

    private static func objects(_ snapshot: Snapshot) -> [KubeObject] { AgentLabTests.objects(snapshot) }

    /// x/c has its address and its servers before the API says so (the
    /// kubelet has not reported its IP yet); z/c is not in the API at all. With
    /// x's and y's ranges guarded, nothing reaches x/c or leaves it, although
    /// the policy would let y/b in; z/c, outside the ranges, is untouched. Once
    /// the event arrives, one sync gives x/c its own rules.
    @Test(arguments: Backend.allCases)
    func anUnknownPodIsIsolatedUntilItsEventArrives(backend: Backend) async throws {
        try await onAgentThreads {
            var cluster = ConformanceModel.cluster()
            cluster.apply(Self.fromYB)
            let newborn = Self.id("x", "c"), stranger = Self.id("z", "c")
            let objects = Self.objects(cluster.snapshot).compactMap { object -> KubeObject? in
                guard case .pod(var pod) = object else { return object }
                if pod.namespace == stranger.namespace && pod.name == stranger.name { return nil }
                if pod.namespace == newborn.namespace && pod.name == newborn.name { pod.status = PodStatus(phase: "Pending") }
                return .pod(pod)
            }
            let ranges = [CIDR("10.0.1.0/24")!, CIDR("10.0.2.0/24")!]
            let (lab, agent) = try await start(cluster, objects: objects, backend: backend, podRanges: ranges)
            defer { lab.teardown() }
            try await waitUntil { agent.status.isReady }

            lab.judge(by: cluster.snapshot)
            for proto in [PortProtocol.tcp, .udp] {
                let result = try lab.run(port: .int(80), protocol: proto)
                var wrong: [String] = []
                for (i, from) in result.pods.enumerated() {
                    for (j, to) in result.pods.enumerated() where i != j && !result.unprobed.contains(where: { $0.from == from && $0.to == to }) {
                        let expected = result.expected[i][j] && from != newborn && to != newborn
                        if result.observed[i][j] != expected { wrong.append("\(from) -> \(to) \(result.observed[i][j] ? "let through" : "dropped")") }
                    }
                }
                #expect(wrong == [], "while x/c is unknown, \(proto)")
            }
            #expect(try !lab.probe(from: Self.id("y", "b"), to: newborn, port: 80), "the policy lets y/b in, but x/c is not known yet")
            #expect(try lab.probe(from: stranger, to: Self.id("z", "a"), port: 80), "z/c is outside the ranges")
            #expect(try lab.probe(from: Self.id("z", "a"), to: stranger, port: 80), "z/c is outside the ranges")

            try await agent.change { $0.apply(.pod(cluster.pods[PodKey("x", "c")]!)) }
            for proto in [PortProtocol.tcp, .udp] {
                let result = try lab.run(port: .int(80), protocol: proto)
                #expect(result.mismatches.map { "\($0.from) -> \($0.to)" } == [], "after x/c's event, \(proto)")
            }
            #expect(try lab.probe(from: Self.id("y", "b"), to: newborn, port: 80))
            #expect(agent.metric("netpol_sync_fallbacks_total") == 0)
            await agent.stop()
        }
    }

    /// TCP connections and UDP flows open while a policy that denies some of
    /// them arrives. With `recheck` the denied ones stop at once and the
    /// allowed ones lose no packet; with `keep` the denied ones go on. Either
    /// way a new denied connection is dropped.
    @Test(arguments: Backend.allCases, [true, false])
    func aPolicyChangeCutsOrKeepsEstablishedFlows(backend: Backend, recheck: Bool) async throws {
        try await onAgentThreads {
            var cluster = ConformanceModel.cluster()
            let (lab, agent) = try await start(cluster, objects: Self.objects(cluster.snapshot), backend: backend, recheck: recheck)
            defer { lab.teardown() }
            try await waitUntil { agent.status.isReady }
            let (xa, xb, yb) = (Self.id("x", "a"), Self.id("x", "b"), Self.id("y", "b"))
            let denied = [
                try LiveFlow(lab: lab, from: xa, to: xb, port: 9000, protocol: .tcp),
                try LiveFlow(lab: lab, from: xa, to: xb, port: 9001, protocol: .udp),
            ]
            let allowed = [
                try LiveFlow(lab: lab, from: yb, to: xb, port: 9002, protocol: .tcp),
                try LiveFlow(lab: lab, from: yb, to: xb, port: 9003, protocol: .udp),
            ]
            defer { (denied + allowed).forEach { $0.stop() } }
            try await waitUntil { (denied + allowed).allSatisfy { $0.record.echoed >= 5 } }

            cluster.apply(Self.fromYB)
            try await agent.change { $0.apply(.networkPolicy(Self.fromYB)) }
            // Echoes already on their way when the sync ended may still land.
            try await Task.sleep(for: .milliseconds(300))
            let settled = denied.map(\.record.echoed)
            try await Task.sleep(for: .seconds(1))
            for (flow, before) in zip(denied, settled) {
                let after = flow.record.echoed
                if recheck {
                    #expect(after == before, "\(flow.name) was cut: \(flow.record)")
                } else {
                    #expect(after > before + 10, "\(flow.name) goes on: \(flow.record)")
                }
            }
            #expect(try !lab.probe(from: xa, to: xb, port: 80))
            #expect(try !lab.probe(from: xa, to: xb, port: 80, protocol: .udp))
            for flow in allowed {
                let record = flow.stop()
                #expect(record.lost == 0 && record.retransmissions == 0, "\(flow.name) lost nothing: \(record)")
                #expect(record.echoed > 20, "\(flow.name) went on: \(record)")
            }
            let cut = agent.metric("netpol_established_cut_total")
            #expect(recheck ? cut >= 2 : cut == 0, "connections cut: \(cut)")
            await agent.stop()
        }
    }
}
