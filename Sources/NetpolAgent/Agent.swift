import Logging
import NetpolDataplane
import NetpolKube
import NetpolRules
import Synchronization

/// How the agent paces its work.
public struct AgentConfiguration: Sendable {
    /// The node whose local pods this agent enforces for.
    public var node: String
    /// How long to wait after a change for more changes before syncing. Changes
    /// that arrive during a sync are coalesced into the next one anyway.
    public var debounce: Duration
    /// How often the kernel is read back and compared with the last applied
    /// plan, elements included; drift is repaired with a whole replace. nil: never.
    public var verifyInterval: Duration?
    /// How often the whole table is rewritten without looking first: a
    /// fallback for when verify cannot be trusted. nil (the default): never.
    public var resync: Duration?
    /// Waits between retries of a failed kernel transaction.
    public var retry: Backoff
    /// How long one sync or verify may run before `/healthz` calls the loop
    /// stuck (so that the kubelet restarts the agent; the rules stay meanwhile).
    public var stallTimeout: Duration

    public init(
        node: String, debounce: Duration = .zero, verifyInterval: Duration? = .seconds(60), resync: Duration? = nil,
        retry: Backoff = Backoff(), stallTimeout: Duration = .seconds(120)
    ) {
        self.node = node
        self.debounce = debounce
        self.verifyInterval = verifyInterval
        self.resync = resync
        self.retry = retry
        self.stallTimeout = stallTimeout
    }
}

/// Keeps one node's kernel rules equal to what the policies say.
///
/// Sources fill the store; each wake-up compiles the node's plan from the whole
/// store and hands it to the programmer, which writes only the difference from
/// what the kernel last accepted, in one transaction. Nothing is written until
/// every kind has been listed; the first sync replaces whatever an earlier run
/// left in one transaction, so isolated pods are never open in between. Every
/// verify interval the kernel is compared with the plan and drift is replaced
/// whole. On cancellation the agent returns and leaves the rules in force.
///
/// Timers run on `clock`, so tests drive them without sleeping. An agent
/// belongs to the task that runs it (its programmer is not shared); others
/// watch it through the store and status they passed in.
public final class Agent<C: Clock<Duration>> {
    public let store: ClusterStore
    public let status: AgentStatus
    private let programmer: any RuleProgrammer
    private let configuration: AgentConfiguration
    private let logger: Logger
    private let metrics: AgentMetrics
    private let clock: C
    private let chores = Chores()

    public init(
        configuration: AgentConfiguration, programmer: any RuleProgrammer, store: ClusterStore = ClusterStore(),
        status: AgentStatus = AgentStatus(), logger: Logger, metrics: AgentMetrics, clock: C
    ) {
        self.configuration = configuration
        self.status = status
        self.programmer = programmer
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
    }

    /// Runs the sources and the reconcile loop, on the agent's own threads,
    /// until the task is cancelled.
    public func run(sources: [any ClusterSource]) async {
        await withTaskExecutorPreference(AgentExecutor.shared) {
            await runHere(sources: sources)
        }
    }

    private func runHere(sources: [any ClusterSource]) async {
        let store = self.store
        let logger = self.logger
        let metrics = self.metrics
        await withTaskGroup(of: Void.self) { group in
            for source in sources {
                group.addTask { await source.run(into: store, logger: logger, metrics: metrics) }
            }
            for (chore, interval) in [(Chore.verify, configuration.verifyInterval), (.resync, configuration.resync)] {
                guard let interval, interval > .zero else { continue }
                group.addTask { [clock, chores] in
                    while (try? await clock.sleep(for: interval)) != nil {
                        chores.add([chore])
                        store.wake()
                    }
                }
            }
            await reconcile()
            group.cancelAll()
        }
        logger.info("agent stopped; rules stay in force", metadata: ["node": "\(configuration.node)"])
    }

    private func reconcile() async {
        var retry = configuration.retry
        for await _ in store.wakes {
            if configuration.debounce > .zero {
                try? await clock.sleep(for: configuration.debounce)
            }
            if Task.isCancelled { return }
            guard store.isComplete else { continue }
            let due = chores.take()
            do {
                try work(due)
                retry.reset()
            } catch {
                metrics.syncFailures.increment()
                status.recordFailure("\(error)")
                let wait = retry.next()
                logger.error("sync failed; old rules stay in force", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                // What was due is still due after the wait.
                chores.add(due)
                try? await clock.sleep(for: wait)
                store.wake()
            }
        }
    }

    /// One turn of the loop: follow the store, then run the chores that are due.
    private func work(_ due: Set<Chore>) throws(DataplaneError) {
        let deadline = clock.now.advanced(by: configuration.stallTimeout)
        status.beginWork { [clock] in clock.now >= deadline }
        defer { status.endWork() }
        if due.contains(.resync) || programmer.applied == nil {
            try sync(replacing: true)
            return
        }
        let behind = status.lastFailure != nil || status.lastSync?.version != store.version
        if behind { try sync(replacing: false) }
        if due.contains(.verify) { try verifyAndRepair() }
    }

    /// Compares the kernel with the last applied plan; replaces the table whole
    /// when they differ.
    private func verifyAndRepair() throws(DataplaneError) {
        let drift = try programmer.verify()
        metrics.verifies.increment()
        guard !drift.isEmpty else {
            logger.debug("verified: the kernel holds the plan")
            return
        }
        for kind in Set(drift.map(\.kind)) { metrics.driftRepairs(kind).increment() }
        logger.warning(
            "the kernel's rules drifted from the plan; replacing them whole",
            metadata: ["drift": "\(drift.prefix(10).map(\.description).joined(separator: "; "))", "differences": "\(drift.count)"])
        try sync(replacing: true)
    }

    /// Compiles the store's cluster for this node and makes the kernel hold it:
    /// the difference from what it holds, or the whole table when `replacing`.
    private func sync(replacing: Bool) throws(DataplaneError) {
        let clock = ContinuousClock()
        let started = clock.now
        let (snapshot, version) = store.snapshot()
        let plan = RuleCompiler.plan(node: configuration.node, snapshot: snapshot)
        let previous = programmer.applied
        let compiled = clock.now
        // The programmer works out the difference; an unchanged plan (a change
        // that does not concern this node) goes nowhere near the kernel.
        let outcome: ApplyOutcome
        if replacing {
            try programmer.replace(plan)
            outcome = .replaced(fallback: nil)
        } else if plan == previous {
            outcome = .incremental(PlanDiff())
        } else {
            outcome = try programmer.apply(plan)
        }
        if let fallback = outcome.fallback {
            metrics.syncFallbacks.increment()
            logger.warning("the kernel refused the difference; replaced the whole table instead", metadata: ["error": "\(fallback)"])
        }
        let diff = outcome.diff
        let duration = started.duration(to: clock.now)
        let report = SyncReport(
            version: version, duration: duration, compileDuration: started.duration(to: compiled), finished: clock.now,
            full: diff == nil, fallback: outcome.fallback != nil,
            setElementChanges: diff?.elementCount ?? plan.elementCount, ruleChanges: diff?.ruleCount ?? plan.ruleCount)
        metrics.syncs.increment()
        metrics.syncDuration.recordMilliseconds(duration.milliseconds)
        metrics.setElementChanges.increment(by: report.setElementChanges)
        metrics.ruleChanges.increment(by: report.ruleChanges)
        metrics.kernelRules.record(plan.ruleCount)
        metrics.kernelSetElements.record(plan.elementCount)
        status.record(report)
        let metadata: Logger.Metadata = [
            "version": "\(version)", "full": "\(report.full)", "elements": "\(report.setElementChanges)",
            "rules": "\(report.ruleChanges)", "ms": "\((duration.milliseconds * 100).rounded() / 100)",
        ]
        if previous == nil {
            logger.info("first sync: rules in force", metadata: metadata.merging(["pods": "\(plan.bindings.count)"]) { $1 })
        } else if report.setElementChanges + report.ruleChanges > 0 || replacing {
            logger.info("synced", metadata: metadata)
        } else {
            logger.debug("synced, nothing changed", metadata: metadata)
        }
    }
}

extension Agent where C == ContinuousClock {
    /// An agent on the real clock.
    public convenience init(
        configuration: AgentConfiguration, programmer: any RuleProgrammer, store: ClusterStore = ClusterStore(),
        status: AgentStatus = AgentStatus(), logger: Logger, metrics: AgentMetrics
    ) {
        self.init(
            configuration: configuration, programmer: programmer, store: store, status: status, logger: logger, metrics: metrics,
            clock: ContinuousClock())
    }
}

/// Work the timers ask of the reconcile loop, besides following the store.
private enum Chore: Hashable {
    case verify, resync
}

/// The chores due, shared between the timers and the loop.
private final class Chores: Sendable {
    private let due = Mutex(Set<Chore>())

    func add(_ chores: Set<Chore>) {
        due.withLock { $0.formUnion(chores) }
    }

    /// The chores due now; none are due after.
    func take() -> Set<Chore> {
        due.withLock { due in
            defer { due.removeAll() }
            return due
        }
    }
}
