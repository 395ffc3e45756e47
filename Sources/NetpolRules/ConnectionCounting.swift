import NetpolEngine
import NetpolModel

/// What a counted connection came to for one policy; for an audited one
/// (`netpol.io/mode: audit`), what it would have come to.
public enum ConnectionVerdict: String, Hashable, Sendable, CaseIterable {
    case allowed, denied
    case wouldAllow = "would-allow"
    case wouldDeny = "would-deny"
}

/// One series of `netpol_policy_connections_total`: a policy (a
/// ClusterNetworkPolicy with namespace "") that allowed or denied connections
/// in one direction. As many as policies, never pods.
public struct PolicyVerdict: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var direction: Direction
    public var policy: PolicyID
    public var verdict: ConnectionVerdict

    public init(direction: Direction, policy: PolicyID, verdict: ConnectionVerdict) {
        self.direction = direction
        self.policy = policy
        self.verdict = verdict
    }

    public static func < (lhs: PolicyVerdict, rhs: PolicyVerdict) -> Bool {
        (lhs.direction.rawValue, lhs.policy, lhs.verdict.rawValue) < (rhs.direction.rawValue, rhs.policy, rhs.verdict.rawValue)
    }

    public var description: String { "\(direction.rulesField) \(policy) \(verdict.rawValue)" }
}

extension PlanChain {
    /// Whom the connections counted at the rule at `index` (nil: the chain's
    /// end) count for: an allow for its policy (a NetworkPolicy's, or the
    /// ClusterNetworkPolicy's Accept) as allowed, a ClusterNetworkPolicy Deny
    /// for its policy as denied, an end that drops as denied for every policy
    /// isolating the pods (as the denied-connection log names them). A Pass,
    /// and an end that allows or goes on, count for no one: the connection is
    /// decided further on. An audit layer's rules count as `would-allow` for
    /// their audited policy, and its end as `would-deny` for every audited
    /// policy that would isolate the pods, whatever is decided further on.
    public func countedFor(rule index: Int?) -> [PolicyVerdict] {
        let audit = !auditedBy.isEmpty
        guard let index else {
            if audit { return auditedBy.map { PolicyVerdict(direction: direction, policy: $0, verdict: .wouldDeny) } }
            guard end == .deny else { return [] }
            return isolatedBy.map { PolicyVerdict(direction: direction, policy: $0, verdict: .denied) }
        }
        guard rules.indices.contains(index) else { return [] }
        let rule = rules[index]
        if audit { return rule.policy.map { [PolicyVerdict(direction: direction, policy: $0, verdict: .wouldAllow)] } ?? [] }
        // A Baseline Pass (or an Admin one with nothing after it) renders as an allow, but passes.
        if rule.clusterRule?.action == .pass { return [] }
        let policy = rule.policy ?? rule.clusterRule.map { PolicyID(namespace: "", name: $0.policy) }
        switch (rule.action, policy) {
        case (.allow, let policy?): return [PolicyVerdict(direction: direction, policy: policy, verdict: .allowed)]
        case (.deny, let policy?): return [PolicyVerdict(direction: direction, policy: policy, verdict: .denied)]
        default: return []
        }
    }
}

/// The packets the kernel counted on one rendered line of a chain: packets
/// that open, or try to open, a connection, since established traffic is
/// accepted before any pod chain. An allowed connection counts once; a denied
/// one once per attempt (each retransmitted SYN, each datagram of a denied
/// UDP flow), since nothing it sends is ever established.
public struct RuleCounter: Hashable, Sendable {
    /// The plan chain.
    public var chain: String
    /// The plan rule the line renders (nil: the chain's end); one plan rule
    /// may be several lines (iptables: one per family and port group).
    public var rule: Int?
    /// Which line of the chain: its family (nil for nftables' `inet` table)
    /// and its position, unique within the chain and family.
    public var family: IPAddress.Family?
    public var line: Int
    public var packets: UInt64

    public init(chain: String, rule: Int?, family: IPAddress.Family? = nil, line: Int, packets: UInt64) {
        self.chain = chain
        self.rule = rule
        self.family = family
        self.line = line
        self.packets = packets
    }

    /// The line, whatever its count.
    struct Line: Hashable {
        var chain: String
        var family: IPAddress.Family?
        var line: Int
    }

    var key: Line { Line(chain: chain, family: family, line: line) }
}

/// Connections per policy and verdict, accumulated from successive readings of
/// the kernel's counters by the difference from the reading before, line by
/// line. A rewritten chain starts its counters at 0: the caller says so with
/// `forget(chains:)` (then a line's whole count is new), and a count below the
/// last one seen is taken as a restart too. A chain removed between two
/// readings loses what it counted since the last one.
public struct ConnectionTally: Sendable {
    private var seen: [RuleCounter.Line: UInt64] = [:]
    /// Every connection counted so far.
    public private(set) var totals: [PolicyVerdict: UInt64] = [:]

    public init() {}

    /// Takes one reading against the plan the kernel holds, and returns what it
    /// added to the totals. Lines of chains the plan lacks count for no one.
    @discardableResult
    public mutating func add(_ counters: [RuleCounter], plan: RulePlan) -> [PolicyVerdict: UInt64] {
        var added: [PolicyVerdict: UInt64] = [:]
        var lines: [RuleCounter.Line: UInt64] = [:]
        for counter in counters {
            lines[counter.key] = counter.packets
            let last = seen[counter.key] ?? 0
            let delta = counter.packets >= last ? counter.packets - last : counter.packets
            guard delta > 0, let chain = plan.chain(named: counter.chain) else { continue }
            for verdict in chain.countedFor(rule: counter.rule) { added[verdict, default: 0] += delta }
        }
        // Lines of chains the plan still has are remembered even when one
        // reading left them out (a chain the kernel holds otherwise for a
        // while), so that they do not count their whole history again; those
        // of chains it dropped go: no growth with churn.
        seen = seen.filter { plan.chain(named: $0.key.chain) != nil }.merging(lines) { $1 }
        for (verdict, count) in added { totals[verdict, default: 0] += count }
        return added
    }

    /// The kernel rewrote (or removed) these chains: their counters start over.
    public mutating func forget(chains: some Sequence<String>) {
        let names = Set(chains)
        guard !names.isEmpty else { return }
        seen = seen.filter { !names.contains($0.key.chain) }
    }

    /// The kernel rewrote every chain (a whole replace).
    public mutating func forgetAll() {
        seen = [:]
    }
}
