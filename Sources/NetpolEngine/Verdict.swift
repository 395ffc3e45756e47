import NetpolModel

/// The answer to "may this connection be opened?", with every reason.
public struct Verdict: Hashable, Sendable {
    public let connection: Connection
    /// The destination port as a number (a named port resolved); nil when the
    /// destination has no port of that name, which allows nothing.
    public let port: Int?
    /// The address family the connection was judged for; nil when the two ends
    /// share none.
    public let family: IPAddress.Family?
    /// Why both sides were skipped, when one rule of the contract decides alone
    /// (pod-to-self, the node to its own pods).
    public let exemption: String?
    /// The source's egress side.
    public let egress: SideDecision
    /// The destination's ingress side.
    public let ingress: SideDecision

    public var allowed: Bool {
        if exemption != nil { return true }
        guard port != nil, family != nil else { return false }
        return egress.allows && ingress.allows
    }
}

/// One side of a connection: the source's egress or the destination's ingress.
public struct SideDecision: Hashable, Sendable {
    public enum Outcome: Hashable, Sendable {
        /// No policy can apply: the endpoint is outside the cluster or on the host network.
        case notApplicable(String)
        /// No tier and no NetworkPolicy decided for this direction, so all is allowed.
        case notIsolated
        /// A cluster policy rule accepted it, or the pod is isolated and a rule allows it.
        case allowed
        /// A cluster policy rule denied it, or the pod is isolated and no rule allows it.
        case denied
    }

    /// Which layer gave the outcome, in evaluation order: the Admin tier, then
    /// NetworkPolicy, then the Baseline tier, then the default (allow).
    public enum Decider: Hashable, Sendable {
        /// Outside the cluster or on the host network: nothing applies.
        case nothing
        case adminTier(ClusterRuleMatch)
        case networkPolicy
        case baselineTier(ClusterRuleMatch)
        case defaultAllow
    }

    public let direction: Direction
    /// The pod this side is about, if it is a pod.
    public let pod: PodID?
    public let outcome: Outcome
    public let decidedBy: Decider
    /// The Admin tier's evaluation; nil when no Admin policy has rules for the pod in this direction.
    public let admin: TierEvaluation?
    /// The policies that select the pod for this direction, by name.
    public let isolatingPolicies: [PolicyID]
    /// Every rule of the isolating policies, judged against this connection;
    /// empty when the Admin tier decided first.
    public let rules: [RuleEvaluation]
    /// The Baseline tier's evaluation; nil when not reached, or when no Baseline
    /// policy has rules for the pod in this direction.
    public let baseline: TierEvaluation?

    init(
        direction: Direction, pod: PodID?, outcome: Outcome, decidedBy: Decider, admin: TierEvaluation? = nil,
        isolatingPolicies: [PolicyID] = [], rules: [RuleEvaluation] = [], baseline: TierEvaluation? = nil
    ) {
        self.direction = direction
        self.pod = pod
        self.outcome = outcome
        self.decidedBy = decidedBy
        self.admin = admin
        self.isolatingPolicies = isolatingPolicies
        self.rules = rules
        self.baseline = baseline
    }

    public var allows: Bool {
        switch outcome {
        case .notApplicable, .notIsolated, .allowed: return true
        case .denied: return false
        }
    }

    /// The rules that allow the connection (their union is what counts).
    public var allowingRules: [RuleEvaluation] { rules.filter(\.allows) }
}

/// One rule of an isolating policy, judged against one connection.
public struct RuleEvaluation: Hashable, Sendable {
    public let policy: PolicyID
    public let direction: Direction
    public let index: Int
    /// The peer entry admitting the other end (`.any`: the rule lists no peers); nil: none.
    public let peer: Match?
    /// The port entry admitting the port (`.any`: the rule lists no ports); nil: none.
    public let port: Match?

    public var allows: Bool { peer != nil && port != nil }

    /// `spec.ingress[0]`.
    public var path: String { "spec.\(direction.rulesField)[\(index)]" }

    /// Where in the rule the match happened: `from[1], ports[0]`, or `all sources, all ports`.
    public var matchDescription: String {
        let everyPeer = direction == .ingress ? "all sources" : "all destinations"
        return [peer.map { describe($0, field: direction.peersField, all: everyPeer) } ?? "no peer matches",
                port.map { describe($0, field: "ports", all: "all ports") } ?? "no port matches"].joined(separator: ", ")
    }

    /// `to[1]` for an entry, `all` words for a rule that lists none.
    func describe(_ match: Match, field: String, all: String) -> String {
        switch match {
        case .any: return all
        case .entry(let index): return "\(field)[\(index)]"
        }
    }
}

/// What one tier of cluster policies made of one side of a connection.
public struct TierEvaluation: Hashable, Sendable {
    public let tier: PolicyTier
    /// The tier's policies with rules in this direction whose subject is the pod,
    /// in evaluation order (priority, then name).
    public let policies: [ClusterPolicyReference]
    /// The first rule that matched, which decides (Accept, Deny) or leads on
    /// (Pass); nil when none did.
    public let match: ClusterRuleMatch?
}

/// The cluster policy rule that matched a connection first in its tier.
public struct ClusterRuleMatch: Hashable, Sendable {
    public let policy: ClusterPolicyReference
    public let direction: Direction
    public let index: Int
    /// The rule's `name`; empty when it has none.
    public let name: String
    public let action: ClusterPolicyAction
    /// The `from`/`to` entry that matched.
    public let peer: Int
    /// The `protocols` entry that matched (`.any`: the rule lists none).
    public let protocolEntry: Match
    /// Other policies of the tier with the same priority and rules for the pod:
    /// upstream leaves their order undefined, netpol orders them by name.
    public let tiedWith: [String]

    public var tier: PolicyTier { policy.tier }

    /// `spec.egress[2]`.
    public var path: String { "spec.\(direction.rulesField)[\(index)]" }
}
