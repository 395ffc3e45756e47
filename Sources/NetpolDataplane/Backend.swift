import NetpolRules

/// What every backend's programmer does with a plan.
public protocol RuleProgrammer: AnyObject {
    /// The plan the kernel last accepted.
    var applied: RulePlan? { get }
    /// Makes the kernel enforce `plan`, without a moment of half-applied rules,
    /// and says what it wrote: the difference, or the whole plan (and why).
    @discardableResult
    func apply(_ plan: RulePlan) throws(DataplaneError) -> ApplyOutcome
    /// Writes `diff`, a difference from the last applied plan that the caller
    /// worked out (the agent's `NodePlanner`), so that nothing compares whole
    /// plans; the plan it leads to becomes `applied`. Falls back to a whole
    /// replace as `apply(_ plan:)` does. If even that fails, `applied` becomes
    /// nil: what the kernel holds is unknown until the next replace.
    @discardableResult
    func apply(_ diff: PlanDiff) throws(DataplaneError) -> ApplyOutcome
    /// Rewrites everything netpol owns to `plan` in one transaction, whatever the
    /// kernel holds now: the first apply after a restart, and drift repair.
    func replace(_ plan: RulePlan) throws(DataplaneError)
    /// Compares what the kernel holds with the last applied plan, set and map
    /// elements included; empty when they agree (or nothing was applied yet).
    func verify() throws(DataplaneError) -> [Drift]
    /// Removes everything netpol made, and nothing else.
    func cleanup() throws(DataplaneError)
    /// The kernel's packet counters on the chain lines of the last applied
    /// plan (its rules and chain ends; not log lines, not the base chain);
    /// empty when nothing was applied. nftables counts only a plan with
    /// `countsConnections`; iptables counts every rule.
    func readCounters() throws(DataplaneError) -> [RuleCounter]
}

/// What one apply wrote to the kernel.
public enum ApplyOutcome: Hashable, Sendable {
    /// Only the difference from the last applied plan (empty: nothing to write).
    case incremental(PlanDiff)
    /// The whole plan. `fallback` holds the kernel's refusal when the difference
    /// was tried first and failed: an event worth a warning and a metric, since
    /// the fast path is not doing its job.
    case replaced(fallback: DataplaneError?)

    /// The difference written, or nil when the whole plan was.
    public var diff: PlanDiff? {
        if case .incremental(let diff) = self { return diff }
        return nil
    }

    /// Why a difference fell back to a whole replace, if it did.
    public var fallback: DataplaneError? {
        if case .replaced(let fallback) = self { return fallback }
        return nil
    }
}

/// One way the kernel differs from the plan netpol last applied.
public struct Drift: Hashable, Sendable, CustomStringConvertible {
    /// What differs; also the `kind` label of `netpol_drift_repairs_total`.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// netpol's table, or its hook into the forward path, is missing.
        case table
        /// A peer set is missing, unexpected, or holds other elements.
        case set
        /// A chain is missing, unexpected, or holds other rules.
        case chain
        /// The pod bindings (verdict maps, binding sets) hold other elements.
        case binding
    }

    public var kind: Kind
    /// The set, chain or map concerned, as the kernel names it.
    public var object: String
    /// What differs, in words: `missing`, `2 elements missing: 10.0.0.1, 10.0.0.2`.
    public var detail: String

    public init(_ kind: Kind, _ object: String, _ detail: String) {
        self.kind = kind
        self.object = object
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) \(object): \(detail)" }
}

extension NftablesProgrammer: RuleProgrammer {}
extension IptablesProgrammer: RuleProgrammer {}

/// The packet filters netpol can program.
public enum Backend: String, Sendable, CaseIterable {
    case nftables
    case iptables

    /// A programmer for this backend, running its tools through `runner`.
    /// - Parameter iptablesMode: nft or legacy iptables; nil detects it as kube-proxy does.
    public func programmer(runner: any CommandRunner = ProcessRunner(), iptablesMode: IptablesProgrammer.Mode? = nil) -> any RuleProgrammer {
        switch self {
        case .nftables: return NftablesProgrammer(runner: runner)
        case .iptables: return IptablesProgrammer(runner: runner, mode: iptablesMode)
        }
    }
}
