import NetpolEngine
import NetpolModel

/// A place in a plan where connections are denied: a chain's end (the default
/// deny of the NetworkPolicies isolating its pods) or one of its rules (a
/// ClusterNetworkPolicy Deny); or where they would be: the end of an audit
/// layer's chain, which lets them go on. The kernel's log prefix carries it as
/// `np:<chain>` or `np:<chain>:<rule>`: short enough for NFLOG's 63 bytes, and
/// stable across restarts and incremental changes because a chain's name is a
/// hash of its inputs and its rules follow from them.
public struct DenyPoint: Hashable, Sendable {
    public var chain: String
    /// The rule's position in the chain; nil for the chain's end.
    public var rule: Int?

    public init(chain: String, rule: Int? = nil) {
        self.chain = chain
        self.rule = rule
    }

    static let marker = "np"

    /// The base chain's pod-range guard (`isolate-new-pods`): an address in
    /// the node's pod ranges that no known pod holds, at either end. No chain
    /// has this name, so `RulePlan.denial(at:)` gives nil for it; callers
    /// compare with it.
    public static let podRangeGuard = DenyPoint(chain: "isolate-new-pods")

    /// The log prefix the kernel sends with a packet denied here.
    public var prefix: String {
        Self.marker + ":" + chain + (rule.map { ":\($0)" } ?? "")
    }

    /// The point a log prefix names; nil for a prefix netpol did not write.
    public init?(prefix: String) {
        let parts = prefix.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts[0] == Self.marker, !parts[1].isEmpty else { return nil }
        chain = String(parts[1])
        if parts.count == 3 {
            guard let rule = Int(parts[2]), rule >= 0 else { return nil }
            self.rule = rule
        } else {
            rule = nil
        }
    }
}

/// Who denied a connection, for the denied-connection log and its counters.
public enum DeniedBy: Hashable, Sendable {
    /// The NetworkPolicies isolating the pod in that direction, none of whose
    /// rules allowed the connection.
    case isolation([PolicyID])
    /// A ClusterNetworkPolicy rule whose action is Deny.
    case clusterRule(ClusterRuleID)
    /// Not denied, but it would be: the audited NetworkPolicies that would
    /// isolate the pod in that direction, none of whose rules allows it.
    case audit([PolicyID])
}

/// What a plan says about a connection denied at one of its deny points.
public struct Denial: Hashable, Sendable {
    public var direction: Direction
    public var deniedBy: DeniedBy

    public init(direction: Direction, deniedBy: DeniedBy) {
        self.direction = direction
        self.deniedBy = deniedBy
    }
}

extension PlanChain {
    /// The deny point of the rule at `index` in `rules` (nil: the chain's end),
    /// or nil when it does not deny (nor would, for an audit layer's end). The index is the plan rule's, not the
    /// rendered line's (log rules and split port lists add lines): renderers
    /// and drift finders ask here, so the mapping lives in one place.
    public func denyPoint(rule index: Int?) -> DenyPoint? {
        guard let index else { return end == .deny || !auditedBy.isEmpty ? DenyPoint(chain: name) : nil }
        return rules.indices.contains(index) && rules[index].action == .deny ? DenyPoint(chain: name, rule: index) : nil
    }

    /// Its deny points: each Deny rule, then its end if that drops (or an audit layer's).
    public var denyPoints: [DenyPoint] {
        positions.compactMap(denyPoint(rule:))
    }
}

extension RulePlan {
    /// Every place the plan denies: each Deny rule, then each chain end that
    /// drops; and where audited policies would deny.
    public var denyPoints: [DenyPoint] {
        chains.flatMap(\.denyPoints)
    }

    /// Who denies at `point`; nil when the plan has no such chain or the point
    /// does not deny (a prefix from an older plan, say).
    public func denial(at point: DenyPoint) -> Denial? {
        guard let chain = chain(named: point.chain), chain.denyPoint(rule: point.rule) == point else { return nil }
        guard let index = point.rule else {
            return Denial(direction: chain.direction, deniedBy: chain.auditedBy.isEmpty ? .isolation(chain.isolatedBy) : .audit(chain.auditedBy))
        }
        return chain.rules[index].clusterRule.map { Denial(direction: chain.direction, deniedBy: .clusterRule($0)) }
    }
}
