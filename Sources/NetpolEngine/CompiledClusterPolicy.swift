import NetpolModel

/// A ClusterNetworkPolicy with its subject and peers resolved to pod sets.
package struct CompiledClusterPolicy: Sendable {
    package let policy: ClusterNetworkPolicy
    /// The pods `spec.subject` picks (never host-network pods).
    let subjects: PodSet
    let ingress: [CompiledClusterRule]
    let egress: [CompiledClusterRule]

    init(_ policy: ClusterNetworkPolicy, pods: [IndexedPod], nodes: [Node], selectors: inout SelectorCache) {
        self.policy = policy
        let subject = policy.spec.subject
        if let pods = subject.pods {
            subjects = selectors.pods(matching: pods.podSelector, in: selectors.namespaces(matching: pods.namespaceSelector))
        } else if let namespaces = subject.namespaces {
            subjects = selectors.pods(matching: .everything, in: selectors.namespaces(matching: namespaces))
        } else {
            subjects = PodSet(capacity: pods.count)
        }
        let reference = ClusterPolicyReference(policy)
        ingress = policy.spec.ingress.enumerated().map { index, rule in
            CompiledClusterRule(policy: reference, direction: .ingress, index: index, name: rule.name, action: rule.action,
                                peers: rule.from, protocols: rule.protocols, pods: pods, nodes: nodes, selectors: &selectors)
        }
        egress = policy.spec.egress.enumerated().map { index, rule in
            CompiledClusterRule(policy: reference, direction: .egress, index: index, name: rule.name, action: rule.action,
                                peers: rule.to, protocols: rule.protocols, pods: pods, nodes: nodes, selectors: &selectors)
        }
    }

    package var reference: ClusterPolicyReference { ClusterPolicyReference(policy) }

    package func rules(_ direction: Direction) -> [CompiledClusterRule] {
        direction == .ingress ? ingress : egress
    }
}

/// One rule of a cluster policy: an action on the peers and protocols it lists.
package struct CompiledClusterRule: Sendable {
    package let policy: ClusterPolicyReference
    package let direction: Direction
    package let index: Int
    package let name: String
    package let action: ClusterPolicyAction
    package let peers: [CompiledClusterPeer]
    /// Empty means all traffic.
    package let protocols: [ClusterPolicyProtocol]
    /// The pods some peer matches, per family of the connection.
    let peerPods: [IPAddress.Family: PodSet]

    init(
        policy: ClusterPolicyReference, direction: Direction, index: Int, name: String, action: ClusterPolicyAction,
        peers: [ClusterPolicyPeer], protocols: [ClusterPolicyProtocol], pods: [IndexedPod], nodes: [Node], selectors: inout SelectorCache
    ) {
        self.policy = policy
        self.direction = direction
        self.index = index
        self.name = name
        self.action = action
        self.protocols = protocols
        let compiled = peers.enumerated().map { CompiledClusterPeer(index: $0, peer: $1, action: action, pods: pods, nodes: nodes, selectors: &selectors) }
        self.peers = compiled
        var union: [IPAddress.Family: PodSet] = [:]
        for family in IPAddress.Family.allCases {
            var set = PodSet(capacity: pods.count)
            for peer in compiled { set.formUnion(peer.pods(family)) }
            union[family] = set
        }
        peerPods = union
    }

    /// `spec.ingress[N]` or `spec.egress[N]`.
    package var path: String { "spec.\(direction.rulesField)[\(index)]" }

    /// Which peer matches the pod numbered `pod` over `family`; nil when none does.
    func peerMatch(pod: Int, family: IPAddress.Family) -> Int? {
        peers.first { $0.pods(family).contains(pod) }?.index
    }

    /// Which peer matches an address outside the cluster: networks, nodes, or a fail-closed peer.
    func peerMatch(address: IPAddress) -> Int? {
        peers.first { $0.matches(address) }?.index
    }

    /// Which `protocols` entry admits `proto`/`port` on `destination`: `.any` when
    /// the rule lists none, nil when no entry does. A `destinationNamedPort` is
    /// the destination pod's container port of that name on the connection's protocol.
    func protocolMatch(_ proto: PortProtocol, _ port: Int, destination: IndexedPod?) -> Match? {
        if protocols.isEmpty { return .any }
        for (number, entry) in protocols.enumerated() {
            if let (entryProtocol, match) = entry.protocolMatch {
                if entryProtocol == proto, match.destinationPort?.ports?.contains(port) ?? false { return .entry(number) }
            } else if !entry.destinationNamedPort.isEmpty, let destination,
                      destination.port(named: entry.destinationNamedPort, protocol: proto) == port {
                return .entry(number)
            }
        }
        return nil
    }
}

/// One peer of a cluster policy rule, resolved.
package struct CompiledClusterPeer: Sendable {
    package let index: Int
    package let peer: ClusterPolicyPeer
    /// What the peer matches.
    package let kind: Kind
    /// Pods the peer matches, per family: selected pods, or pods whose address
    /// lies in the networks or is a selected node's address.
    private let matchedPods: [IPAddress.Family: PodSet]

    package enum Kind: Hashable, Sendable {
        /// Pods picked by namespace and pod selectors (never host-network ones).
        case pods
        /// Addresses in these CIDRs, pods' included.
        case networks([CIDR])
        /// The addresses of the nodes a selector picks.
        case nodes([IPAddress])
        /// A peer netpol does not enforce (`domainNames`, or none of the fields it
        /// knows): it fails closed, matching everything in a Deny or Pass rule and
        /// nothing in an Accept rule.
        case failClosed(matchesEverything: Bool)
    }

    init(index: Int, peer: ClusterPolicyPeer, action: ClusterPolicyAction, pods: [IndexedPod], nodes: [Node], selectors: inout SelectorCache) {
        self.index = index
        self.peer = peer
        var selected = PodSet(capacity: pods.count)
        if let namespaces = peer.namespaces {
            kind = .pods
            selected = selectors.pods(matching: .everything, in: selectors.namespaces(matching: namespaces))
        } else if let namespaced = peer.pods {
            kind = .pods
            selected = selectors.pods(matching: namespaced.podSelector, in: selectors.namespaces(matching: namespaced.namespaceSelector))
        } else if let networks = peer.networks {
            kind = .networks(networks.compactMap { CIDR($0) })
        } else if let nodeSelector = peer.nodes {
            kind = .nodes(nodes.filter { nodeSelector.matches($0.labels) }.flatMap(\.ipAddresses))
        } else {
            kind = .failClosed(matchesEverything: action != .accept)
        }
        var byFamily: [IPAddress.Family: PodSet] = [:]
        for family in IPAddress.Family.allCases {
            switch kind {
            case .pods:
                byFamily[family] = selected
            case .networks, .nodes, .failClosed:
                var set = PodSet(capacity: pods.count)
                for number in pods.indices {
                    if let address = pods[number].address(family), Self.matches(kind, address) { set.insert(number) }
                }
                byFamily[family] = set
            }
        }
        matchedPods = byFamily
    }

    package func pods(_ family: IPAddress.Family) -> PodSet {
        matchedPods[family] ?? PodSet(capacity: 0)
    }

    func matches(_ address: IPAddress) -> Bool {
        Self.matches(kind, address)
    }

    private static func matches(_ kind: Kind, _ address: IPAddress) -> Bool {
        switch kind {
        case .pods: return false
        case .networks(let networks): return networks.contains { $0.contains(address) }
        case .nodes(let addresses): return addresses.contains(address)
        case .failClosed(let everything): return everything
        }
    }
}

/// A cluster policy as verdicts name it: its tier, priority and name.
public struct ClusterPolicyReference: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let tier: PolicyTier
    public let priority: Int

    init(_ policy: ClusterNetworkPolicy) {
        name = policy.name
        tier = policy.spec.tier
        priority = policy.spec.priority
    }

    /// `ClusterNetworkPolicy deny-monitoring (Admin, priority 10)`.
    public var description: String { "ClusterNetworkPolicy \(name) (\(tier), priority \(priority))" }

    /// The evaluation order within a tier: priority, then name (upstream leaves
    /// equal priorities undefined; netpol orders them by name).
    static func evaluatedBefore(_ a: Self, _ b: Self) -> Bool {
        (a.priority, a.name) < (b.priority, b.name)
    }
}
