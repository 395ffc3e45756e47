import NetpolEngine
import NetpolModel

/// What a chain's rules are made of: the policies that isolate its pods in one
/// direction, in order, and the numbers the named ports of their ingress rules
/// have on those pods. Pods with equal inputs share a chain, and the chain's
/// name comes from the inputs alone: it stays the same however the plan is
/// computed (whole or event by event), and a pod relabelled into another
/// existing combination only moves its binding.
public struct ChainInputs: Hashable, Sendable {
    public var direction: Direction
    public var policies: [PolicyID]
    /// Every named port the policies' ingress rules use, sorted, with its number
    /// on the pods (nil: they have no such port). Empty on egress, where named
    /// ports resolve on each destination instead.
    public var namedPorts: [NamedPortNumber]

    public struct NamedPortNumber: Hashable, Sendable {
        public var port: NamedPort
        public var number: Int?
    }

    /// The inputs of `pod` under `policies` (those isolating it in `direction`, in order).
    init(direction: Direction, policies: [NetworkPolicy], pod: IndexedPod) {
        self.direction = direction
        self.policies = policies.map { PolicyID(namespace: $0.namespace, name: $0.name) }
        guard direction == .ingress else {
            namedPorts = []
            return
        }
        var names = Set<NamedPort>()
        for policy in policies {
            for rule in policy.spec.ingress {
                for port in rule.ports {
                    if case .string(let name) = port.port { names.insert(NamedPort(name: name, protocol: port.effectiveProtocol)) }
                }
            }
        }
        namedPorts = names.sorted().map { NamedPortNumber(port: $0, number: pod.port(named: $0.name, protocol: $0.protocol)) }
    }

    /// `ingress-<12 hex digits>`: a hash of the inputs.
    var chainName: String {
        let ports = namedPorts.map { "\($0.port.name)/\($0.port.protocol)=\($0.number.map(String.init) ?? "-")" }
        let text = direction.rawValue + " " + policies.map(\.description).joined(separator: ",") + " " + ports.joined(separator: ",")
        return direction.rulesField + "-" + StableHash.hex(text, digits: 12)
    }

    func number(of port: NamedPort) -> Int? {
        namedPorts.first { $0.port == port }?.number
    }
}

/// Which pods or addresses a peer stands for; with a named port and a family,
/// the key of the set that holds them.
enum PeerScope: Hashable {
    /// Pods `pods` picks in the namespace `namespace` (a podSelector alone).
    case podsIn(namespace: String, pods: LabelSelector)
    /// Pods `pods` picks in the namespaces `namespaces` picks.
    case podsInNamespaces(pods: LabelSelector, namespaces: LabelSelector)
    /// An ipBlock: its CIDR minus its exceptions.
    case block(AddressBlock)
    /// Every pod: a rule without peers, on a named egress port.
    case everyPod
    /// Every pod on the node holding an address (a terminating one too),
    /// host-network pods included: the addresses a pod-range guard knows.
    case podsOnNode(String)

    /// nil for a peer with nothing to match (an ipBlock whose CIDR does not parse).
    init?(_ peer: NetworkPolicyPeer, home: String) {
        switch (peer.podSelector, peer.namespaceSelector, peer.ipBlock) {
        case (let pods?, nil, _): self = .podsIn(namespace: home, pods: pods)
        case (let pods, let namespaces?, _): self = .podsInNamespaces(pods: pods ?? .everything, namespaces: namespaces)
        case (nil, nil, let block?):
            guard let block = AddressBlock(block) else { return nil }
            self = .block(block)
        case (nil, nil, nil): return nil
        }
    }

    /// `pods {pod=b} in namespace x`, `pods {} in namespaces {team=blue}`: the
    /// scope in canonical words, which also names its sets.
    var description: String {
        switch self {
        case .podsIn(let namespace, let pods): return "pods \(pods.canonicalDescription) in namespace \(namespace)"
        case .podsInNamespaces(let pods, let namespaces): return "pods \(pods.canonicalDescription) in namespaces \(namespaces.canonicalDescription)"
        case .block(let block):
            return "addresses \(block.cidr)" + (block.except.isEmpty ? "" : " except " + block.except.map(\.description).sorted().joined(separator: ", "))
        case .everyPod: return "every pod"
        case .podsOnNode(let node): return "every pod on node \(node)"
        }
    }

    /// The families its sets exist in: an ipBlock's own, or every family pods use.
    func families(_ clusterFamilies: [IPAddress.Family]) -> [IPAddress.Family] {
        if case .block(let block) = self { return [block.cidr.family] }
        return clusterFamilies
    }
}

/// A set a rule refers to, by what it holds.
struct SetKey: Hashable {
    var scope: PeerScope
    /// Set for a services set (address . protocol . port), nil for addresses or prefixes.
    var namedPort: NamedPort?
    var family: IPAddress.Family

    var kind: AddressSet.Kind {
        if namedPort != nil { return .services }
        if case .block = scope { return .prefixes }
        return .addresses
    }

    /// What the set stands for, in words; the set's comment and the source of its name.
    var origin: String {
        scope.description + (namedPort.map { " on named port \($0.name)/\($0.protocol)" } ?? "")
    }

    /// `pods-<hash>-v4`, `cidr-<hash>-v6`, `named-<hash>-v4`: from the origin and family alone.
    var name: String {
        let prefix: String
        switch kind {
        case .addresses: prefix = "pods"
        case .prefixes: prefix = "cidr"
        case .services: prefix = "named"
        }
        return prefix + "-" + StableHash.hex(origin, digits: 12) + (family == .ipv4 ? "-v4" : "-v6")
    }

    /// An ipBlock's own elements, which no pod changes.
    var prefixElements: [AddressSet.Element] {
        guard case .block(let block) = scope else { return [] }
        return block.cidr.subtracting(block.except).map(AddressSet.Element.prefix)
    }

    /// The element `pod` puts in the set when the scope picks it, if any.
    func element(for pod: IndexedPod) -> AddressSet.Element? {
        if case .podsOnNode = scope { return pod.heldAddresses.first { $0.family == family }.map(AddressSet.Element.address) }
        guard let address = pod.address(family) else { return nil }
        guard let namedPort else { return .address(address) }
        return pod.port(named: namedPort.name, protocol: namedPort.protocol).map { .service(address, namedPort.protocol, $0) }
    }
}

/// Turns chain inputs into rules, the same way for a whole compile and for the
/// incremental planner; only how sets get their elements differs between them.
struct ChainRules {
    /// The address families pods of the cluster use; selector rules exist only for these.
    let families: [IPAddress.Family]

    /// Every rule of `policies` (the inputs' policies, in order) in the inputs'
    /// direction. `set` names the set a rule needs and makes sure it exists;
    /// it is told which policy (by position), rule and peer asks.
    func rules(_ inputs: ChainInputs, policies: [NetworkPolicy], set: (SetKey, PeerPosition) -> String) -> [PlanRule] {
        let direction = inputs.direction
        var result: [PlanRule] = []
        for (position, policy) in policies.enumerated() {
            let id = PolicyID(namespace: policy.namespace, name: policy.name)
            for (ruleIndex, (peers, ports)) in policy.rules(direction).enumerated() {
                let origin = "\(id) spec.\(direction.rulesField)[\(ruleIndex)]"
                let ports = PortSpecs(ports, direction: direction, resolve: inputs.number(of:))
                guard ports.allowsSomething else { continue }
                if peers.isEmpty {
                    result += ports.numeric.map { PlanRule(peer: .any, ports: $0, origin: origin) }
                    for named in ports.named {
                        for family in families {
                            let name = set(SetKey(scope: .everyPod, namedPort: named, family: family), PeerPosition(policy: position, rule: ruleIndex, peer: nil))
                            result.append(PlanRule(peer: .services(name: name, family: family), ports: nil, origin: origin))
                        }
                    }
                    continue
                }
                for (peerIndex, peer) in peers.enumerated() {
                    guard let scope = PeerScope(peer, home: policy.namespace) else { continue }
                    let peerOrigin = "\(origin).\(direction.peersField)[\(peerIndex)]"
                    let position = PeerPosition(policy: position, rule: ruleIndex, peer: peerIndex)
                    if !ports.numeric.isEmpty {
                        for family in scope.families(families) {
                            let name = set(SetKey(scope: scope, namedPort: nil, family: family), position)
                            result += ports.numeric.map { PlanRule(peer: .set(name: name, family: family), ports: $0, origin: peerOrigin) }
                        }
                    }
                    for named in ports.named {
                        for family in scope.families(families) {
                            let name = set(SetKey(scope: scope, namedPort: named, family: family), position)
                            result.append(PlanRule(peer: .services(name: name, family: family), ports: nil, origin: peerOrigin))
                        }
                    }
                }
            }
        }
        return result
    }
}

/// Which peer of which rule of which of a chain's policies asks for a set.
struct PeerPosition {
    var policy: Int
    var rule: Int
    /// nil for a rule without peers.
    var peer: Int?
}

extension NetworkPolicy {
    /// The rules of one direction as peers and ports.
    func rules(_ direction: Direction) -> [(peers: [NetworkPolicyPeer], ports: [NetworkPolicyPort])] {
        direction == .ingress ? spec.ingress.map { ($0.from, $0.ports) } : spec.egress.map { ($0.to, $0.ports) }
    }

}

/// A named port, resolved on the pod that declares it.
public struct NamedPort: Hashable, Sendable, Comparable {
    public var name: String
    public var `protocol`: PortProtocol

    public static func < (lhs: NamedPort, rhs: NamedPort) -> Bool {
        (lhs.name, lhs.protocol.rawValue) < (rhs.name, rhs.protocol.rawValue)
    }
}

/// A rule's `ports`, sorted out: numeric ranges per protocol (named ports of the
/// local pod resolved into them on ingress), and named ports left for each
/// destination on egress.
struct PortSpecs {
    /// One entry per protocol; `[nil]` when the rule lists no ports at all.
    private(set) var numeric: [ProtocolPorts?] = []
    private(set) var named: [NamedPort] = []

    var allowsSomething: Bool { !numeric.isEmpty || !named.isEmpty }

    /// - Parameter resolve: on ingress, the number a named port has on the local pod.
    init(_ ports: [NetworkPolicyPort], direction: Direction, resolve: (NamedPort) -> Int?) {
        guard !ports.isEmpty else {
            numeric = [nil]
            return
        }
        var everyPort = Set<PortProtocol>()
        var ranges: [PortProtocol: [ClosedRange<Int>]] = [:]
        for entry in ports {
            let proto = entry.effectiveProtocol
            switch entry.port {
            case nil:
                everyPort.insert(proto)
            case .int(let first):
                ranges[proto, default: []].append(first...max(first, entry.endPort ?? first))
            case .string(let name):
                let port = NamedPort(name: name, protocol: proto)
                if direction == .ingress {
                    // The local pod is the destination: its own number, or nothing.
                    if let number = resolve(port) { ranges[proto, default: []].append(number...number) }
                } else if !named.contains(port) {
                    named.append(port)
                }
            }
        }
        for proto in Set(everyPort).union(ranges.keys).sorted() {
            numeric.append(ProtocolPorts(protocol: proto, ranges: everyPort.contains(proto) ? [] : Self.merged(ranges[proto] ?? [])))
        }
    }

    /// Sorted, with overlapping and adjacent ranges joined.
    static func merged(_ ranges: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound + 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}

extension LabelSelector {
    /// The selector in one canonical text: labels and requirements sorted, values
    /// sorted, so that equal selectors written differently read the same.
    var canonicalDescription: String {
        let labels = matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let expressions = matchExpressions.map { requirement in
            requirement.values.isEmpty ? "\(requirement.key) \(requirement.operator)"
                : "\(requirement.key) \(requirement.operator) (\(requirement.values.sorted().joined(separator: ",")))"
        }.sorted()
        return "{" + (labels + expressions).joined(separator: "; ") + "}"
    }
}

/// FNV-1a, 64 bits: a hash that stays the same across runs and machines, for
/// stable set and chain names.
public enum StableHash {
    public static func hex(_ text: String, digits: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let full = String(hash, radix: 16)
        return String((String(repeating: "0", count: 16 - full.count) + full).prefix(digits))
    }
}
