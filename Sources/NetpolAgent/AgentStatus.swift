import NetpolRules
import Synchronization

/// One finished sync: which store version the kernel now holds, and what it took.
public struct SyncReport: Sendable {
    public var version: Int
    public var duration: Duration
    /// The part before the kernel: snapshot, engine index and plan.
    public var compileDuration: Duration
    /// When the kernel transaction was done.
    public var finished: ContinuousClock.Instant
    /// A whole-table replace (first sync, drift repair, resync, fallback)
    /// rather than a difference.
    public var full: Bool
    /// The difference was refused by the kernel and the whole table written instead.
    public var fallback: Bool
    public var setElementChanges: Int
    public var ruleChanges: Int
}

extension Duration {
    /// This duration in milliseconds, fractional: how logs and benchmarks show it.
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// What the health endpoints and waiting callers read: the last sync, the last
/// failure, and whether the reconcile loop is stuck in one piece of work.
public final class AgentStatus: Sendable {
    private struct State {
        var lastSync: SyncReport?
        /// The plan the kernel holds after the last sync, with `--log-denied`.
        var plan: RulePlan?
        var lastFailure: String?
        /// Set while a sync or verify runs: true once it has run too long.
        var overdue: (@Sendable () -> Bool)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Ready when the kernel holds rules computed from a complete view of the
    /// cluster and the last sync worked.
    public var isReady: Bool { state.withLock { $0.lastSync != nil && $0.lastFailure == nil } }
    public var lastSync: SyncReport? { state.withLock { $0.lastSync } }
    /// The plan the kernel holds since the last sync that worked: what the
    /// denied-connection log names its records from. nil without the log
    /// (`AgentConfiguration.denyLogging`), which is the only reader.
    public var plan: RulePlan? { state.withLock { $0.plan } }
    /// The last sync's error, cleared by the next sync that works.
    public var lastFailure: String? { state.withLock { $0.lastFailure } }
    /// True while one sync or verify has been running longer than the agent's
    /// stall timeout: the loop is stuck (a hung kernel call, say).
    public var isStalled: Bool { (state.withLock { $0.overdue })?() ?? false }

    func record(_ report: SyncReport, plan: RulePlan?) {
        state.withLock { state in
            state.lastSync = report
            state.plan = plan
            state.lastFailure = nil
        }
    }

    func recordFailure(_ message: String) {
        state.withLock { $0.lastFailure = message }
    }

    /// Work starts; `overdue` tells, when asked, whether it has run too long.
    func beginWork(overdue: @escaping @Sendable () -> Bool) {
        state.withLock { $0.overdue = overdue }
    }

    func endWork() {
        state.withLock { $0.overdue = nil }
    }

    /// Waits until the kernel holds store version `version` or later; nil when
    /// `timeout` passes first.
    public func waitForSync(reaching version: Int, timeout: Duration) async -> SyncReport? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let report = lastSync, report.version >= version { return report }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return nil
    }
}
