import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRules
import NetpolTesting
import Testing

/// `--count-connections` through the agent's loop: the real nftables
/// programmer over the fake kernel, whose counters the test moves as traffic
/// would, and a manual clock for the reading interval.
@Suite("Connection counts in /metrics")
struct ConnectionCountTests {
    private static let fromZ = PolicyID(namespace: "x", name: "from-z")

    /// x/deny isolates ns x on ingress; x/from-z allows x/a TCP `ports` from ns z.
    private static func fromZPolicy(ports: [NetworkPolicyPort]) -> NetworkPolicy {
        networkPolicy("from-z", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(ports: ports, from: [.namespaces(.labels(["ns": "z"]))])])
    }

    private static func cluster() -> Snapshot {
        var cluster = ConformanceModel.cluster(nodes: ["node-1"])
        cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
        cluster.apply(fromZPolicy(ports: [.tcp(80)]))
        return cluster.snapshot
    }

    private static func started(countInterval: Duration?) async throws -> LoopHarness<FakeNftKernel> {
        let agent = LoopHarness(
            AgentConfiguration(node: "node-1", verifyInterval: nil, countInterval: countInterval), kernel: FakeNftKernel(),
            programmer: { NftablesProgrammer(runner: $0) })
        agent.listEverything(cluster())
        try await waitUntil { agent.status.isReady }
        return agent
    }

    /// x/a's ingress chain, whose end is the default deny of both policies.
    /// Named from the compiler's plan for the same cluster: the agent's status
    /// holds its plan only for the denied-connection log.
    private static func chain() throws -> String {
        try #require(RuleCompiler.plan(node: "node-1", snapshot: cluster()).chains.first { $0.isolatedBy == [PolicyID(namespace: "x", name: "deny"), fromZ] }).name
    }

    private static func series(_ policy: String, _ verdict: String, _ value: Int) -> String {
        #"netpol_policy_connections_total{direction="ingress",namespace="x",policy="\#(policy)",verdict="\#(verdict)"} \#(value)"#
    }

    @Test func eachPolicysConnectionsAppearExactlyAndKeepCountingOverARewrite() async throws {
        let agent = try await Self.started(countInterval: .seconds(10))
        defer { agent.task.cancel() }
        let chain = try Self.chain()
        #expect(agent.kernel.countPackets(3, chain: chain) { $0.contains("x/from-z") })
        #expect(agent.kernel.countPackets(2, chain: chain) { $0 == "counter drop" })
        try await agent.advance(by: .seconds(10), once: 1)
        try await waitUntil { agent.metric(Self.series("from-z", "allowed", 3)) }
        #expect(agent.metric(Self.series("from-z", "denied", 2)))
        #expect(agent.metric(Self.series("deny", "denied", 2)))
        #expect(!agent.registry.emitToString().contains(#"policy="deny",verdict="allowed""#), "x/deny allows nothing")

        // One more connection, then a change that rewrites the chain: read
        // before its counters go, so that it is neither lost nor counted twice.
        #expect(agent.kernel.countPackets(1, chain: chain) { $0.contains("x/from-z") })
        _ = agent.store.upsert(.networkPolicy(Self.fromZPolicy(ports: [.tcp(80), .tcp(81)])))
        try await waitUntil { agent.status.lastSync?.version == agent.store.version }
        #expect(agent.status.lastSync?.full == false)
        #expect(agent.metric(Self.series("from-z", "allowed", 4)))
        #expect(agent.kernel.countPackets(5, chain: chain) { $0.contains("x/from-z") && $0.contains("81") })
        try await agent.advance(by: .seconds(10), once: 1)
        try await waitUntil { agent.metric(Self.series("from-z", "allowed", 9)) }
        #expect(agent.metric(Self.series("deny", "denied", 2)))
        #expect(agent.registry.emitToString().contains("netpol_counter_read_duration_seconds_count"))
    }

    @Test func offByDefaultTheRulesCountNothing() async throws {
        let agent = try await Self.started(countInterval: nil)
        defer { agent.task.cancel() }
        let chain = try Self.chain()
        #expect(!agent.kernel.countPackets(1, chain: chain) { _ in true }, "no rule has a counter")
        #expect(!agent.registry.emitToString().contains("netpol_policy_connections_total"))
    }
}
