import Foundation
import Logging
import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolKube
import NetpolLab
import NetpolModel
import NetpolRules
import NetpolTesting
import Prometheus
import Synchronization
import Testing

let isRoot = getuid() == 0
let rootOnly = "the lab needs root: it creates network namespaces and programs nftables (CI runs as root)"

/// An agent watching the fake API server and programming a lab node, with
/// the handles a test needs to change the cluster and look at the result.
final class AgentHarness: Sendable {
    let server: FakeAPIServer
    let client: KubeClient
    let store = ClusterStore()
    let status = AgentStatus()
    let registry = PrometheusCollectorRegistry()
    private let task: Task<Void, Never>

    /// - Parameters:
    ///   - failingRequests: how many requests the server fails before the agent starts asking.
    ///   - deniedLog: log denied connections this way, to this file (`--log-denied`).
    init(
        objects: [KubeObject], node: String, runner: NetnsRunner, backend: Backend = .nftables, failingRequests: Int = 0,
        verifyInterval: Duration? = nil, podRanges: [CIDR] = [], recheck: Bool = false, deniedLog: (logging: DenyLogging, file: String)? = nil
    ) async throws {
        server = try await FakeAPIServer(objects: objects)
        server.failNextRequests(failingRequests)
        client = try KubeClient(access: server.access)
        let source = KubernetesSource(client: client, watchTimeout: 20...30, backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
        let (store, status) = (store, status)
        let metrics = AgentMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() }
        let log = try deniedLog.map { deniedLog in
            try DeniedConnectionLog(
                group: deniedLog.logging.group, namespace: runner.namespace, file: deniedLog.file,
                recorder: DeniedConnectionRecorder(node: node, store: store, plan: { status.plan }, metrics: metrics), metrics: metrics, logger: logger)
        }
        task = Task(executorPreference: AgentExecutor.shared) {
            let agent = Agent(
                configuration: AgentConfiguration(
                    node: node, verifyInterval: verifyInterval, retry: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)), podRanges: podRanges,
                    denyLogging: deniedLog?.logging),
                programmer: backend.programmer(runner: InProcessNftRunner(namespace: runner.namespace, fallback: runner), iptablesMode: .nft),
                recheck: recheck ? ConntrackRecheck(namespace: runner.namespace) : nil,
                store: store, status: status, logger: logger, metrics: metrics)
            await agent.run(sources: [source], deniedLog: log)
        }
    }

    /// Makes a change on the server and waits until the kernel holds it.
    func change(_ body: (FakeAPIServer) -> Void) async throws {
        try await onAgentThreads {
            let before = store.version
            body(server)
            try await waitUntil { store.version > before }
            try #require(await status.waitForSync(reaching: store.version, timeout: .seconds(15)) != nil)
        }
    }

    func metric(_ name: String) -> Double {
        registry.emitToString().split(separator: "\n")
            .filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    func stop() async {
        task.cancel()
        await task.value
        await client.shutdown()
        await server.close()
    }
}

@Suite("Agent against the API server, on a lab node", .enabled(if: isRoot, Comment(rawValue: rootOnly)), .serialized)
struct AgentLabTests {
    private static func id(_ namespace: String, _ pod: String) -> PodID { PodID(namespace: namespace, name: pod) }

    /// One watch each: namespaces, pods, network policies, nodes, cluster network policies.
    private static let watchedKinds = 5

    /// Only pods labelled pod=b in namespaces labelled ns=y may reach namespace x.
    static let fromYB = networkPolicy(
        "from-y-b", in: "x", selecting: .everything,
        ingress: [.init(from: [.pods(.labels(["pod": "b"]), inNamespaces: .labels(["ns": "y"]))])])

    /// The snapshot's objects, as the fake API server takes them.
    static func objects(_ snapshot: Snapshot) -> [KubeObject] {
        snapshot.namespaces.map(KubeObject.namespace) + snapshot.pods.map(KubeObject.pod) + snapshot.policies.map(KubeObject.networkPolicy)
    }

    /// A lab of `cluster` on node-1, and an agent watching a server that holds it.
    private func start(
        _ cluster: Cluster, backend: Backend = .nftables, objects: [KubeObject]? = nil, failingRequests: Int = 0, verifyInterval: Duration? = nil
    ) async throws -> (Lab, AgentHarness) {
        let lab = try Lab(snapshot: cluster.snapshot, backend: backend, iptablesMode: .nft)
        lab.probeTimeout = .milliseconds(400)
        let agent = try await AgentHarness(
            objects: objects ?? Self.objects(cluster.snapshot), node: "node-1", runner: try #require(lab.runner(node: "node-1") as? NetnsRunner),
            backend: backend, failingRequests: failingRequests, verifyInterval: verifyInterval)
        return (lab, agent)
    }

    private func expectLabMatchesEngine(_ lab: Lab, _ cluster: Cluster, _ step: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        lab.judge(by: cluster.snapshot)
        for proto in [PortProtocol.tcp, .udp] {
            let result = try lab.run(port: .int(80), protocol: proto)
            #expect(result.mismatches.map { "\($0.from) -> \($0.to)" } == [], "\(step), \(proto)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Backend.allCases)
    func everyChangeInTheAPIReachesTheKernel(backend: Backend) async throws {
        try await onAgentThreads {
            var cluster = ConformanceModel.cluster()
            let (lab, agent) = try await start(cluster, backend: backend)
            defer { lab.teardown() }
            try await waitUntil { agent.status.isReady }
            try expectLabMatchesEngine(lab, cluster, "first sync")

            cluster.apply(Self.fromYB)
            try await agent.change { $0.apply(.networkPolicy(Self.fromYB)) }
            try expectLabMatchesEngine(lab, cluster, "policy added")
            #expect(try lab.probe(from: Self.id("y", "b"), to: Self.id("x", "a"), port: 80))
            #expect(try !lab.probe(from: Self.id("y", "c"), to: Self.id("x", "a"), port: 80))

            cluster.relabel(pod: "c", in: "y", ["pod": "b"])
            try await agent.change { $0.apply(.pod(cluster.pods[PodKey("y", "c")]!)) }
            try expectLabMatchesEngine(lab, cluster, "pod relabelled")

            cluster.relabel(namespace: "z", ["ns": "y"])
            try await agent.change { $0.apply(.namespace(cluster.namespaces["z"]!)) }
            try expectLabMatchesEngine(lab, cluster, "namespace relabelled")
            #expect(try lab.probe(from: Self.id("z", "b"), to: Self.id("x", "a"), port: 80))

            // The deleted pod's namespace and address stay in the lab, but no rule
            // may know it any more.
            #expect(try lab.probe(from: Self.id("y", "c"), to: Self.id("x", "a"), port: 80))
            try await agent.change { $0.delete(.pod(cluster.pods[PodKey("y", "c")]!)) }
            #expect(try !lab.probe(from: Self.id("y", "c"), to: Self.id("x", "a"), port: 80))
            #expect(try lab.probe(from: Self.id("y", "b"), to: Self.id("x", "a"), port: 80))
            #expect(agent.metric("netpol_sync_fallbacks_total") == 0, "a change fell back to a whole replace")
            await agent.stop()
        }
    }

    /// Disconnects, 5xx answers, a compacted history (410, relist) and an
    /// invalid object: the rules in force never change meaning meanwhile, and
    /// the agent catches up afterwards.
    @Test func rulesHoldThroughDisconnectsRelistsAndBadObjects() async throws {
        try await onAgentThreads {
            var cluster = ConformanceModel.cluster()
            cluster.apply(Self.fromYB)
            let (lab, agent) = try await start(cluster)
            defer { lab.teardown() }
            try await waitUntil { agent.status.isReady }
            let watch = StablePairWatch(lab: lab, pairs: [
                .init(from: Self.id("y", "b"), to: Self.id("x", "a"), port: 80, allowed: true),
                .init(from: Self.id("z", "b"), to: Self.id("x", "a"), port: 80, allowed: false),
            ])

            // Connections dropped, the server failing, then its history compacted: 410 and relists.
            agent.server.failNextRequests(4, status: .serviceUnavailable)
            agent.server.dropConnections()
            try await waitUntil { agent.metric("netpol_watch_restarts_total") >= 3 }
            try await waitUntil { agent.server.watchCount == Self.watchedKinds }
            agent.server.setAnswerDelay(.milliseconds(300))
            agent.server.dropConnections()
            var relabelled = cluster.namespaces["y"]!
            relabelled.metadata.labels["seen"] = "while-away"
            agent.server.apply(.namespace(relabelled))
            agent.server.compactHistory()
            try await waitUntil { agent.metric("netpol_relists_total") >= 3 }
            try await waitUntil { agent.server.watchCount == Self.watchedKinds }
            agent.server.setAnswerDelay(.zero)

            // An invalid version of the policy is refused; the valid one stays in force.
            var broken = Self.fromYB
            broken.spec.ingress[0].from[0].podSelector?.matchExpressions = [LabelSelectorRequirement(key: "pod", operator: SelectorOperator(rawValue: "Near"), values: [])]
            agent.server.apply(.networkPolicy(broken))
            try await waitUntil { agent.metric("netpol_objects_rejected_total") >= 1 }

            // Enough probes ran through all of it.
            let deadline = ContinuousClock.now + .seconds(20)
            while watch.probes < 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let probes = watch.probes
            #expect(watch.stop() == [])
            #expect(probes >= 10)

            // And it still follows the API: z joins ns=y, z/b gets in.
            cluster.relabel(namespace: "z", ["ns": "y"])
            try await agent.change { $0.apply(.namespace(cluster.namespaces["z"]!)) }
            #expect(try lab.probe(from: Self.id("z", "b"), to: Self.id("x", "a"), port: 80))
            await agent.stop()
        }
    }

    /// Someone deletes netpol's table: the next verify finds it and writes it all again.
    @Test func verifyRepairsADeletedTable() async throws {
        try await onAgentThreads {
            var cluster = ConformanceModel.cluster()
            cluster.apply(Self.fromYB)
            let (lab, agent) = try await start(cluster, verifyInterval: .milliseconds(200))
            defer { lab.teardown() }
            let runner = try #require(lab.runner(node: "node-1"))
            try await waitUntil { agent.status.isReady }
            let deleted = ContinuousClock.now
            // No probe while the table is gone: the next verify (every 200 ms) may mend it first.
            try runner.check(Command("nft", ["delete", "table", "inet", "netpol"]))
            try await waitUntil { agent.metric("netpol_drift_repairs_total") == 1 }
            #expect(agent.registry.emitToString().contains("netpol_drift_repairs_total{kind=\"table\"} 1"))
            // The repair is counted as it starts: wait for the whole replace to finish.
            try await waitUntil { agent.status.lastSync.map { $0.full && $0.finished > deleted } ?? false }
            #expect(try !lab.probe(from: Self.id("z", "b"), to: Self.id("x", "a"), port: 80))
            await agent.stop()
        }
    }

    /// Rules an earlier run left stay until the first sync replaces them, and
    /// nothing is written before all three kinds are listed.
    @Test func startingOverOldRulesNeverOpensIsolatedPods() async throws {
        try await onAgentThreads {
            var cluster = ConformanceModel.cluster()
            cluster.apply(Self.fromYB)
            // The server fails every list: the agent must not write anything.
            let (lab, agent) = try await start(cluster, objects: [], failingRequests: 1_000)
            defer { lab.teardown() }
            try await Task.sleep(for: .milliseconds(500))
            #expect(!agent.status.isReady)
            #expect(try !lab.probe(from: Self.id("z", "b"), to: Self.id("x", "a"), port: 80), "the old rules are still in force")
            await agent.stop()
        }
    }
}
