import NetpolEngine
import NetpolModel

/// One node's rules, independent of any packet-filter syntax: the address sets
/// peers are matched against, one chain per distinct list of rules, and which
/// local pod address uses which chain in each direction.
///
/// A connection is allowed when the source's egress chain (if its pod is local
/// and isolated) and the destination's ingress chain (likewise) both allow it;
/// replies of allowed connections are always allowed.
public struct RulePlan: Hashable, Sendable {
    public var node: String
    /// Sorted by name.
    public var sets: [AddressSet]
    /// Sorted by name.
    public var chains: [PlanChain]
    /// Sorted by direction, family, address.
    public var bindings: [PodBinding]
    /// What the base chain checks before the pods' chains.
    public var guards: NodeGuards
    /// Whether and how the kernel logs what is denied at each deny point; nil: no logging.
    public var logging: DenyLogging?
    /// Whether each chain rule and chain end carries a kernel counter, so that
    /// the agent can say how many connections each policy allowed and denied
    /// (see `ConnectionTally`); iptables counts every rule anyway.
    public var countsConnections: Bool

    public init(
        node: String, sets: [AddressSet], chains: [PlanChain], bindings: [PodBinding], guards: NodeGuards = NodeGuards(), logging: DenyLogging? = nil,
        countsConnections: Bool = false
    ) {
        self.node = node
        self.sets = sets
        self.chains = chains
        self.bindings = bindings
        self.guards = guards
        self.logging = logging
        self.countsConnections = countsConnections
    }

    /// Rules in chains (each chain's end included).
    public var ruleCount: Int { chains.reduce(0) { $0 + $1.rules.count + 1 } }

    /// Elements in sets, plus the pod bindings (map elements).
    public var elementCount: Int { sets.reduce(0) { $0 + $1.elements.count } + bindings.count }

    /// The sets that a rule other than an allow (a ClusterNetworkPolicy Deny
    /// or Pass) refers to: adding to them can deny, removing can allow.
    public var denyingSets: Set<String> {
        Set(chains.flatMap(\.denyingSets))
    }

    /// The chain called `name`, if the plan has it.
    public func chain(named name: String) -> PlanChain? {
        let index = chains.insertionIndex { $0.name < name }
        return index < chains.count && chains[index].name == name ? chains[index] : nil
    }

    /// The local pods each chain judges, sorted: for comments and explanations.
    /// A chain that others go on to (after their Admin tier or audit layer)
    /// judges their pods too.
    public var podsByChain: [String: [PodID]] {
        var pods: [String: Set<PodID>] = [:]
        for (chain, bound) in Dictionary(grouping: bindings, by: \.chain) {
            for reached in chainsReached(from: chain) { pods[reached, default: []].formUnion(bound.map(\.pod)) }
        }
        return pods.mapValues { $0.sorted() }
    }

    /// `name` and every chain it goes on to, directly or not.
    private func chainsReached(from name: String) -> [String] {
        var reached = [name]
        var index = 0
        while index < reached.count {
            for target in chain(named: reached[index])?.gotoTargets ?? [] where !reached.contains(target) { reached.append(target) }
            index += 1
        }
        return reached
    }

    /// The chains in an order that defines each before any chain that goes
    /// to it (as `nft -f` needs): by how long the longest path of gotos from
    /// it is, then by name.
    public var chainsInDefinitionOrder: [PlanChain] {
        var height: [String: Int] = [:]
        func heightOf(_ chain: PlanChain) -> Int {
            if let known = height[chain.name] { return known }
            height[chain.name] = 0  // a cycle (never planned) ends here
            let value = chain.gotoTargets.compactMap(self.chain(named:)).map { heightOf($0) + 1 }.max() ?? 0
            height[chain.name] = value
            return value
        }
        return chains.map { (heightOf($0), $0) }.sorted { ($0.0, $0.1.name) < ($1.0, $1.1.name) }.map(\.1)
    }
}

/// A named set of addresses, prefixes or address-protocol-port triples.
public struct AddressSet: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Pod addresses: a plain hash set (adding one is cheap).
        case addresses
        /// An ipBlock minus its exceptions: an interval set of prefixes.
        case prefixes
        /// Pods with the port number a named port has on each: address . protocol . port.
        case services
    }

    public enum Element: Hashable, Sendable, Comparable {
        case address(IPAddress)
        case prefix(CIDR)
        case service(IPAddress, PortProtocol, Int)

        public static func < (lhs: Element, rhs: Element) -> Bool {
            switch (lhs, rhs) {
            case (.address(let a), .address(let b)): return a < b
            case (.prefix(let a), .prefix(let b)): return (a.network, a.prefixLength) < (b.network, b.prefixLength)
            case (.service(let a, let p, let n), .service(let b, let q, let m)): return (a, p.rawValue, n) < (b, q.rawValue, m)
            default: return lhs.order < rhs.order
            }
        }

        private var order: Int {
            switch self {
            case .address: return 0
            case .prefix: return 1
            case .service: return 2
            }
        }
    }

    public var name: String
    public var family: IPAddress.Family
    public var kind: Kind
    /// Sorted.
    public var elements: [Element]
    /// What the set stands for, in words: `pods {pod=b} in namespace x`.
    public var origin: String
}

/// The rules shared by every local pod with the same `ChainInputs` (the
/// policies that judge them and named-port numbers), deciding in order: the
/// first rule that matches decides, and `end` decides what none matches.
/// Which pods use it is in the plan's bindings.
public struct PlanChain: Hashable, Sendable {
    public var name: String
    public var direction: Direction
    public var rules: [PlanRule]
    /// What happens to a connection no rule matches: a drop for pods a
    /// NetworkPolicy isolates, the rest chain after an Admin tier or audit
    /// layer, or allowed.
    public var end: PlanRule.Action
    /// The NetworkPolicies isolating its pods when its end denies (a default
    /// deny names them all, so that the user knows which to edit); else empty.
    public var isolatedBy: [PolicyID]
    /// In an audit layer's chain, the audited NetworkPolicies that would
    /// isolate its pods: its end is where they would deny what none of its
    /// rules allows (logged, not enforced); else empty.
    public var auditedBy: [PolicyID]

    public init(name: String, direction: Direction, rules: [PlanRule], end: PlanRule.Action = .deny, isolatedBy: [PolicyID] = [], auditedBy: [PolicyID] = []) {
        self.name = name
        self.direction = direction
        self.rules = rules
        self.end = end
        self.isolatedBy = end == .deny ? isolatedBy : []
        self.auditedBy = end == .deny ? [] : auditedBy
    }

    /// The sets its Deny and Pass rules refer to (none in an audit layer,
    /// whose rules go on whether they match or not).
    var denyingSets: [String] {
        guard auditedBy.isEmpty else { return [] }
        return rules.compactMap { rule in
            guard rule.action != .allow else { return nil }
            switch rule.peer {
            case .any: return nil
            case .set(let name, _), .services(let name, _): return name
            }
        }
    }

    /// Where it decides, in order: each rule's index, then nil for its end
    /// (deny points and counters are kept per position).
    public var positions: [Int?] {
        rules.indices.map(Optional.some) + [nil]
    }

    /// The chain its rules or its end go to, if any.
    public var gotoTargets: [String] {
        var targets: [String] = []
        for action in rules.map(\.action) + [end] {
            if case .goto(let target) = action, !targets.contains(target) { targets.append(target) }
        }
        return targets
    }
}

/// One line of a chain: the other end matches `peer`, and the protocol and port
/// match `ports`; then `action` decides.
public struct PlanRule: Hashable, Sendable {
    public enum Peer: Hashable, Sendable {
        /// Every address (the rule lists no peers).
        case any
        /// The other end's address is in the set.
        case set(name: String, family: IPAddress.Family)
        /// The other end's address, protocol and port are in a `.services` set
        /// (a named port on egress: its number depends on the destination).
        case services(name: String, family: IPAddress.Family)
    }

    /// What a matching rule (or a chain's end) does.
    public enum Action: Hashable, Sendable {
        /// Allowed in this direction: on ingress accepted, on egress handed over
        /// to the destination's ingress check.
        case allow
        /// Dropped.
        case deny
        /// The chain named decides instead (an Admin-tier Pass goes on to
        /// NetworkPolicy and the Baseline tier; the audit layer goes on to the
        /// Baseline tier).
        case goto(String)
    }

    public var peer: Peer
    /// nil: every protocol and port. Otherwise one protocol and its port ranges
    /// (empty ranges: every port of that protocol).
    public var ports: ProtocolPorts?
    public var action: Action
    /// Where it came from: `x/from-y spec.ingress[0].from[1]`, `Admin deny-y spec.ingress[0].from[0]`.
    public var origin: String
    /// The ClusterNetworkPolicy rule it comes from; nil for a NetworkPolicy's.
    public var clusterRule: ClusterRuleID?
    /// The NetworkPolicy it comes from; nil for a ClusterNetworkPolicy's.
    public var policy: PolicyID?

    public init(peer: Peer, ports: ProtocolPorts?, action: Action = .allow, origin: String, clusterRule: ClusterRuleID? = nil, policy: PolicyID? = nil) {
        self.peer = peer
        self.ports = ports
        self.action = action
        self.origin = origin
        self.clusterRule = clusterRule
        self.policy = policy
    }
}

/// One rule of a ClusterNetworkPolicy: its tier, policy, position and name.
public struct ClusterRuleID: Hashable, Sendable {
    public var tier: PolicyTier
    public var policy: String
    public var direction: Direction
    /// The rule's index in `spec.ingress` or `spec.egress`.
    public var index: Int
    /// The rule's `name`; empty when it has none.
    public var name: String
    public var action: ClusterPolicyAction

    public init(tier: PolicyTier, policy: String, direction: Direction, index: Int, name: String, action: ClusterPolicyAction) {
        self.tier = tier
        self.policy = policy
        self.direction = direction
        self.index = index
        self.name = name
        self.action = action
    }
}

/// One protocol and port ranges; no ranges means every port.
public struct ProtocolPorts: Hashable, Sendable {
    public var `protocol`: PortProtocol
    public var ranges: [ClosedRange<Int>]
}

/// A local pod's address bound to the chain that judges it in one direction.
public struct PodBinding: Hashable, Sendable {
    public var direction: Direction
    public var address: IPAddress
    public var chain: String
    public var pod: PodID

    public init(direction: Direction, address: IPAddress, chain: String, pod: PodID) {
        self.direction = direction
        self.address = address
        self.chain = chain
        self.pod = pod
    }

    /// The order of `RulePlan.bindings`: by direction, address, then pod.
    static func inPlanOrder(_ a: PodBinding, _ b: PodBinding) -> Bool {
        (a.direction.rawValue, a.address, a.pod) < (b.direction.rawValue, b.address, b.pod)
    }
}
