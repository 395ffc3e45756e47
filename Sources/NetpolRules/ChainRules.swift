import NetpolEngine
import NetpolModel

/// What a chain's rules are made of, per direction: the Admin-tier
/// ClusterNetworkPolicies that select its pods (in evaluation order), the
/// NetworkPolicies that isolate them (in order), the audited ones that would
/// (only when none in force does), the Baseline-tier ones (only when no
/// NetworkPolicy isolates: that one then decides alone), and the numbers the
/// named ports of their ingress rules have on those pods. Pods
/// with equal inputs share a chain, and the chain's name comes from the inputs
/// alone: it stays the same however the plan is computed (whole or event by
/// event), and a pod relabelled into another existing combination only moves
/// its binding.
public struct ChainInputs: Hashable, Sendable {
    public var direction: Direction
    /// Admin-tier cluster policies with rules in `direction`, by priority then name.
    public var admin: [String]
    public var policies: [PolicyID]
    /// The audited NetworkPolicies (`netpol.io/mode: audit`) that would isolate
    /// its pods, in order; only when no NetworkPolicy in force does, since
    /// otherwise they could only allow more and there is nothing to log.
    public var audited: [PolicyID]
    /// Baseline-tier cluster policies with rules in `direction`, by priority then name.
    public var baseline: [String]
    /// Every named port the policies' ingress rules use, sorted, with what it
    /// resolves to on the pods (nil: they have no such port). Empty on egress,
    /// where named ports resolve on each destination instead.
    public var namedPorts: [NamedPortNumber]

    public struct NamedPortNumber: Hashable, Sendable {
        public var port: NamedPort
        public var resolved: ServicePort?
    }

    /// The inputs of `pod` under `policies` (those judging it in `direction`).
    init(direction: Direction, policies: ChainPolicies, pod: IndexedPod) {
        self.direction = direction
        admin = policies.admin.map(\.name)
        self.policies = policies.networkPolicies.map { PolicyID(namespace: $0.namespace, name: $0.name) }
        audited = policies.audited.map { PolicyID(namespace: $0.namespace, name: $0.name) }
        baseline = policies.baseline.map(\.name)
        namedPorts = direction == .ingress ? policies.ingressNamedPorts.sorted().map { NamedPortNumber(port: $0, resolved: pod.port($0)) } : []
    }

    /// The inputs of the chain this one goes on to once its first layer has
    /// not decided: after the Admin tier (a Pass, or no match), the same
    /// without it; after the audit layer (whatever the audited policies would
    /// do), the Baseline tier. Nil when what follows would allow everything.
    /// It keeps every named port of the inputs, so that its name follows from
    /// them alone: a policy edit can then change its rules but not its name.
    var next: ChainInputs? {
        var next = self
        if !admin.isEmpty {
            next.admin = []
        } else if !audited.isEmpty {
            next.audited = []
        } else {
            return nil
        }
        return next.policies.isEmpty && next.audited.isEmpty && next.baseline.isEmpty ? nil : next
    }

    /// These inputs, then those of each chain they go on to: every chain a pod
    /// bound here uses.
    var sequence: [ChainInputs] {
        var sequence = [self]
        while let next = sequence[sequence.count - 1].next { sequence.append(next) }
        return sequence
    }

    /// The audit layer's chain: no Admin tier before it, audited policies to judge.
    var isAuditLayer: Bool { admin.isEmpty && !audited.isEmpty }

    /// The plan chain of these inputs, made of `rules` and `end`.
    func planChain(rules: [PlanRule], end: PlanRule.Action) -> PlanChain {
        PlanChain(name: chainName, direction: direction, rules: rules, end: end, isolatedBy: policies, auditedBy: isAuditLayer ? audited : [])
    }

    /// `ingress-<12 hex digits>`: a hash of the inputs.
    var chainName: String {
        let ports = namedPorts.map { number in
            let resolved = number.resolved.map { number.port.protocol == nil ? "\($0.protocol)/\($0.number)" : String($0.number) } ?? "-"
            return number.port.protocol.map { "\(number.port.name)/\($0)=\(resolved)" } ?? "\(number.port.name)/any=\(resolved)"
        }
        var text = direction.rawValue + " " + policies.map(\.description).joined(separator: ",") + " " + ports.joined(separator: ",")
        if !admin.isEmpty || !baseline.isEmpty {
            text += " admin " + admin.joined(separator: ",") + " baseline " + baseline.joined(separator: ",")
        }
        if !audited.isEmpty {
            text += " audit " + audited.map(\.description).joined(separator: ",")
        }
        return direction.rulesField + "-" + StableHash.hex(text, digits: 12)
    }

    func resolved(_ port: NamedPort) -> ServicePort? {
        namedPorts.first { $0.port == port }?.resolved
    }
}

/// The policies behind one chain, as objects: what `ChainInputs` names.
struct ChainPolicies {
    var admin: [ClusterNetworkPolicy]
    var networkPolicies: [NetworkPolicy]
    var audited: [NetworkPolicy]
    var baseline: [ClusterNetworkPolicy]

    /// The policies judging `pod` in `direction`: `isolating` (the
    /// NetworkPolicies in force isolating it, in order), `audited` (the
    /// audited ones that would, kept only when none in force does) and those
    /// of `clusterPolicies` (sorted by tier, priority, name) that select it and
    /// have rules in `direction`; Baseline ones only when no NetworkPolicy in
    /// force isolates it.
    init(_ direction: Direction, pod: IndexedPod, namespaceLabels: [String: String], isolating: [NetworkPolicy], audited: [NetworkPolicy], clusterPolicies: [ClusterNetworkPolicy]) {
        networkPolicies = isolating
        self.audited = isolating.isEmpty ? audited : []
        let selecting = clusterPolicies.filter { !$0.rules(direction).isEmpty && $0.selects(pod, namespaceLabels: namespaceLabels) }
        admin = selecting.filter { $0.spec.tier == .admin }
        baseline = isolating.isEmpty ? selecting.filter { $0.spec.tier == .baseline } : []
    }

    /// The objects `inputs` names; nil when one of them is gone.
    init?(_ inputs: ChainInputs, networkPolicies: [PolicyID: NetworkPolicy], clusterPolicies: [String: ClusterNetworkPolicy]) {
        let admin = inputs.admin.compactMap { clusterPolicies[$0] }
        let policies = inputs.policies.compactMap { networkPolicies[$0] }
        let audited = inputs.audited.compactMap { networkPolicies[$0] }
        let baseline = inputs.baseline.compactMap { clusterPolicies[$0] }
        guard admin.count == inputs.admin.count, policies.count == inputs.policies.count, audited.count == inputs.audited.count,
              baseline.count == inputs.baseline.count else { return nil }
        (self.admin, self.networkPolicies, self.audited, self.baseline) = (admin, policies, audited, baseline)
    }

    var isEmpty: Bool { admin.isEmpty && networkPolicies.isEmpty && audited.isEmpty && baseline.isEmpty }

    /// The policies of the chain `ChainInputs.next` names: without the Admin
    /// tier if there is one, else without the audit layer.
    var next: ChainPolicies {
        var next = self
        if !admin.isEmpty { next.admin = [] } else { next.audited = [] }
        return next
    }

    /// The named ports of every ingress rule, resolved on the pod itself.
    var ingressNamedPorts: Set<NamedPort> {
        var names = Set<NamedPort>()
        for policy in networkPolicies + audited {
            for rule in policy.spec.ingress {
                for case .named(let port) in rule.ports.map(PortEntry.init) { names.insert(port) }
            }
        }
        for policy in admin + baseline {
            for rule in policy.spec.ingress {
                for case .named(let port) in rule.protocols.map(PortEntry.init) { names.insert(port) }
            }
        }
        return names
    }
}

extension ClusterNetworkPolicy {
    /// Whether `spec.subject` picks `pod` (never a host-network pod, nor one without an address).
    func selects(_ pod: IndexedPod, namespaceLabels: [String: String]) -> Bool {
        guard !pod.isHostNetwork, !pod.addresses.isEmpty else { return false }
        if let namespaces = spec.subject.namespaces { return namespaces.matches(namespaceLabels) }
        if let pods = spec.subject.pods { return pods.namespaceSelector.matches(namespaceLabels) && pods.podSelector.matches(pod.labels) }
        return false
    }

    /// The rules of one direction as action, peers and protocols.
    func rules(_ direction: Direction) -> [(name: String, action: ClusterPolicyAction, peers: [ClusterPolicyPeer], protocols: [ClusterPolicyProtocol])] {
        direction == .ingress ? spec.ingress.map { ($0.name, $0.action, $0.from, $0.protocols) } : spec.egress.map { ($0.name, $0.action, $0.to, $0.protocols) }
    }

    /// Evaluation order within the tiers: Admin before Baseline, then priority, then name.
    static func inEvaluationOrder(_ a: ClusterNetworkPolicy, _ b: ClusterNetworkPolicy) -> Bool {
        (a.spec.tier == .admin ? 0 : 1, a.spec.priority, a.name) < (b.spec.tier == .admin ? 0 : 1, b.spec.priority, b.name)
    }
}

extension IndexedPod {
    /// The container port `port` names on this pod: of its protocol, or of any
    /// protocol for a ClusterNetworkPolicy `destinationNamedPort`.
    func port(_ port: NamedPort) -> ServicePort? {
        for container in pod.spec.containers {
            for declared in container.ports where declared.name == port.name && (port.protocol == nil || declared.protocol == port.protocol) {
                return ServicePort(protocol: declared.protocol, number: declared.containerPort)
            }
        }
        return nil
    }
}

/// A protocol and a port number.
public struct ServicePort: Hashable, Sendable {
    public var `protocol`: PortProtocol
    public var number: Int
}

/// Which pods or addresses a peer stands for; with a named port and a family,
/// the key of the set that holds them.
enum PeerScope: Hashable {
    /// Pods `pods` picks in the namespace `namespace` (a podSelector alone).
    case podsIn(namespace: String, pods: LabelSelector)
    /// Pods `pods` picks in the namespaces `namespaces` picks.
    case podsInNamespaces(pods: LabelSelector, namespaces: LabelSelector)
    /// An ipBlock: its CIDR minus its exceptions (also a `networks` peer of one CIDR).
    case block(AddressBlock)
    /// A ClusterNetworkPolicy `networks` peer of several CIDRs: sorted, none inside another.
    case networks([CIDR])
    /// A ClusterNetworkPolicy `nodes` peer: the addresses of the nodes the selector picks.
    case nodes(LabelSelector)
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

    /// A ClusterNetworkPolicy peer, sharing the scope (and so the sets) of the
    /// NetworkPolicy peer with the same selectors: `namespaces: S` is
    /// `namespaceSelector: S`, `pods` is both selectors, one CIDR is an ipBlock.
    /// nil for a peer netpol does not enforce (`domainNames`, or none set),
    /// which fails closed, or for networks none of which parses.
    init?(_ peer: ClusterPolicyPeer) {
        if let namespaces = peer.namespaces {
            self = .podsInNamespaces(pods: .everything, namespaces: namespaces)
        } else if let pods = peer.pods {
            self = .podsInNamespaces(pods: pods.podSelector, namespaces: pods.namespaceSelector)
        } else if let nodes = peer.nodes {
            self = .nodes(nodes)
        } else if let networks = peer.networks {
            let cidrs = Set(networks.compactMap { CIDR($0) })
            let outermost = cidrs.filter { cidr in !cidrs.contains { $0 != cidr && $0.contains(cidr) } }
                .sorted { ($0.network, $0.prefixLength) < ($1.network, $1.prefixLength) }
            switch outermost.count {
            case 0: return nil
            case 1:
                guard let block = AddressBlock(IPBlock(cidr: outermost[0].description)) else { return nil }
                self = .block(block)
            default: self = .networks(outermost)
            }
        } else {
            return nil
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
        case .networks(let cidrs): return "addresses " + cidrs.map(\.description).joined(separator: ", ")
        case .nodes(let nodes): return "nodes \(nodes.canonicalDescription)"
        case .everyPod: return "every pod"
        case .podsOnNode(let node): return "every pod on node \(node)"
        }
    }

    /// The families its sets exist in: its CIDRs' own, or every family pods use.
    func families(_ clusterFamilies: [IPAddress.Family]) -> [IPAddress.Family] {
        switch self {
        case .block(let block): return [block.cidr.family]
        case .networks(let cidrs): return IPAddress.Family.allCases.filter { family in cidrs.contains { $0.family == family } }
        default: return clusterFamilies
        }
    }

    /// Whether the scope picks `pod` (in a namespace labelled `namespaceLabels`),
    /// as the engine's selectors do: selectors pick pods with an address off
    /// the host network; addresses pick any pod; nodes pick no pod.
    func picks(_ pod: IndexedPod, namespaceLabels: [String: String]) -> Bool {
        switch self {
        case .podsIn: return picksInNamespace(pod)
        case .podsInNamespaces(_, let namespaces): return namespaces.matches(namespaceLabels) && picksInNamespace(pod)
        case .block(let block): return pod.address(block.cidr.family).map(block.contains) ?? false
        case .networks(let cidrs): return pod.addresses.contains { address in cidrs.contains { $0.contains(address) } }
        case .nodes: return false
        case .everyPod: return true
        case .podsOnNode(let node): return pod.pod.spec.nodeName == node && !pod.heldAddresses.isEmpty
        }
    }

    /// The pod-selector half of a selector scope (its namespace taken as matching).
    func picksInNamespace(_ pod: IndexedPod) -> Bool {
        guard !pod.isHostNetwork, !pod.addresses.isEmpty else { return false }
        switch self {
        case .podsIn(let namespace, let selector): return pod.id.namespace == namespace && selector.matches(pod.labels)
        case .podsInNamespaces(let selector, _): return selector.matches(pod.labels)
        default: return false
        }
    }

    /// Whether pods' named ports can be looked up behind it: not behind addresses of networks or nodes.
    var hasNamedPorts: Bool {
        switch self {
        case .networks, .nodes: return false
        default: return true
        }
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
        switch scope {
        case .block, .networks: return .prefixes
        default: return .addresses
        }
    }

    /// What the set stands for, in words; the set's comment and the source of its name.
    var origin: String {
        scope.description + (namedPort.map { " on named port \($0.name)/" + ($0.protocol.map { "\($0)" } ?? "any") } ?? "")
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

    /// The elements of a prefix set, which no pod changes.
    var prefixElements: [AddressSet.Element] {
        switch scope {
        case .block(let block): return block.cidr.subtracting(block.except).map(AddressSet.Element.prefix)
        case .networks(let cidrs): return cidrs.filter { $0.family == family }.map(AddressSet.Element.prefix)
        default: return []
        }
    }

    /// The element `pod` puts in the set when the scope picks it, if any.
    func element(for pod: IndexedPod) -> AddressSet.Element? {
        if case .podsOnNode = scope { return pod.heldAddresses.first { $0.family == family }.map(AddressSet.Element.address) }
        if case .nodes = scope { return nil }
        guard let address = pod.address(family) else { return nil }
        guard let namedPort else { return .address(address) }
        return pod.port(namedPort).map { .service(address, $0.protocol, $0.number) }
    }

    /// The elements `node` puts in a nodes set when the scope picks it.
    func elements(for node: Node) -> [AddressSet.Element] {
        node.ipAddresses.filter { $0.family == family }.map(AddressSet.Element.address)
    }
}

/// Turns chain inputs into rules, the same way for a whole compile and for the
/// incremental planner; only how sets get their elements differs between them.
///
/// A chain judges its pods in one direction and its rules decide in order,
/// the first match deciding: the Admin tier's rules (Accept allows, Deny
/// drops, Pass goes to the rest chain), then NetworkPolicy rules (allow),
/// then, when a NetworkPolicy isolates, drop; otherwise the Baseline tier's
/// rules (Accept and Pass allow, Deny drops), then allow. With an Admin tier,
/// the rest is a chain of its own (`ChainInputs.next`), which the Admin
/// rules' Pass and their end go to, and which pods with the same rules but no
/// Admin policy use directly.
///
/// Audited NetworkPolicies that would isolate (where none in force does) make
/// an audit layer in place of the NetworkPolicy one: their rules and the
/// chain's end both go on to what follows (the Baseline tier's chain, or
/// allow), so they change no verdict, but the end is where they would deny,
/// and logging logs it there (`PlanChain.auditedBy`).
struct ChainRules {
    /// The address families pods of the cluster use; selector rules exist only for these.
    let families: [IPAddress.Family]

    /// The rules and the end of the chain for `inputs`, made of `policies`
    /// (the objects the inputs name). `set` names the set a rule needs and
    /// makes sure it exists; it is told which policy, rule and peer asks (nil
    /// for a fail-closed peer).
    func body(_ inputs: ChainInputs, policies: ChainPolicies, set: (SetKey, PeerPosition?) -> String) -> (rules: [PlanRule], end: PlanRule.Action) {
        let next: PlanRule.Action = inputs.next.map { .goto($0.chainName) } ?? .allow
        if !inputs.admin.isEmpty {
            return (policies.admin.flatMap { clusterRules($0, inputs, pass: next, set: set) }, next)
        }
        if !inputs.audited.isEmpty {
            return (networkPolicyRules(inputs, policies: policies.audited, action: next, set: set), next)
        }
        let rules = networkPolicyRules(inputs, policies: policies.networkPolicies, action: .allow, set: set)
        if !inputs.policies.isEmpty { return (rules, .deny) }
        return (rules + policies.baseline.flatMap { clusterRules($0, inputs, pass: .allow, set: set) }, .allow)
    }

    /// Every rule of the NetworkPolicies, in order, each with `action`: an
    /// allow, or in the audit layer what follows it.
    private func networkPolicyRules(_ inputs: ChainInputs, policies: [NetworkPolicy], action: PlanRule.Action, set: (SetKey, PeerPosition?) -> String) -> [PlanRule] {
        let direction = inputs.direction
        var result: [PlanRule] = []
        for (position, policy) in policies.enumerated() {
            let id = PolicyID(namespace: policy.namespace, name: policy.name)
            let firstOfPolicy = result.count
            for (ruleIndex, (peers, ports)) in policy.rules(direction).enumerated() {
                let origin = (inputs.isAuditLayer ? "audit " : "") + "\(id) spec.\(direction.rulesField)[\(ruleIndex)]"
                let ports = PortSpecs(ports.map(PortEntry.init), direction: direction, resolve: inputs.resolved)
                guard ports.allowsSomething else { continue }
                if peers.isEmpty {
                    result += rules(nil, ports, action, origin) { set($0, .networkPolicy(position, rule: ruleIndex, peer: nil)) }
                    continue
                }
                for (peerIndex, peer) in peers.enumerated() {
                    guard let scope = PeerScope(peer, home: policy.namespace) else { continue }
                    let position = PeerPosition.networkPolicy(position, rule: ruleIndex, peer: peerIndex)
                    result += rules(scope, ports, action, "\(origin).\(direction.peersField)[\(peerIndex)]") { set($0, position) }
                }
            }
            for index in firstOfPolicy..<result.count { result[index].policy = id }
        }
        return result
    }

    /// Every rule of a ClusterNetworkPolicy, in order, with its action; `pass`
    /// is what a Pass does in this tier. A peer netpol does not enforce fails
    /// closed: an Accept matches nothing, a Deny or Pass everything.
    private func clusterRules(_ policy: ClusterNetworkPolicy, _ inputs: ChainInputs, pass: PlanRule.Action, set: (SetKey, PeerPosition?) -> String) -> [PlanRule] {
        let direction = inputs.direction
        var result: [PlanRule] = []
        for (ruleIndex, rule) in policy.rules(direction).enumerated() {
            let firstOfRule = result.count
            let action: PlanRule.Action
            switch rule.action {
            case .accept: action = .allow
            case .deny: action = .deny
            default: action = pass
            }
            let origin = "\(policy.spec.tier.rawValue) \(policy.name) spec.\(direction.rulesField)[\(ruleIndex)]"
            let ports = PortSpecs(rule.protocols.map(PortEntry.init), direction: direction, resolve: inputs.resolved)
            guard ports.allowsSomething else { continue }
            let id = ClusterRuleID(tier: policy.spec.tier, policy: policy.name, direction: direction, index: ruleIndex, name: rule.name, action: rule.action)
            for (peerIndex, peer) in rule.peers.enumerated() {
                let peerOrigin = "\(origin).\(direction.peersField)[\(peerIndex)]"
                guard let scope = PeerScope(peer) else {
                    // Fails closed by the rule's own action: a Pass matches everything
                    // even where it goes on to allow.
                    if rule.action != .accept { result += rules(nil, ports, action, peerOrigin) { set($0, nil) } }
                    continue
                }
                let position = PeerPosition.clusterPolicy(name: policy.name, direction: direction, rule: ruleIndex, peer: peerIndex)
                result += rules(scope, scope.hasNamedPorts ? ports : ports.withoutNamedPorts, action, peerOrigin) { set($0, position) }
            }
            for index in firstOfRule..<result.count { result[index].clusterRule = id }
        }
        return result
    }

    /// The rules for one peer (nil: every address) and its ports.
    private func rules(_ scope: PeerScope?, _ ports: PortSpecs, _ action: PlanRule.Action, _ origin: String, set: (SetKey) -> String) -> [PlanRule] {
        var result: [PlanRule] = []
        if let scope {
            if !ports.numeric.isEmpty {
                for family in scope.families(families) {
                    let name = set(SetKey(scope: scope, namedPort: nil, family: family))
                    result += ports.numeric.map { PlanRule(peer: .set(name: name, family: family), ports: $0, action: action, origin: origin) }
                }
            }
        } else {
            result += ports.numeric.map { PlanRule(peer: .any, ports: $0, action: action, origin: origin) }
        }
        for named in ports.named {
            for family in (scope ?? .everyPod).families(families) {
                let name = set(SetKey(scope: scope ?? .everyPod, namedPort: named, family: family))
                result.append(PlanRule(peer: .services(name: name, family: family), ports: nil, action: action, origin: origin))
            }
        }
        return result
    }
}

/// Which peer of which rule asks for a set: of one of a chain's
/// NetworkPolicies (by position among those in force, or in the audit layer
/// among the audited; peer nil for a rule without peers), or of a
/// ClusterNetworkPolicy.
enum PeerPosition {
    case networkPolicy(Int, rule: Int, peer: Int?)
    case clusterPolicy(name: String, direction: Direction, rule: Int, peer: Int)
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
    /// nil: whatever protocol the pod's port has (a ClusterNetworkPolicy `destinationNamedPort`).
    public var `protocol`: PortProtocol?

    public static func < (lhs: NamedPort, rhs: NamedPort) -> Bool {
        (lhs.name, lhs.protocol?.rawValue ?? "") < (rhs.name, rhs.protocol?.rawValue ?? "")
    }
}

/// One entry of a rule's ports, whichever kind of policy wrote it.
enum PortEntry {
    case everyPort(PortProtocol)
    case range(PortProtocol, ClosedRange<Int>)
    case named(NamedPort)
    /// An entry that admits nothing (no port given).
    case nothing

    /// A NetworkPolicy `ports[]` entry.
    init(_ port: NetworkPolicyPort) {
        let proto = port.effectiveProtocol
        switch port.port {
        case nil: self = .everyPort(proto)
        case .int(let first): self = .range(proto, first...max(first, port.endPort ?? first))
        case .string(let name): self = .named(NamedPort(name: name, protocol: proto))
        }
    }

    /// A ClusterNetworkPolicy `protocols[]` entry.
    init(_ entry: ClusterPolicyProtocol) {
        if let match = entry.protocolMatch {
            self = match.1.destinationPort?.ports.map { .range(match.0, $0) } ?? .nothing
        } else {
            self = entry.destinationNamedPort.isEmpty ? .nothing : .named(NamedPort(name: entry.destinationNamedPort, protocol: nil))
        }
    }
}

/// A rule's ports, sorted out: numeric ranges per protocol (named ports of the
/// local pod resolved into them on ingress), and named ports left for each
/// destination on egress.
struct PortSpecs {
    /// One entry per protocol; `[nil]` when the rule lists no ports at all.
    private(set) var numeric: [ProtocolPorts?] = []
    private(set) var named: [NamedPort] = []

    var allowsSomething: Bool { !numeric.isEmpty || !named.isEmpty }

    /// The same without named ports: behind addresses that are no pod's.
    var withoutNamedPorts: PortSpecs {
        var copy = self
        copy.named = []
        return copy
    }

    /// - Parameter resolve: on ingress, what a named port is on the local pod.
    init(_ entries: [PortEntry], direction: Direction, resolve: (NamedPort) -> ServicePort?) {
        guard !entries.isEmpty else {
            numeric = [nil]
            return
        }
        var everyPort = Set<PortProtocol>()
        var ranges: [PortProtocol: [ClosedRange<Int>]] = [:]
        for entry in entries {
            switch entry {
            case .everyPort(let proto):
                everyPort.insert(proto)
            case .range(let proto, let range):
                ranges[proto, default: []].append(range)
            case .named(let port):
                if direction == .ingress {
                    // The local pod is the destination: its own number, or nothing.
                    if let resolved = resolve(port) { ranges[resolved.protocol, default: []].append(resolved.number...resolved.number) }
                } else if !named.contains(port) {
                    named.append(port)
                }
            case .nothing:
                continue
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
