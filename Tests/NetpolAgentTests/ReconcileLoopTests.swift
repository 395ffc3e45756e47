import Dispatch
import Logging
import NetpolAgent
import NetpolDataplane
import NetpolKube
import NetpolModel
import NetpolRules
import NetpolTesting
import Prometheus
import Synchronization
import Testing

/// A programmer the test steers: it records what the loop asks of it, and
/// fails, falls back, reports drift or hangs when told to.
final class SteeredProgrammer: RuleProgrammer, Sendable {
    private struct State {
        var applied: RulePlan?
        var calls: [String] = []
        var failures = 0
        var fallBack = false
        var drift: [Drift] = []
    }

    private let state = Mutex(State())
    /// While closed, every apply and replace waits: a hung kernel call.
    private let gate = Mutex<DispatchSemaphore?>(nil)
    private let waiting = Atomic(0)

    var applied: RulePlan? { state.withLock { $0.applied } }
    /// `replace`, `apply` and `verify`, in the order the loop called them.
    var calls: [String] { state.withLock { $0.calls } }

    func failNext(_ count: Int) { state.withLock { $0.failures = count } }
    func fallBackNext() { state.withLock { $0.fallBack = true } }
    /// The next verify reports `drift`; the next replace mends it.
    func drift(_ drift: [Drift]) { state.withLock { $0.drift = drift } }
    func hang() { gate.withLock { $0 = DispatchSemaphore(value: 0) } }
    /// True while a write waits at the closed gate.
    var isHanging: Bool { waiting.load(ordering: .sequentiallyConsistent) > 0 }
    func release() { gate.withLock { $0?.signal(); $0 = nil } }

    func apply(_ plan: RulePlan) throws(DataplaneError) -> ApplyOutcome {
        try write(plan, "apply")
        let fallBack = state.withLock { state in
            defer { state.fallBack = false }
            return state.fallBack
        }
        return fallBack ? .replaced(fallback: DataplaneError(.commandFailed, "Error: No such file or directory")) : .incremental(PlanDiff())
    }

    func apply(_ diff: PlanDiff) throws(DataplaneError) -> ApplyOutcome {
        guard var plan = applied else { throw DataplaneError(.nothingApplied, "nothing applied") }
        plan.apply(diff)
        return try apply(plan)
    }

    func replace(_ plan: RulePlan) throws(DataplaneError) {
        try write(plan, "replace")
        state.withLock { $0.drift = [] }
    }

    func verify() throws(DataplaneError) -> [Drift] {
        state.withLock { state in
            state.calls.append("verify")
            return state.drift
        }
    }

    func cleanup() throws(DataplaneError) {}

    func readCounters() throws(DataplaneError) -> [RuleCounter] { [] }

    private func write(_ plan: RulePlan, _ call: String) throws(DataplaneError) {
        if let closed = gate.withLock({ $0 }) {
            waiting.add(1, ordering: .sequentiallyConsistent)
            closed.wait()
            waiting.subtract(1, ordering: .sequentiallyConsistent)
        }
        let failed = state.withLock { state in
            state.calls.append(call)
            guard state.failures == 0 else {
                state.failures -= 1
                return true
            }
            state.applied = plan
            return false
        }
        if failed { throw DataplaneError(.commandFailed, "Error: Could not process rule: Device or resource busy") }
    }
}

/// An agent on a manual clock, fed through its store, with its metrics;
/// `kernel` is what stands in for the kernel (a steered programmer, or the
/// fake nftables kernel under the real programmer).
struct LoopHarness<Kernel: Sendable>: Sendable {
    let store = ClusterStore()
    let status = AgentStatus()
    let registry = PrometheusCollectorRegistry()
    let clock = ManualClock()
    let kernel: Kernel
    let task: Task<Void, Never>

    init(_ configuration: AgentConfiguration, kernel: Kernel, programmer: (Kernel) -> any RuleProgrammer) {
        self.kernel = kernel
        let agent = Agent(
            configuration: configuration, programmer: programmer(kernel), store: store, status: status,
            logger: Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() },
            metrics: AgentMetrics(factory: PrometheusMetricsFactory(registry: registry)), clock: clock)
        // Started on the agent's threads: a plain Task would wait for the shared
        // pool, which blocking lab tests can hold for minutes in a full run.
        task = Task(executorPreference: AgentExecutor.shared) { await agent.run(sources: []) }
    }

    /// Lists every kind, as a source does once its lists succeeded.
    func listEverything(_ snapshot: Snapshot = ConformanceModel.cluster().snapshot) {
        store.replaceAll("Namespace", with: snapshot.namespaces.map(KubeObject.namespace))
        store.replaceAll("Pod", with: snapshot.pods.map(KubeObject.pod))
        store.replaceAll("NetworkPolicy", with: snapshot.policies.map(KubeObject.networkPolicy))
        store.replaceAll("Node", with: snapshot.nodes.map(KubeObject.node))
        store.replaceAll("ClusterNetworkPolicy", with: snapshot.clusterPolicies.map(KubeObject.clusterNetworkPolicy))
    }

    func metric(_ line: String) -> Bool {
        registry.emitToString().split(separator: "\n").contains { $0 == line }
    }

    func route(_ path: String) -> StatusServer.Response? {
        StatusServer.agentRoutes(status: status, metrics: { "" })(path)
    }

    /// Waits until `count` tasks sleep on the clock, then moves it.
    func advance(by duration: Duration, once count: Int) async throws {
        try await waitUntil { clock.sleeperCount >= count }
        clock.advance(by: duration)
    }
}

/// The reconcile loop without root or sleeping: the steered programmer stands
/// in for the kernel and a manual clock for time.
@Suite("Reconcile loop")
struct ReconcileLoopTests {
    private static func steered(_ configuration: AgentConfiguration) -> LoopHarness<SteeredProgrammer> {
        LoopHarness(configuration, kernel: SteeredProgrammer(), programmer: { $0 })
    }

    private static let quiet = AgentConfiguration(node: "node-1", verifyInterval: nil)
    private static let denyX = networkPolicy("deny", in: "x", types: [.ingress])

    @Test func nothingIsWrittenBeforeEveryKindIsListed() async throws {
        let agent = Self.steered(Self.quiet)
        defer { agent.task.cancel() }
        agent.store.replaceAll("Namespace", with: [])
        agent.store.replaceAll("Pod", with: [])
        agent.store.replaceAll("Node", with: [])
        agent.store.replaceAll("ClusterNetworkPolicy", with: [])
        try await waitUntil { agent.store.version >= 1 }
        #expect(agent.kernel.calls.isEmpty)
        #expect(agent.route("/readyz")?.status == .serviceUnavailable)

        agent.store.replaceAll("NetworkPolicy", with: [])
        try await waitUntil { agent.status.isReady }
        #expect(agent.kernel.calls == ["replace"], "the first sync replaces whatever an earlier run left")
        #expect(agent.route("/readyz")?.status == .ok)
    }

    @Test func aChangeIsADifferenceAndAFallbackIsReportedAsWhatItWas() async throws {
        let agent = Self.steered(Self.quiet)
        defer { agent.task.cancel() }
        agent.listEverything()
        try await waitUntil { agent.status.isReady }

        _ = agent.store.upsert(.networkPolicy(Self.denyX))
        try await waitUntil { agent.status.lastSync?.version == agent.store.version }
        #expect(agent.kernel.calls == ["replace", "apply"])
        #expect(agent.status.lastSync?.full == false)

        agent.kernel.fallBackNext()
        agent.store.remove(ObjectReference(kind: "NetworkPolicy", namespace: "x", name: "deny"))
        try await waitUntil { agent.status.lastSync?.version == agent.store.version }
        let report = try #require(agent.status.lastSync)
        #expect(report.full && report.fallback)
        #expect(agent.metric("netpol_sync_fallbacks_total 1"))
    }

    @Test func aFailedSyncKeepsTheRulesReportsAndRetries() async throws {
        let agent = Self.steered(AgentConfiguration(node: "node-1", verifyInterval: nil, retry: Backoff(initial: .seconds(1), maximum: .seconds(1))))
        defer { agent.task.cancel() }
        agent.listEverything()
        try await waitUntil { agent.status.isReady }

        agent.kernel.failNext(2)
        _ = agent.store.upsert(.networkPolicy(Self.denyX))
        try await waitUntil { agent.status.lastFailure != nil }
        #expect(agent.route("/readyz")?.body.contains("Device or resource busy") == true)
        #expect(agent.metric("netpol_sync_errors_total 1"))
        // No retry until the backoff has passed on the clock; then one more failure, then success.
        try await agent.advance(by: .milliseconds(1_300), once: 1)
        try await waitUntil { agent.kernel.calls.count == 3 }
        #expect(agent.status.lastFailure != nil)
        try await agent.advance(by: .milliseconds(1_300), once: 1)
        try await waitUntil { agent.status.isReady }
        // The failed change is already in the planner, not in the kernel: the
        // retries start over whole.
        #expect(agent.kernel.calls == ["replace", "apply", "replace", "replace"])
        #expect(agent.route("/readyz")?.status == .ok)
    }

    @Test func verifyFindsDriftAndReplacesTheTable() async throws {
        let agent = Self.steered(AgentConfiguration(node: "node-1", verifyInterval: .seconds(60)))
        defer { agent.task.cancel() }
        agent.listEverything()
        try await waitUntil { agent.status.isReady }

        let firstSync = agent.status.lastSync?.finished
        // A clean verify writes nothing.
        try await agent.advance(by: .seconds(60), once: 1)
        try await waitUntil { agent.kernel.calls == ["replace", "verify"] }
        #expect(agent.metric("netpol_verifies_total 1"))

        agent.kernel.drift([Drift(.set, "ingress-x-1", "1 element missing: 10.0.1.1"), Drift(.binding, "ingress-pods-v4", "missing")])
        try await agent.advance(by: .seconds(60), once: 1)
        try await waitUntil { agent.kernel.calls == ["replace", "verify", "verify", "replace"] }
        try await waitUntil { agent.status.lastSync?.full == true && agent.status.lastSync?.finished != firstSync }
        #expect(agent.metric("netpol_drift_repairs_total{kind=\"set\"} 1"))
        #expect(agent.metric("netpol_drift_repairs_total{kind=\"binding\"} 1"))
    }

    @Test func resyncIsOffUnlessAskedFor() async throws {
        let off = Self.steered(Self.quiet)
        defer { off.task.cancel() }
        off.listEverything()
        try await waitUntil { off.status.isReady }
        #expect(off.clock.sleeperCount == 0, "no timer runs: nothing will ever rewrite the table blindly")

        let on = Self.steered(AgentConfiguration(node: "node-1", verifyInterval: nil, resync: .seconds(300)))
        defer { on.task.cancel() }
        on.listEverything()
        try await waitUntil { on.status.isReady }
        try await on.advance(by: .seconds(300), once: 1)
        try await waitUntil { on.kernel.calls == ["replace", "replace"] }
    }

    @Test func debounceWaitsOnTheClock() async throws {
        let agent = Self.steered(AgentConfiguration(node: "node-1", debounce: .seconds(2), verifyInterval: nil))
        defer { agent.task.cancel() }
        agent.listEverything()
        try await agent.advance(by: .seconds(2), once: 1)
        try await waitUntil { agent.status.isReady }

        _ = agent.store.upsert(.networkPolicy(Self.denyX))
        try await waitUntil { agent.clock.sleeperCount == 1 }
        #expect(agent.kernel.calls == ["replace"], "the change waits for the debounce")
        agent.clock.advance(by: .seconds(2))
        try await waitUntil { agent.kernel.calls == ["replace", "apply"] }
    }

    @Test func healthFailsWhileASyncHangs() async throws {
        let agent = Self.steered(AgentConfiguration(node: "node-1", verifyInterval: nil, stallTimeout: .seconds(120)))
        defer { agent.task.cancel() }
        agent.listEverything()
        try await waitUntil { agent.status.isReady }

        agent.kernel.hang()
        _ = agent.store.upsert(.networkPolicy(Self.denyX))
        try await waitUntil { agent.kernel.isHanging }
        agent.clock.advance(by: .seconds(119))
        #expect(agent.route("/healthz")?.status == .ok)
        agent.clock.advance(by: .seconds(2))
        #expect(agent.status.isStalled)
        #expect(agent.route("/healthz")?.status == .serviceUnavailable)
        #expect(agent.route("/readyz")?.status == .ok, "the last finished sync worked: only liveness says stuck")

        agent.kernel.release()
        try await waitUntil { agent.status.lastSync?.version == agent.store.version }
        #expect(agent.route("/healthz")?.status == .ok)
    }
}

/// The loop with the real nftables programmer over the fake kernel: what the
/// kernel refuses and what drifts behind netpol's back, without root.
@Suite("Reconcile loop on the fake nftables kernel")
struct FakeKernelLoopTests {
    private static func start(verifyInterval: Duration?) -> LoopHarness<FakeNftKernel> {
        let agent = LoopHarness(
            AgentConfiguration(node: "node-1", verifyInterval: verifyInterval), kernel: FakeNftKernel(),
            programmer: { NftablesProgrammer(runner: $0) })
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("from-b", in: "x", ingress: [.init(from: [.pods(.labels(["pod": "b"]))])]))
        agent.listEverything(cluster.snapshot)
        return agent
    }

    /// What the fake kernel holds, compared with the plan for what the store holds.
    private static func drift(_ agent: LoopHarness<FakeNftKernel>) throws -> [Drift] {
        let plan = RuleCompiler.plan(node: "node-1", snapshot: agent.store.snapshot().snapshot)
        return try NftablesProgrammer(runner: agent.kernel).verify(against: plan)
    }

    @Test func aRefusedDifferenceFallsBackToTheWholeTableAndSaysSo() async throws {
        let agent = Self.start(verifyInterval: nil)
        defer { agent.task.cancel() }
        try await waitUntil { agent.status.isReady }
        #expect(agent.kernel.transactionCount == 1)

        agent.kernel.failNext(1)
        var relabelled = try #require(agent.store.snapshot().snapshot.pods.first { $0.namespace == "x" && $0.name == "c" })
        relabelled.metadata.labels["pod"] = "b"
        _ = agent.store.upsert(.pod(relabelled))
        try await waitUntil { agent.status.lastSync?.version == agent.store.version }
        let report = try #require(agent.status.lastSync)
        #expect(report.fallback && report.full)
        #expect(agent.metric("netpol_sync_fallbacks_total 1"))
        #expect(try Self.drift(agent) == [], "the kernel holds the plan after the fallback")
    }

    @Test func verifyRepairsAnElementDeletedBehindTheAgentsBack() async throws {
        let agent = Self.start(verifyInterval: .seconds(60))
        defer { agent.task.cancel() }
        try await waitUntil { agent.status.isReady }
        agent.kernel.tamperDeleteElement(ConformanceModel.ipv4("x", "a"), from: "ingress-pods-v4")
        #expect(try Self.drift(agent).map(\.kind) == [.binding])

        try await waitUntil { agent.clock.sleeperCount >= 1 }
        agent.clock.advance(by: .seconds(60))
        try await waitUntil { agent.kernel.transactionCount == 2 }
        #expect(agent.metric("netpol_drift_repairs_total{kind=\"binding\"} 1"))
        #expect(try Self.drift(agent) == [])
    }
}
