import Logging
import NetpolDataplane
import NetpolKube
import NetpolRules

/// How the agent paces its work.
public struct AgentConfiguration: Sendable {
    /// The node whose local pods this agent enforces for.
    public var node: String
    /// How long to wait after a change for more changes before syncing. Changes
    /// that arrive during a sync are coalesced into the next one anyway.
    public var debounce: Duration
    /// How often the whole table is rewritten, repairing drift (someone deleted
    /// a set element, or the table).
    public var resync: Duration
    /// Waits between retries of a failed kernel transaction.
    public var retry: Backoff

    public init(node: String, debounce: Duration = .zero, resync: Duration = .seconds(300), retry: Backoff = Backoff()) {
        self.node = node
        self.debounce = debounce
        self.resync = resync
        self.retry = retry
    }
}

/// Keeps one node's kernel rules equal to what the policies say.
///
/// Sources fill the store; each wake-up compiles the node's plan from the whole
/// store and hands it to the programmer, which writes only the difference from
/// what the kernel last accepted, in one transaction. Nothing is written until
/// every kind has been listed; the first sync replaces whatever an earlier run
/// left in one transaction, so isolated pods are never open in between. On
/// cancellation the agent returns and leaves the rules in force.
///
/// An agent belongs to the task that runs it (its programmer is not shared);
/// others watch it through the store and status they passed in.
public final class Agent {
    public let store: ClusterStore
    public let status: AgentStatus
    private let programmer: any RuleProgrammer
    private let configuration: AgentConfiguration
    private let logger: Logger
    private let metrics: AgentMetrics

    public init(
        configuration: AgentConfiguration, programmer: any RuleProgrammer, store: ClusterStore = ClusterStore(),
        status: AgentStatus = AgentStatus(), logger: Logger, metrics: AgentMetrics
    ) {
        self.configuration = configuration
        self.status = status
        self.programmer = programmer
        self.store = store
        self.logger = logger
        self.metrics = metrics
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
        let resync = configuration.resync
        await withTaskGroup(of: Void.self) { group in
            for source in sources {
                group.addTask { await source.run(into: store, logger: logger, metrics: metrics) }
            }
            group.addTask {
                while (try? await Task.sleep(for: resync)) != nil {
                    store.requestRepair()
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
                try? await Task.sleep(for: configuration.debounce)
            }
            if Task.isCancelled { return }
            guard store.isComplete else { continue }
            let repair = store.takeRepairRequest()
            // A wake for a change the last sync already included: nothing to do.
            if !repair, status.lastFailure == nil, status.lastSync?.version == store.version { continue }
            do {
                try sync(repair: repair)
                retry.reset()
            } catch {
                metrics.syncFailures.increment()
                status.recordFailure("\(error)")
                let wait = retry.next()
                logger.error("sync failed; old rules stay in force", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                try? await Task.sleep(for: wait)
                store.wake()
            }
        }
    }

    /// Compiles the store's cluster for this node and makes the kernel hold it.
    private func sync(repair: Bool) throws(DataplaneError) {
        let clock = ContinuousClock()
        let started = clock.now
        let (snapshot, version) = store.snapshot()
        let plan = RuleCompiler.plan(node: configuration.node, snapshot: snapshot)
        let previous = programmer.applied
        let compiled = clock.now
        // The programmer works out the difference; an unchanged plan (a change
        // that does not concern this node) goes nowhere near the kernel.
        let outcome: ApplyOutcome
        if previous == nil || repair {
            try programmer.replace(plan)
            outcome = .replaced(fallback: nil)
        } else if plan == previous {
            outcome = .incremental(PlanDiff())
        } else {
            outcome = try programmer.apply(plan)
        }
        let diff = outcome.diff
        if let fallback = outcome.fallback {
            metrics.syncFallbacks.increment()
            logger.warning("incremental update refused; replaced the whole table instead", metadata: ["error": "\(fallback)"])
        }
        let duration = started.duration(to: clock.now)
        let report = SyncReport(
            version: version, duration: duration, compileDuration: started.duration(to: compiled), finished: clock.now,
            full: diff == nil,
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
        } else if report.setElementChanges + report.ruleChanges > 0 || repair {
            logger.info("synced", metadata: metadata)
        } else {
            logger.debug("synced, nothing changed", metadata: metadata)
        }
    }
}
