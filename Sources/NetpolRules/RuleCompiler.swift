import NetpolEngine
import NetpolModel

/// Turns a snapshot into one node's `RulePlan`.
///
/// Peers become address sets keyed by their selector (or ipBlock), so one set
/// serves every rule and pod that uses the same selector, and a pod change only
/// changes set elements. Each local isolated pod gets the list of rules of its
/// isolating policies, with named ports resolved on the pod itself (ingress) or,
/// through address-protocol-port sets, on each destination (egress); pods whose
/// lists are equal share one chain.
public enum RuleCompiler {
    public static func plan(node: String, snapshot: Snapshot) -> RulePlan {
        plan(node: node, engine: Engine(snapshot: snapshot))
    }

    public static func plan(node: String, engine: Engine) -> RulePlan {
        var builder = PlanBuilder(index: engine.index)
        let local = engine.index.pods.indices.filter { number in
            let pod = engine.index.pods[number]
            return pod.pod.spec.nodeName == node && !pod.isHostNetwork && !pod.addresses.isEmpty
        }
        var bindings: [PodBinding] = []
        for direction in Direction.allCases {
            for pod in local where !engine.index.isolatingPolicies(of: pod, direction).isEmpty {
                let chain = builder.chain(for: pod, direction)
                for address in engine.index.pods[pod].addresses {
                    bindings.append(PodBinding(direction: direction, address: address, chain: chain, pod: engine.index.pods[pod].id))
                }
            }
        }
        bindings.sort { ($0.direction.rawValue, $0.address) < ($1.direction.rawValue, $1.address) }
        return RulePlan(
            node: node,
            sets: builder.sets.values.sorted { $0.name < $1.name },
            chains: builder.chains.values.sorted { $0.name < $1.name },
            bindings: bindings)
    }
}

/// Accumulates the sets and chains of one plan.
struct PlanBuilder {
    let index: PolicyIndex
    /// The address families pods of the cluster use; selector rules exist only for these.
    let families: [IPAddress.Family]
    private(set) var sets: [String: AddressSet] = [:]
    private(set) var chains: [String: PlanChain] = [:]
    private var chainNames: [ChainKey: String] = [:]
    /// Names already given, by origin, so that equal peers share a set.
    private var setNames: [String: String] = [:]
    /// The sets of each policy peer, worked out once however many local pods it applies to.
    private var peerSets: [PeerKey: [(String, IPAddress.Family)]] = [:]
    /// The same for named-port sets; a nil peer is a rule without peers.
    private var servicesSets: [ServicesKey: String] = [:]

    private struct ServicesKey: Hashable {
        var peer: PeerKey?
        var port: NamedPort
        var family: IPAddress.Family
    }

    private struct PeerKey: Hashable {
        var policy: Int
        var direction: Direction
        var rule: Int
        var peer: Int
    }

    private struct ChainKey: Hashable {
        var direction: Direction
        var rules: [PlanRule]
    }

    /// Everything a pod's rules are made from, so that pods alike skip making them.
    private var chainsByInputs: [RuleInputs: String] = [:]

    private struct RuleInputs: Hashable {
        var direction: Direction
        var policies: [Int]
        var namedPorts: [Int?]
    }

    init(index: PolicyIndex) {
        self.index = index
        let used = Set(index.pods.flatMap(\.families))
        families = IPAddress.Family.allCases.filter(used.contains)
    }

    /// The name of the chain judging `pod` in `direction`, created on first use.
    mutating func chain(for pod: Int, _ direction: Direction) -> String {
        let id = index.pods[pod].id
        let inputs = RuleInputs(direction: direction, policies: index.isolatingPolicies(of: pod, direction),
                                namedPorts: direction == .ingress ? namedPortNumbers(of: pod) : [])
        if let name = chainsByInputs[inputs] {
            chains[name]?.pods.append(id)
            return name
        }
        let rules = self.rules(for: pod, direction)
        let key = ChainKey(direction: direction, rules: rules)
        let name: String
        if let known = chainNames[key] {
            name = known
            chains[name]?.pods.append(id)
        } else {
            name = uniqueName(prefix: direction.rulesField, content: rules.map(\.description).joined(separator: "\n"), taken: { chains[$0] != nil })
            chainNames[key] = name
            chains[name] = PlanChain(name: name, direction: direction, pods: [id], rules: rules)
        }
        chainsByInputs[inputs] = name
        return name
    }

    /// What the pod's ingress named ports resolve to, for every named port its
    /// isolating policies' ingress rules use, in rule order: with the policies,
    /// all a pod's rules depend on.
    private func namedPortNumbers(of pod: Int) -> [Int?] {
        var numbers: [Int?] = []
        for number in index.isolatingPolicies(of: pod, .ingress) {
            for rule in index.policies[number].rules(.ingress) {
                for port in rule.ports {
                    if case .string(let name) = port.port { numbers.append(index.pods[pod].port(named: name, protocol: port.effectiveProtocol)) }
                }
            }
        }
        return numbers
    }

    /// Every rule of the pod's isolating policies, in policy and rule order.
    private mutating func rules(for pod: Int, _ direction: Direction) -> [PlanRule] {
        var result: [PlanRule] = []
        for number in index.isolatingPolicies(of: pod, direction) {
            let policy = index.policies[number]
            for rule in policy.rules(direction) {
                let origin = "\(policy.id) \(rule.path)"
                let ports = PortSpecs(rule.ports, direction: direction, localPod: index.pods[pod])
                guard ports.allowsSomething else { continue }
                if rule.peers.isEmpty {
                    result += ports.numeric.map { PlanRule(peer: .any, ports: $0, origin: origin) }
                    for named in ports.named {
                        for family in families {
                            let set = servicesSet(peer: nil, key: ServicesKey(peer: nil, port: named, family: family))
                            result.append(PlanRule(peer: .services(name: set, family: family), ports: nil, origin: origin))
                        }
                    }
                    continue
                }
                for peer in rule.peers {
                    let peerOrigin = "\(origin).\(direction.peersField)[\(peer.index)]"
                    let key = PeerKey(policy: number, direction: direction, rule: rule.index, peer: peer.index)
                    if !ports.numeric.isEmpty {
                        for (set, family) in addressSets(peer, key: key) {
                            result += ports.numeric.map { PlanRule(peer: .set(name: set, family: family), ports: $0, origin: peerOrigin) }
                        }
                    }
                    for named in ports.named {
                        for family in families(of: peer) {
                            let set = servicesSet(peer: peer, key: ServicesKey(peer: key, port: named, family: family))
                            result.append(PlanRule(peer: .services(name: set, family: family), ports: nil, origin: peerOrigin))
                        }
                    }
                }
            }
        }
        return result
    }

    // MARK: - Sets

    /// A selector peer has a set per family; an ipBlock one, in its own family.
    private mutating func addressSets(_ peer: CompiledPeer, key: PeerKey) -> [(String, IPAddress.Family)] {
        if let known = peerSets[key] { return known }
        let description = Self.describe(peer)
        let result: [(String, IPAddress.Family)]
        if let block = peer.block {
            let elements = block.cidr.subtracting(block.except).map(AddressSet.Element.prefix)
            result = [(set(prefix: "cidr", origin: description, family: block.cidr.family, kind: .prefixes, elements: elements), block.cidr.family)]
        } else {
            result = families.map { family in
                let elements = peer.selected.indices.compactMap { index.pods[$0].address(family) }.map(AddressSet.Element.address)
                return (set(prefix: "pods", origin: description, family: family, kind: .addresses, elements: elements), family)
            }
        }
        peerSets[key] = result
        return result
    }

    private func families(of peer: CompiledPeer) -> [IPAddress.Family] {
        peer.block.map { [$0.cidr.family] } ?? families
    }

    /// Pods of `peer` (every pod when nil) with the number the named port has on each.
    private mutating func servicesSet(peer: CompiledPeer?, key: ServicesKey) -> String {
        if let known = servicesSets[key] { return known }
        let (named, family) = (key.port, key.family)
        let candidates = peer.map { $0.pods(family).indices } ?? Array(index.pods.indices)
        let elements: [AddressSet.Element] = candidates.compactMap { number in
            let pod = index.pods[number]
            guard let address = pod.address(family), let port = pod.port(named: named.name, protocol: named.protocol) else { return nil }
            return .service(address, named.protocol, port)
        }
        let description = (peer.map(Self.describe) ?? "every pod") + " on named port \(named.name)/\(named.protocol)"
        let name = set(prefix: "named", origin: description, family: family, kind: .services, elements: elements)
        servicesSets[key] = name
        return name
    }

    private mutating func set(prefix: String, origin: String, family: IPAddress.Family, kind: AddressSet.Kind, elements: [AddressSet.Element]) -> String {
        let key = "\(origin) \(family.rawValue)"
        if let name = setNames[key] { return name }
        let suffix = family == .ipv4 ? "v4" : "v6"
        let name = uniqueName(prefix: prefix, content: origin, suffix: suffix, taken: { sets[$0] != nil })
        setNames[key] = name
        sets[name] = AddressSet(name: name, family: family, kind: kind, elements: elements.sorted(), origin: origin)
        return name
    }

    /// `pods {pod=b} in namespace x`, `pods {} in namespaces {team=blue}`: the peer
    /// in canonical words, which also keys its set.
    static func describe(_ peer: CompiledPeer) -> String {
        if let block = peer.block {
            return "addresses \(block.cidr)" + (block.except.isEmpty ? "" : " except " + block.except.map(\.description).sorted().joined(separator: ", "))
        }
        let pods = (peer.peer.podSelector ?? .everything).canonicalDescription
        guard let namespaces = peer.peer.namespaceSelector else { return "pods \(pods) in namespace \(peer.home)" }
        return "pods \(pods) in namespaces \(namespaces.canonicalDescription)"
    }

    /// `prefix-<12 hex digits of a hash of content>[-suffix]`, made unique.
    private func uniqueName(prefix: String, content: String, suffix: String? = nil, taken: (String) -> Bool) -> String {
        let base = prefix + "-" + StableHash.hex(content, digits: 12)
        var name = suffix.map { base + "-" + $0 } ?? base
        var attempt = 2
        while taken(name) {
            name = (suffix.map { base + "-\(attempt)-" + $0 } ?? base + "-\(attempt)")
            attempt += 1
        }
        return name
    }
}

/// A named port on egress: resolved on each destination.
struct NamedPort: Hashable {
    var name: String
    var `protocol`: PortProtocol
}

/// A rule's `ports`, sorted out: numeric ranges per protocol (named ports of the
/// local pod resolved into them on ingress), and named ports left for each
/// destination on egress.
struct PortSpecs {
    /// One entry per protocol; `[nil]` when the rule lists no ports at all.
    private(set) var numeric: [ProtocolPorts?] = []
    private(set) var named: [NamedPort] = []

    var allowsSomething: Bool { !numeric.isEmpty || !named.isEmpty }

    init(_ ports: [NetworkPolicyPort], direction: Direction, localPod: IndexedPod) {
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
                if direction == .ingress {
                    // The local pod is the destination: its own number, or nothing.
                    if let number = localPod.port(named: name, protocol: proto) { ranges[proto, default: []].append(number...number) }
                } else if !named.contains(NamedPort(name: name, protocol: proto)) {
                    named.append(NamedPort(name: name, protocol: proto))
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

extension PlanRule: CustomStringConvertible {
    /// A syntax-free line, used for chain identity and debugging.
    public var description: String {
        let peerText: String
        switch peer {
        case .any: peerText = "any"
        case .set(let name, _): peerText = "@" + name
        case .services(let name, _): peerText = "@" + name + " (address.protocol.port)"
        }
        let portText = ports.map { ports in
            ports.protocol.rawValue + (ports.ranges.isEmpty ? "" : " " + ports.ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ","))
        } ?? "all"
        return "\(peerText) \(portText) (\(origin))"
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
