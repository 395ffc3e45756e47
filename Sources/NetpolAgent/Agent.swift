import Logging
import NetpolDataplane
import NetpolKube
import NetpolModel
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
    /// How long a chain no pod uses any more stays in the kernel, so that a pod
    /// relabelled back, or a new pod like the old ones, finds it.
    public var chainRetention: Duration
    /// The node's pod ranges, whose addresses no known pod holds are isolated
    /// (`--isolate-new-pods`); empty: no such guard.
    public var podRanges: [CIDR]
    /// Whether and how the rules log denied connections (`--log-denied`); nil: not at all.
    public var denyLogging: DenyLogging?
    /// How often the rules' counters are read into `netpol_policy_connections_total`
    /// (`--count-connections`); nil: the rules count nothing.
    public var countInterval: Duration?

    public init(
        node: String, debounce: Duration = .zero, verifyInterval: Duration? = .seconds(60), resync: Duration? = nil,
        retry: Backoff = Backoff(), stallTimeout: Duration = .seconds(120), chainRetention: Duration = .seconds(60),
        podRanges: [CIDR] = [], denyLogging: DenyLogging? = nil, countInterval: Duration? = nil
    ) {
        self.node = node
        self.debounce = debounce
        self.verifyInterval = verifyInterval
        self.resync = resync
        self.retry = retry
        self.stallTimeout = stallTimeout
        self.chainRetention = chainRetention
        self.podRanges = podRanges
        self.denyLogging = denyLogging
        self.countInterval = countInterval
    }
}

/// Keeps one node's kernel rules equal to what the policies say.
///
/// Sources fill the store; each wake-up takes the changes since the last one
/// into the node's `NodePlanner`, which works out what they change, and the
/// programmer writes only that, in one transaction: the work follows the
/// changes, not the cluster's size. Nothing is written until every kind has
/// been listed; the first sync compiles the whole plan and replaces whatever an
/// earlier run left in one transaction, so isolated pods are never open in
/// between. Every
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
    /// Cuts the tracked connections a change denies; nil keeps them (`--established=keep`).
    private let recheck: ConntrackRecheck?
    private let configuration: AgentConfiguration
    private let logger: Logger
    private let metrics: AgentMetrics
    private let clock: C
    /// When the agent was made: the planner's clock counts from here.
    private let born: C.Instant
    /// The node's plan, kept up to date change by change; nil before the first
    /// sync and after a failed one, so that the next starts over whole.
    private var planner: NodePlanner?
    private let chores = Chores()
    /// Connections per policy counted so far, from the kernel's counters.
    private var tally = ConnectionTally()

    public init(
        configuration: AgentConfiguration, programmer: any RuleProgrammer, recheck: ConntrackRecheck? = nil, store: ClusterStore = ClusterStore(),
        status: AgentStatus = AgentStatus(), logger: Logger, metrics: AgentMetrics, clock: C
    ) {
        self.configuration = configuration
        self.status = status
        self.programmer = programmer
        self.recheck = recheck
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        born = clock.now
    }

    /// The base chain's guards: the configured pod ranges, and only a SYN
    /// opening TCP when the agent cuts established connections (so that a cut
    /// one cannot be picked up again mid-stream).
    private var guards: NodeGuards {
        NodeGuards(podRanges: configuration.podRanges, synOnlyOpens: recheck != nil)
    }

    /// Runs the sources and the reconcile loop, on the agent's own threads,
    /// and `deniedLog` if given, until the task is cancelled.
    public func run(sources: [any ClusterSource], deniedLog: DeniedConnectionLog? = nil) async {
        await withTaskExecutorPreference(AgentExecutor.shared) {
            await runHere(sources: sources, deniedLog: deniedLog)
        }
    }

    private func runHere(sources: [any ClusterSource], deniedLog: DeniedConnectionLog?) async {
        let store = self.store
        let logger = self.logger
        let metrics = self.metrics
        await withTaskGroup(of: Void.self) { group in
            for source in sources {
                group.addTask { await source.run(into: store, logger: logger, metrics: metrics) }
            }
            if let deniedLog {
                group.addTask { await deniedLog.run() }
            }
            for (chore, interval) in [(Chore.verify, configuration.verifyInterval), (.resync, configuration.resync), (.count, configuration.countInterval)] {
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

    /// Time since the agent was made, as the planner counts it.
    private var now: Duration { born.duration(to: clock.now) }

    /// One turn of the loop: follow the store, then run the chores that are
    /// due, and delete the chains kept unused for their time (checked at every
    /// wake: a change, or the verify timer).
    private func work(_ due: Set<Chore>) throws(DataplaneError) {
        let deadline = clock.now.advanced(by: configuration.stallTimeout)
        status.beginWork { [clock] in clock.now >= deadline }
        defer { status.endWork() }
        if due.contains(.resync) || programmer.applied == nil {
            try sync(replacing: true)
            return
        }
        let behind = status.lastFailure != nil || status.lastSync?.version != store.version
        if behind || planner?.hasExpiredChains(now: now) == true { try sync(replacing: false) }
        if due.contains(.verify) { try verifyAndRepair() }
        if due.contains(.count) { countConnections() }
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

    /// Makes the kernel hold the store's cluster for this node: the planner
    /// takes the changes since the last sync and the programmer writes their
    /// difference, or, when `replacing` (or nothing is known to be applied), the
    /// whole plan is compiled from the store and replaces the table.
    private func sync(replacing: Bool) throws(DataplaneError) {
        let clock = ContinuousClock()
        let started = clock.now
        let first = status.lastSync == nil
        let version: Int
        let outcome: ApplyOutcome
        var compiled = started
        do throws(DataplaneError) {
            // Taken out, so that it changes in place rather than being copied.
            if !replacing, programmer.applied != nil, var planner = planner.take() {
                let changes: [ClusterChange]
                (changes, version) = store.takeChanges()
                for change in changes { planner.apply(change) }
                let diff = planner.commit(now: now)
                self.planner = planner
                compiled = clock.now
                // What rewritten or removed chains counted is read before their counters go.
                if !diff.changedChains.isEmpty || !diff.removedChains.isEmpty { countConnections() }
                // A change that does not concern this node goes nowhere near the kernel.
                outcome = diff.isEmpty ? .incremental(diff) : try programmer.apply(diff)
                if outcome.fallback == nil {
                    tally.forget(chains: diff.changedChains.map(\.name) + diff.removedChains)
                } else {
                    tally.forgetAll()
                }
            } else {
                let snapshot: Snapshot
                (snapshot, version) = store.takeSnapshot()
                let planner = NodePlanner(
                    node: configuration.node, snapshot: snapshot, guards: guards, logging: configuration.denyLogging,
                    countsConnections: configuration.countInterval != nil, retention: configuration.chainRetention)
                self.planner = planner
                compiled = clock.now
                // What the table being replaced counted is read before its counters go.
                countConnections()
                try programmer.replace(planner.plan)
                tally.forgetAll()
                outcome = .replaced(fallback: nil)
            }
        } catch {
            planner = nil
            throw error
        }
        if let fallback = outcome.fallback {
            metrics.syncFallbacks.increment()
            logger.warning("the kernel refused the difference; replaced the whole table instead", metadata: ["error": "\(fallback)"])
        }
        let diff = outcome.diff
        if diff?.mayDeny ?? true {
            do throws(DataplaneError) {
                try cutDeniedConnections()
            } catch {
                // The rules are in force; the next sync starts over whole and re-checks again.
                planner = nil
                throw error
            }
        }
        let duration = started.duration(to: clock.now)
        let (rules, elements) = (programmer.applied?.ruleCount ?? 0, programmer.applied?.elementCount ?? 0)
        let report = SyncReport(
            version: version, duration: duration, compileDuration: started.duration(to: compiled), finished: clock.now,
            full: diff == nil, fallback: outcome.fallback != nil,
            setElementChanges: diff?.elementCount ?? elements, ruleChanges: diff?.ruleCount ?? rules)
        metrics.syncs.increment()
        metrics.syncDuration.recordMilliseconds(duration.milliseconds)
        metrics.setElementChanges.increment(by: report.setElementChanges)
        metrics.ruleChanges.increment(by: report.ruleChanges)
        metrics.kernelRules.record(rules)
        metrics.kernelSetElements.record(elements)
        // Kept only for the denied log's names: a second holder would make the
        // programmer's next in-place update copy the whole plan.
        status.record(report, plan: configuration.denyLogging == nil ? nil : programmer.applied)
        let metadata: Logger.Metadata = [
            "version": "\(version)", "full": "\(report.full)", "elements": "\(report.setElementChanges)",
            "rules": "\(report.ruleChanges)", "ms": "\((duration.milliseconds * 100).rounded() / 100)",
        ]
        if first {
            logger.info("first sync: rules in force", metadata: metadata.merging(["pods": "\(programmer.applied?.bindings.count ?? 0)"]) { $1 })
        } else if report.setElementChanges + report.ruleChanges > 0 || replacing {
            logger.info("synced", metadata: metadata)
        } else {
            logger.debug("synced, nothing changed", metadata: metadata)
        }
    }
}

extension Agent {
    /// With `--established=recheck`, judges the connections the kernel tracks
    /// by the plan now applied and cuts the ones it denies.
    private func cutDeniedConnections() throws(DataplaneError) {
        guard let recheck, let plan = programmer.applied else { return }
        let started = ContinuousClock.now
        let outcome = try recheck.cutConnections(notAllowedBy: plan)
        metrics.establishedRechecked.increment(by: outcome.examined)
        metrics.establishedCut.increment(by: outcome.deleted)
        guard !outcome.cut.isEmpty else { return }
        logger.info("cut established connections the rules now deny", metadata: [
            "cut": "\(outcome.deleted)", "examined": "\(outcome.examined)",
            "ms": "\((started.duration(to: .now).milliseconds * 100).rounded() / 100)",
            "connections": "\(outcome.cut.prefix(5).map(\.description).joined(separator: "; "))",
        ])
    }
}

extension Agent {
    /// Reads the kernel's counters on the applied plan's chains into
    /// `netpol_policy_connections_total`, by what each line counted since the
    /// last reading. A failed reading is logged and counted, never a failed
    /// sync: the rules are in force either way, and the next reading catches up
    /// (except for chains rewritten meanwhile).
    private func countConnections() {
        guard configuration.countInterval != nil, let plan = programmer.applied else { return }
        let started = ContinuousClock.now
        let counters: [RuleCounter]
        do {
            counters = try programmer.readCounters()
        } catch {
            metrics.counterReadErrors.increment()
            logger.warning("could not read the rules' counters", metadata: ["error": "\(error)"])
            return
        }
        metrics.counterReadDuration.recordMilliseconds(started.duration(to: .now).milliseconds)
        for (verdict, count) in tally.add(counters, plan: plan) {
            metrics.policyConnections(verdict).increment(by: Int64(clamping: count))
        }
    }
}

extension Agent where C == ContinuousClock {
    /// An agent on the real clock.
    public convenience init(
        configuration: AgentConfiguration, programmer: any RuleProgrammer, recheck: ConntrackRecheck? = nil, store: ClusterStore = ClusterStore(),
        status: AgentStatus = AgentStatus(), logger: Logger, metrics: AgentMetrics
    ) {
        self.init(
            configuration: configuration, programmer: programmer, recheck: recheck, store: store, status: status, logger: logger,
            metrics: metrics, clock: ContinuousClock())
    }
}

/// Work the timers ask of the reconcile loop, besides following the store.
private enum Chore: Hashable {
    case verify, resync, count
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
