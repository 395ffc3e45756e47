import NetpolEngine
import NetpolModel

/// Turns a snapshot into one node's `RulePlan`, whole.
///
/// Peers become address sets keyed by their selector (or ipBlock), so one set
/// serves every rule and pod that uses the same selector, and a pod change only
/// changes set elements. Each local pod that a NetworkPolicy isolates (or an
/// audited one would), or a ClusterNetworkPolicy selects, gets the rules of
/// those policies in tier
/// order (see `ChainRules`), with named ports resolved on the pod itself
/// (ingress) or, through address-protocol-port sets, on each destination
/// (egress); pods with the same `ChainInputs` share one chain. The agent keeps
/// the same plan up to date event by event with `NodePlanner`; this is the
/// whole computation it must always agree with.
public enum RuleCompiler {
    public static func plan(node: String, snapshot: Snapshot, guards: NodeGuards = NodeGuards(), logging: DenyLogging? = nil) -> RulePlan {
        plan(node: node, snapshot: snapshot, engine: Engine(snapshot: snapshot), guards: guards, logging: logging)
    }

    /// The plan from an engine already built for `snapshot`.
    public static func plan(node: String, snapshot: Snapshot, engine: Engine, guards: NodeGuards = NodeGuards(), logging: DenyLogging? = nil) -> RulePlan {
        var builder = PlanBuilder(index: engine.index, snapshot: snapshot)
        for key in guards.knownPodKeys(node: node) { builder.knownPods(key, node: node) }
        let local = engine.index.pods.indices.filter { number in
            let pod = engine.index.pods[number]
            return pod.pod.spec.nodeName == node && !pod.isHostNetwork && !pod.addresses.isEmpty
        }
        var bindings: [PodBinding] = []
        for direction in Direction.allCases {
            for pod in local {
                guard let chain = builder.chain(for: pod, direction) else { continue }
                for address in engine.index.pods[pod].addresses {
                    bindings.append(PodBinding(direction: direction, address: address, chain: chain, pod: engine.index.pods[pod].id))
                }
            }
        }
        bindings.sort(by: PodBinding.inPlanOrder)
        return RulePlan(
            node: node,
            sets: builder.sets.values.sorted { $0.name < $1.name },
            chains: builder.chains.values.sorted { $0.name < $1.name },
            bindings: bindings,
            guards: guards,
            logging: logging)
    }
}

/// Accumulates the sets and chains of one plan, matching selectors through the
/// engine's index: the reference the incremental `NodePlanner` is held to.
struct PlanBuilder {
    let index: PolicyIndex
    let chainRules: ChainRules
    private let namespaceLabels: [String: [String: String]]
    /// Sorted by tier, priority, name.
    private let clusterPolicies: [ClusterNetworkPolicy]
    private let nodes: [Node]
    /// The engine's compiled cluster policies, by name: their peers' pods fill sets.
    private let compiledClusterPolicies: [String: Int]
    private(set) var sets: [String: AddressSet] = [:]
    private(set) var chains: [String: PlanChain] = [:]

    init(index: PolicyIndex, snapshot: Snapshot) {
        self.index = index
        let used = Set(index.pods.flatMap(\.families))
        chainRules = ChainRules(families: IPAddress.Family.allCases.filter(used.contains))
        namespaceLabels = Dictionary(snapshot.namespaces.map { ($0.name, $0.labels) }, uniquingKeysWith: { $1 })
        clusterPolicies = snapshot.clusterPolicies.sorted(by: ClusterNetworkPolicy.inEvaluationOrder)
        nodes = snapshot.nodes
        compiledClusterPolicies = Dictionary(index.clusterPolicies.enumerated().map { ($1.policy.name, $0) }, uniquingKeysWith: { $1 })
    }

    /// The name of the chain judging `pod` in `direction`, created on first
    /// use; nil when no policy judges it there.
    mutating func chain(for pod: Int, _ direction: Direction) -> String? {
        let isolating = index.isolatingPolicies(of: pod, direction)
        let audited = isolating.isEmpty ? index.auditedPolicies(of: pod, direction) : []
        let policies = ChainPolicies(
            direction, pod: index.pods[pod], namespaceLabels: namespaceLabels[index.pods[pod].id.namespace] ?? [:],
            isolating: isolating.map { index.policies[$0].policy }, audited: audited.map { index.policies[$0].policy },
            clusterPolicies: clusterPolicies)
        guard !policies.isEmpty else { return nil }
        return chain(ChainInputs(direction: direction, policies: policies, pod: index.pods[pod]), policies: policies, networkPolicyLayer: isolating + audited)
    }

    /// - Parameter numbers: the policies of the NetworkPolicy layer (in
    ///   force, or else audited), by number in the index: their peers fill sets.
    private mutating func chain(_ inputs: ChainInputs, policies: ChainPolicies, networkPolicyLayer numbers: [Int]) -> String {
        let name = inputs.chainName
        guard chains[name] == nil else { return name }
        if let next = inputs.next {
            _ = chain(next, policies: policies.next, networkPolicyLayer: numbers)
        }
        let direction = inputs.direction
        let body = chainRules.body(inputs, policies: policies) { key, position in
            switch position {
            case .networkPolicy(let policy, let rule, let peer)?:
                let peer = peer.map { index.policies[numbers[policy]].rules(direction)[rule].peers[$0] }
                return set(key, peer: .networkPolicy(peer))
            case .clusterPolicy(let name, let direction, let rule, let peer)?:
                guard let number = compiledClusterPolicies[name] else { return set(key, peer: nil) }
                return set(key, peer: .clusterPolicy(index.clusterPolicies[number].rules(direction)[rule].peers[peer]))
            case nil:
                return set(key, peer: nil)
            }
        }
        chains[name] = inputs.planChain(rules: body.rules, end: body.end)
        return name
    }

    /// The set of the addresses pods on `node` hold, for a pod-range guard.
    mutating func knownPods(_ key: SetKey, node: String) {
        let elements = index.pods.filter { $0.pod.spec.nodeName == node }.compactMap { key.element(for: $0) }
        sets[key.name] = AddressSet(name: key.name, family: key.family, kind: key.kind, elements: Array(Set(elements)).sorted(), origin: key.origin)
    }

    /// A peer as the engine compiled it, whose pods fill a set.
    private enum EnginePeer {
        /// A NetworkPolicy peer; nil for a rule without peers (every pod).
        case networkPolicy(CompiledPeer?)
        case clusterPolicy(CompiledClusterPeer)
    }

    /// The set for `key`, filled on first use from the pods the engine found
    /// for `peer`; without one (a peer of every pod), by matching the scope
    /// against every pod, or, for nodes, every node.
    private mutating func set(_ key: SetKey, peer: EnginePeer?) -> String {
        let name = key.name
        guard sets[name] == nil else { return name }
        let elements: [AddressSet.Element]
        if case .nodes(let selector) = key.scope {
            elements = nodes.filter { selector.matches($0.labels) }.flatMap(key.elements(for:))
        } else {
            elements = self.elements(key, peer: peer)
        }
        sets[name] = AddressSet(name: name, family: key.family, kind: key.kind, elements: Array(Set(elements)).sorted(), origin: key.origin)
        return name
    }

    /// The elements of a set of pods or prefixes.
    private func elements(_ key: SetKey, peer: EnginePeer?) -> [AddressSet.Element] {
        let elements: [AddressSet.Element]
        switch (key.kind, peer) {
        case (.prefixes, _):
            elements = key.prefixElements
        case (.addresses, .networkPolicy(let peer)?):
            elements = (peer?.selected.indices ?? []).compactMap { key.element(for: index.pods[$0]) }
        case (.services, .networkPolicy(let peer)?):
            let candidates = peer.map { Array($0.pods(key.family).indices) } ?? Array(index.pods.indices)
            elements = candidates.compactMap { key.element(for: index.pods[$0]) }
        case (_, .clusterPolicy(let peer)?):
            elements = peer.pods(key.family).indices.compactMap { key.element(for: index.pods[$0]) }
        case (_, nil):
            elements = index.pods.filter { picks(key.scope, $0) }.compactMap { key.element(for: $0) }
        }
        return elements
    }

    /// Whether a ClusterNetworkPolicy peer's scope picks `pod`, as `NodePlanner` decides it.
    private func picks(_ scope: PeerScope, _ pod: IndexedPod) -> Bool {
        scope.picks(pod, namespaceLabels: namespaceLabels[pod.id.namespace] ?? [:])
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
        let actionText: String
        switch action {
        case .allow: actionText = ""
        case .deny: actionText = " deny"
        case .goto(let chain): actionText = " goto " + chain
        }
        return "\(peerText) \(portText)\(actionText) (\(origin))"
    }
}
