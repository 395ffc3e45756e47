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
        /// No policy selects the pod for this direction, so all is allowed.
        case notIsolated
        /// Isolated, and at least one rule allows the connection.
        case allowed
        /// Isolated, and no rule allows the connection.
        case denied
    }

    public let direction: Direction
    /// The pod this side is about, if it is a pod.
    public let pod: PodID?
    public let outcome: Outcome
    /// The policies that select the pod for this direction, by name.
    public let isolatingPolicies: [PolicyID]
    /// Every rule of the isolating policies, judged against this connection.
    public let rules: [RuleEvaluation]

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
