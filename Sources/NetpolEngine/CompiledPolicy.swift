import NetpolModel

/// A NetworkPolicy with its selectors resolved to pod sets.
package struct CompiledPolicy: Sendable {
    package let id: PolicyID
    package let policy: NetworkPolicy
    /// The pods `spec.podSelector` selects in the policy's namespace.
    let targets: PodSet
    /// The directions the policy isolates (`spec.policyTypes` after defaulting).
    let directions: Set<Direction>
    let ingress: [CompiledRule]
    let egress: [CompiledRule]

    init(_ policy: NetworkPolicy, pods: [IndexedPod], selectors: inout SelectorCache) {
        self.policy = policy
        id = PolicyID(namespace: policy.namespace, name: policy.name)
        let home: Set<String> = [policy.namespace]
        targets = selectors.pods(matching: policy.spec.podSelector, in: home)
        directions = policy.isolatedDirections
        ingress = policy.spec.ingress.enumerated().map { index, rule in
            CompiledRule(direction: .ingress, index: index, peers: rule.from, ports: rule.ports, home: policy.namespace, pods: pods, selectors: &selectors)
        }
        egress = policy.spec.egress.enumerated().map { index, rule in
            CompiledRule(direction: .egress, index: index, peers: rule.to, ports: rule.ports, home: policy.namespace, pods: pods, selectors: &selectors)
        }
    }

    package func rules(_ direction: Direction) -> [CompiledRule] {
        direction == .ingress ? ingress : egress
    }
}

/// One ingress or egress rule: which peers, which ports.
package struct CompiledRule: Sendable {
    package let direction: Direction
    package let index: Int
    /// Empty means every peer (`from`/`to` absent or empty).
    package let peers: [CompiledPeer]
    /// Empty means every port and protocol.
    package let ports: [NetworkPolicyPort]
    /// Pods any peer matches, per address family of the connection.
    let peerPods: [IPAddress.Family: PodSet]

    init(direction: Direction, index: Int, peers: [NetworkPolicyPeer], ports: [NetworkPolicyPort], home: String, pods: [IndexedPod], selectors: inout SelectorCache) {
        self.direction = direction
        self.index = index
        self.ports = ports
        let compiled = peers.enumerated().map { CompiledPeer(index: $0, peer: $1, home: home, pods: pods, selectors: &selectors) }
        self.peers = compiled
        var union: [IPAddress.Family: PodSet] = [:]
        for family in [IPAddress.Family.ipv4, .ipv6] {
            if compiled.isEmpty {
                union[family] = .all(capacity: pods.count)
                continue
            }
            var set = PodSet(capacity: pods.count)
            for peer in compiled { set.formUnion(peer.pods(family)) }
            union[family] = set
        }
        peerPods = union
    }

    /// `spec.ingress[N]` or `spec.egress[N]`.
    package var path: String { "spec.\(direction.rulesField)[\(index)]" }

    /// Which entry of `ports` admits `proto`/`port` on `destination`: `.any` when the
    /// rule lists no ports, nil when no entry does. A named port resolves against
    /// the destination pod's container ports with the same protocol.
    func portMatch(_ proto: PortProtocol, _ port: Int, destination: IndexedPod?) -> Match? {
        if ports.isEmpty { return .any }
        for (number, entry) in ports.enumerated() where entry.effectiveProtocol == proto {
            switch entry.port {
            case nil:
                return .entry(number)
            case .int(let first):
                if port == first || (entry.endPort.map { (first...max(first, $0)).contains(port) } ?? false) {
                    return .entry(number)
                }
            case .string(let name):
                if let destination, destination.port(named: name, protocol: proto) == port { return .entry(number) }
            }
        }
        return nil
    }

    /// Which peer admits the pod numbered `pod` over `family`: `.any` when the rule
    /// lists no peers, nil when none does.
    func peerMatch(pod: Int, family: IPAddress.Family) -> Match? {
        if peers.isEmpty { return .any }
        return peers.first { $0.pods(family).contains(pod) }.map { .entry($0.index) }
    }

    /// Which peer admits an address outside the cluster: only an ipBlock can.
    func peerMatch(address: IPAddress) -> Match? {
        if peers.isEmpty { return .any }
        return peers.first { $0.block?.contains(address) ?? false }.map { .entry($0.index) }
    }
}

/// How a rule admitted something: because it lists nothing (all), or by one entry.
public enum Match: Hashable, Sendable {
    case any
    case entry(Int)
}

/// One peer of a rule, resolved.
package struct CompiledPeer: Sendable {
    package let index: Int
    /// The peer as written, and the policy's namespace its podSelector alone refers to.
    package let peer: NetworkPolicyPeer
    package let home: String
    /// Pods picked by podSelector and/or namespaceSelector (never host-network ones).
    package let selected: PodSet
    package let block: AddressBlock?
    /// Pods whose address of each family lies in `block`, host-network pods included.
    let blockPods: [IPAddress.Family: PodSet]

    init(index: Int, peer: NetworkPolicyPeer, home: String, pods: [IndexedPod], selectors: inout SelectorCache) {
        self.index = index
        self.peer = peer
        self.home = home
        switch (peer.podSelector, peer.namespaceSelector) {
        case (let podSelector?, nil):
            selected = selectors.pods(matching: podSelector, in: [home])
        case (let podSelector, let namespaceSelector?):
            selected = selectors.pods(matching: podSelector ?? .everything, in: selectors.namespaces(matching: namespaceSelector))
        case (nil, nil):
            selected = PodSet(capacity: pods.count)
        }
        block = peer.ipBlock.flatMap(AddressBlock.init)
        var byFamily: [IPAddress.Family: PodSet] = [:]
        for family in IPAddress.Family.allCases {
            var set = PodSet(capacity: pods.count)
            if let block, block.cidr.family == family {
                for number in pods.indices {
                    if let address = pods[number].address(family), block.contains(address) { set.insert(number) }
                }
            }
            byFamily[family] = set
        }
        blockPods = byFamily
    }

    package func pods(_ family: IPAddress.Family) -> PodSet {
        var set = selected
        if let extra = blockPods[family] { set.formUnion(extra) }
        return set
    }
}

/// `ipBlock`: a CIDR minus its exceptions.
package struct AddressBlock: Hashable, Sendable {
    package let cidr: CIDR
    package let except: [CIDR]

    package init?(_ block: IPBlock) {
        guard let cidr = CIDR(block.cidr) else { return nil }
        self.cidr = cidr
        except = block.except.compactMap { CIDR($0) }
    }

    package func contains(_ address: IPAddress) -> Bool {
        cidr.contains(address) && !except.contains { $0.contains(address) }
    }
}

extension NetworkPolicy {
    /// The directions it isolates the pods it selects in: `spec.policyTypes`
    /// after defaulting.
    package var isolatedDirections: Set<Direction> {
        Set(spec.effectivePolicyTypes.compactMap { Direction(rawValue: $0.rawValue) })
    }
}
