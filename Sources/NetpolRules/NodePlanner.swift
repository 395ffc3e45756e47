import NetpolEngine
import NetpolModel

/// One node's `RulePlan`, kept up to date change by change, with the
/// difference each batch of changes makes: the agent's way to do work in
/// proportion to what changed, not to the cluster's size.
///
/// Every distinct peer set keeps its elements counted per pod, so a pod event
/// re-evaluates only the sets that can see the pod's namespace (plus the few
/// that match by address), a namespace relabel only the sets whose namespace
/// selector changes its mind about it, and a policy event only the local pods of
/// its namespace and the chains built from it. Chains are keyed by their
/// `ChainInputs`, so a relabel into an existing combination moves a binding; a
/// chain no pod uses stays for `retention` before it is deleted, so a pod that
/// comes back finds it. Sets and chains nothing refers to go at the end of a
/// batch. `RuleCompiler` computes the same plan whole (retained chains aside),
/// which the property tests check after every change.
///
/// Set and chain names are hashes of what they stand for (48 bits); a
/// collision between two different origins is not handled, as in the whole
/// compile.
public struct NodePlanner: Sendable {
    public let node: String
    public let guards: NodeGuards
    /// Whether and how the kernel logs denied connections; nil: no logging.
    public let logging: DenyLogging?
    /// Whether the rules count the connections they decide (`RulePlan.countsConnections`).
    public let countsConnections: Bool
    /// How long a chain no pod uses is kept before it is deleted.
    public var retention: Duration

    // The cluster.
    private var pods: [PodID: IndexedPod] = [:]
    private var podsByNamespace: [String: Set<PodID>] = [:]
    /// Labels as declared, without the name label every namespace carries.
    private var namespaceLabels: [String: [String: String]] = [:]
    private var policies: [PolicyID: NetworkPolicy] = [:]
    /// Sorted, as the whole compile orders a pod's isolating policies.
    private var policiesByNamespace: [String: [PolicyID]] = [:]
    private var clusterPolicies: [String: ClusterNetworkPolicy] = [:]
    /// Sorted by tier, priority, name: the order chains evaluate them in.
    private var orderedClusterPolicies: [ClusterNetworkPolicy] = []
    private var nodes: [String: Node] = [:]
    /// How many pods have an address of each family: selector rules exist only for families in use.
    private var familyCounts: [IPAddress.Family: Int] = [:]

    // The plan.
    private var sets: [String: LiveSet] = [:]
    private var chains: [String: LiveChain] = [:]
    private var chainsByPolicy: [PolicyID: Set<String>] = [:]
    private var chainsByClusterPolicy: [String: Set<String>] = [:]
    /// Each local isolated pod's chain and bound addresses, per direction.
    private var bound: [Direction: [PodID: Bound]] = [.ingress: [:], .egress: [:]]
    private var bindings: Set<PodBinding> = []
    private var localPodsByNamespace: [String: Set<PodID>] = [:]

    // Which sets a pod event must look at.
    private var setsByScope: [PeerScope: Set<String>] = [:]
    private var scopesByNamespace: [String: Set<PeerScope>] = [:]
    private var scopesByNamespaceSelector: [LabelSelector: Set<PeerScope>] = [:]
    /// ipBlock and every-pod scopes of named-port sets: they match by address, in any namespace.
    private var addressScopes: Set<PeerScope> = []
    /// Scopes of `nodes` peers: a node event recounts them.
    private var nodeScopes: Set<PeerScope> = []

    /// What the current batch touched, as it was before the batch.
    private var before = BatchOrigin()
    /// Chains whose rules must be worked out again at the end of the batch.
    private var dirtyChains: Set<String> = []
    /// Chains a pod left during the batch: unused at its end, maybe.
    private var leftChains: Set<String> = []
    /// Chains no pod uses, kept for `retention`.
    private var unusedChains: Set<String> = []
    /// Sets whose last reference went during the batch.
    private var releasedSets: Set<String> = []

    private struct Bound: Hashable {
        /// The chain the pod is bound to, then those it goes on to (after an
        /// Admin tier, after an audit layer), which the pod uses too.
        var chains: [String]
        var addresses: [IPAddress]

        var chain: String { chains[0] }
    }

    private struct LiveSet {
        let key: SetKey
        /// Each element with the number of pods that put it there.
        var counts: [AddressSet.Element: Int]
        /// Chains that refer to it.
        var references = 0
    }

    private struct LiveChain {
        let inputs: ChainInputs
        /// nil until the end of the batch that created it works them out.
        var rules: [PlanRule]?
        var end: PlanRule.Action = .deny
        var sets: Set<String> = []
        /// Local pods bound to it, or to a chain that goes on to it.
        var pods = 0
        /// When the last pod left; nil while pods use it.
        var unusedSince: Duration?

        var planChain: PlanChain? { rules.map { inputs.planChain(rules: $0, end: end) } }
    }

    /// The state of everything a batch touched, recorded at the first touch.
    private struct BatchOrigin {
        var setExisted: [String: Bool] = [:]
        var elementPresent: [String: [AddressSet.Element: Bool]] = [:]
        var chain: [String: PlanChain?] = [:]
        var bindingPresent: [PodBinding: Bool] = [:]
    }

    public init(
        node: String, guards: NodeGuards = NodeGuards(), logging: DenyLogging? = nil, countsConnections: Bool = false, retention: Duration = .seconds(60)
    ) {
        self.node = node
        self.guards = guards
        self.logging = logging
        self.countsConnections = countsConnections
        self.retention = retention
        for key in guards.knownPodKeys(node: node) {
            // The base chain refers to it for as long as the planner lives.
            create(key)
            sets[key.name]?.references = 1
        }
    }

    /// A planner holding `snapshot`'s plan for `node`.
    public init(
        node: String, snapshot: Snapshot, guards: NodeGuards = NodeGuards(), logging: DenyLogging? = nil, countsConnections: Bool = false,
        retention: Duration = .seconds(60)
    ) {
        self.init(node: node, guards: guards, logging: logging, countsConnections: countsConnections, retention: retention)
        for namespace in snapshot.namespaces { apply(.upsert(.namespace(namespace))) }
        for node in snapshot.nodes { apply(.upsert(.node(node))) }
        for pod in snapshot.pods { apply(.upsert(.pod(pod))) }
        for policy in snapshot.policies { apply(.upsert(.networkPolicy(policy))) }
        for policy in snapshot.clusterPolicies { apply(.upsert(.clusterNetworkPolicy(policy))) }
        _ = commit(now: .zero)
    }

    // MARK: - Changes

    /// Takes one change into the plan; `commit` says what the batch changed.
    public mutating func apply(_ change: ClusterChange) {
        switch change {
        case .upsert(.namespace(let namespace)):
            var labels = namespace.labels
            labels[Snapshot.namespaceNameLabel] = nil
            setNamespace(namespace.name, labels: labels)
        case .upsert(.pod(let pod)):
            setPod(PodID(namespace: pod.namespace, name: pod.name), IndexedPod(pod))
        case .upsert(.networkPolicy(let policy)):
            setPolicy(PolicyID(namespace: policy.namespace, name: policy.name), policy)
        case .upsert(.clusterNetworkPolicy(let policy)):
            setClusterPolicy(policy.name, policy)
        case .upsert(.node(let node)):
            setNode(node.name, node)
        case .delete(let reference):
            switch reference.kind {
            case "Namespace": setNamespace(reference.name, labels: nil)
            case "Pod": setPod(PodID(namespace: reference.namespace, name: reference.name), nil)
            case "NetworkPolicy": setPolicy(PolicyID(namespace: reference.namespace, name: reference.name), nil)
            case "ClusterNetworkPolicy": setClusterPolicy(reference.name, nil)
            case "Node": setNode(reference.name, nil)
            default: break
            }
        }
    }

    private mutating func setNamespace(_ name: String, labels: [String: String]?) {
        let old = self.labels(of: name)
        namespaceLabels[name] = labels
        let new = self.labels(of: name)
        guard old != new else { return }
        if !clusterPolicies.isEmpty {
            // Cluster policies pick their subjects by namespace labels too.
            for pod in localPodsByNamespace[name] ?? [] { rebind(pod) }
        }
        for (selector, scopes) in scopesByNamespaceSelector where selector.matches(old) != selector.matches(new) {
            // The namespace's pods join (or leave) every scope of this selector that picks them.
            let joins = selector.matches(new)
            for id in podsByNamespace[name] ?? [] {
                guard let pod = pods[id] else { continue }
                for scope in scopes where scope.picksInNamespace(pod) {
                    recount(scope, old: joins ? nil : pod, new: joins ? pod : nil)
                }
            }
        }
    }

    private mutating func setPod(_ id: PodID, _ new: IndexedPod?) {
        let old = pods[id]
        pods[id] = new
        if new == nil { podsByNamespace[id.namespace]?.remove(id) } else { podsByNamespace[id.namespace, default: []].insert(id) }
        let familiesBefore = families
        for family in old?.families ?? [] { familyCounts[family, default: 0] -= 1 }
        for family in new?.families ?? [] { familyCounts[family, default: 0] += 1 }
        if families != familiesBefore { dirtyChains.formUnion(chains.keys) }

        let labels = self.labels(of: id.namespace)
        var scopes = scopesByNamespace[id.namespace] ?? []
        for (selector, selected) in scopesByNamespaceSelector where selector.matches(labels) { scopes.formUnion(selected) }
        scopes.formUnion(addressScopes)
        for scope in scopes {
            recount(scope, old: old.flatMap { picks(scope, $0) ? $0 : nil }, new: new.flatMap { picks(scope, $0) ? $0 : nil })
        }
        if let new, isLocal(new) { localPodsByNamespace[id.namespace, default: []].insert(id) } else { localPodsByNamespace[id.namespace]?.remove(id) }
        rebind(id)
    }

    private mutating func setPolicy(_ id: PolicyID, _ policy: NetworkPolicy?) {
        guard policies[id] != policy else { return }
        policies[id] = policy
        var names = policiesByNamespace[id.namespace, default: []]
        names.removeAll { $0 == id }
        if policy != nil { names.insert(id, at: names.firstIndex { $0 > id } ?? names.endIndex) }
        policiesByNamespace[id.namespace] = names
        dirtyChains.formUnion(chainsByPolicy[id] ?? [])
        for pod in localPodsByNamespace[id.namespace] ?? [] { rebind(pod) }
    }

    private mutating func setClusterPolicy(_ name: String, _ policy: ClusterNetworkPolicy?) {
        guard clusterPolicies[name] != policy else { return }
        clusterPolicies[name] = policy
        orderedClusterPolicies = clusterPolicies.values.sorted(by: ClusterNetworkPolicy.inEvaluationOrder)
        dirtyChains.formUnion(chainsByClusterPolicy[name] ?? [])
        // Cluster-scoped: any local pod may be a subject, before or after.
        for pod in localPodsByNamespace.values.flatMap({ $0 }) { rebind(pod) }
    }

    private mutating func setNode(_ name: String, _ node: Node?) {
        let old = nodes[name]
        guard old != node else { return }
        nodes[name] = node
        for scope in nodeScopes {
            guard case .nodes(let selector) = scope else { continue }
            let (was, now) = (old.flatMap { selector.matches($0.labels) ? $0 : nil }, node.flatMap { selector.matches($0.labels) ? $0 : nil })
            for set in setsByScope[scope] ?? [] {
                guard let key = sets[set]?.key else { continue }
                let (removed, added) = (was.map(key.elements(for:)) ?? [], now.map(key.elements(for:)) ?? [])
                guard removed != added else { continue }
                for element in removed { count(element, in: set, by: -1) }
                for element in added { count(element, in: set, by: 1) }
            }
        }
    }

    // MARK: - Bindings and chains

    /// Binds a local pod to the chains its isolating policies make, or unbinds it.
    private mutating func rebind(_ id: PodID) {
        let pod = pods[id].flatMap { isLocal($0) ? $0 : nil }
        for direction in Direction.allCases {
            var next: (sequence: [ChainInputs], bound: Bound)?
            if let pod, case let policies = chainPolicies(of: pod, direction), !policies.isEmpty {
                let sequence = ChainInputs(direction: direction, policies: policies, pod: pod).sequence
                next = (sequence, Bound(chains: sequence.map(\.chainName), addresses: pod.addresses))
            }
            let old = bound[direction]?[id]
            guard old != next?.bound else { continue }
            if let old {
                for address in old.addresses { setBinding(PodBinding(direction: direction, address: address, chain: old.chain, pod: id), present: false) }
                for chain in old.chains {
                    chains[chain]?.pods -= 1
                    leftChains.insert(chain)
                }
            }
            bound[direction]?[id] = next?.bound
            if let next {
                for inputs in next.sequence { use(inputs) }
                for address in next.bound.addresses { setBinding(PodBinding(direction: direction, address: address, chain: next.bound.chain, pod: id), present: true) }
            }
        }
    }

    private mutating func use(_ inputs: ChainInputs) {
        let name = inputs.chainName
        if chains[name] == nil {
            chains[name] = LiveChain(inputs: inputs)
            for policy in inputs.policies + inputs.audited { chainsByPolicy[policy, default: []].insert(name) }
            for policy in inputs.admin + inputs.baseline { chainsByClusterPolicy[policy, default: []].insert(name) }
            dirtyChains.insert(name)
        }
        chains[name]?.pods += 1
        chains[name]?.unusedSince = nil
        unusedChains.remove(name)
    }

    private mutating func setBinding(_ binding: PodBinding, present: Bool) {
        if before.bindingPresent[binding] == nil { before.bindingPresent[binding] = bindings.contains(binding) }
        if present { bindings.insert(binding) } else { bindings.remove(binding) }
    }

    /// The policies judging `pod` in `direction`, as the whole compile finds them.
    private func chainPolicies(of pod: IndexedPod, _ direction: Direction) -> ChainPolicies {
        let selecting = (policiesByNamespace[pod.id.namespace] ?? []).compactMap { policies[$0] }.filter { policy in
            policy.isolatedDirections.contains(direction) && policy.spec.podSelector.matches(pod.labels)
        }
        return ChainPolicies(
            direction, pod: pod, namespaceLabels: labels(of: pod.id.namespace),
            isolating: selecting.filter { PoliciesInForce.enforced.includes($0) }, audited: selecting.filter(\.isAudited),
            clusterPolicies: orderedClusterPolicies)
    }

    /// Works out the rules of a new or changed chain, taking and giving back sets.
    private mutating func compute(chain name: String) {
        guard let chain = chains[name] else { return }
        guard let policies = ChainPolicies(chain.inputs, networkPolicies: self.policies, clusterPolicies: clusterPolicies) else {
            // A policy it was made of is gone: no pod can use it again.
            remove(chain: name)
            return
        }
        var used: [String: SetKey] = [:]
        let (rules, end) = ChainRules(families: families).body(chain.inputs, policies: policies) { key, _ in
            used[key.name] = key
            return key.name
        }
        let names = Set(used.keys)
        guard rules != chain.rules || end != chain.end || names != chain.sets else { return }
        touch(chain: name)
        for (set, key) in used where !chain.sets.contains(set) {
            if sets[set] == nil { create(key) }
            sets[set]?.references += 1
        }
        for set in chain.sets.subtracting(names) { release(set: set) }
        chains[name]?.rules = rules
        chains[name]?.end = end
        chains[name]?.sets = names
    }

    private mutating func release(set name: String) {
        sets[name]?.references -= 1
        if sets[name]?.references == 0 { releasedSets.insert(name) }
    }

    private mutating func remove(chain name: String) {
        unusedChains.remove(name)
        guard let chain = chains.removeValue(forKey: name) else { return }
        if chain.rules != nil && before.chain[name] == nil { before.chain[name] = .some(chain.planChain) }
        for set in chain.sets { release(set: set) }
        for policy in chain.inputs.policies + chain.inputs.audited { chainsByPolicy[policy]?.remove(name) }
        for policy in chain.inputs.admin + chain.inputs.baseline { chainsByClusterPolicy[policy]?.remove(name) }
    }

    private mutating func touch(chain name: String) {
        if before.chain[name] == nil { before.chain[name] = .some(chains[name]?.planChain) }
    }

    // MARK: - Sets

    private mutating func create(_ key: SetKey) {
        let name = key.name
        if before.setExisted[name] == nil { before.setExisted[name] = false }
        var set = LiveSet(key: key, counts: [:])
        if key.kind == .prefixes {
            for element in key.prefixElements { set.counts[element] = 1 }
        } else if case .nodes(let selector) = key.scope {
            for node in nodes.values where selector.matches(node.labels) {
                for element in key.elements(for: node) { set.counts[element, default: 0] += 1 }
            }
            setsByScope[key.scope, default: []].insert(name)
            nodeScopes.insert(key.scope)
        } else {
            for id in candidates(key.scope) {
                guard let pod = pods[id], picks(key.scope, pod), let element = key.element(for: pod) else { continue }
                set.counts[element, default: 0] += 1
            }
            setsByScope[key.scope, default: []].insert(name)
            switch key.scope {
            case .podsIn(let namespace, _): scopesByNamespace[namespace, default: []].insert(key.scope)
            case .podsInNamespaces(_, let namespaces): scopesByNamespaceSelector[namespaces, default: []].insert(key.scope)
            case .block, .networks, .everyPod, .podsOnNode: addressScopes.insert(key.scope)
            case .nodes: break
            }
        }
        sets[name] = set
    }

    private mutating func remove(set name: String) {
        guard let set = sets.removeValue(forKey: name) else { return }
        if before.setExisted[name] == nil { before.setExisted[name] = true }
        before.elementPresent[name] = nil
        guard set.key.kind != .prefixes else { return }
        let scope = set.key.scope
        setsByScope[scope]?.remove(name)
        guard setsByScope[scope]?.isEmpty ?? true else { return }
        setsByScope[scope] = nil
        switch scope {
        case .podsIn(let namespace, _): scopesByNamespace[namespace]?.remove(scope)
        case .podsInNamespaces(_, let namespaces):
            scopesByNamespaceSelector[namespaces]?.remove(scope)
            if scopesByNamespaceSelector[namespaces]?.isEmpty ?? false { scopesByNamespaceSelector[namespaces] = nil }
        case .block, .networks, .everyPod, .podsOnNode: addressScopes.remove(scope)
        case .nodes: nodeScopes.remove(scope)
        }
    }

    /// Moves a pod's elements in every set of `scope` from what `old` put there to what `new` does.
    private mutating func recount(_ scope: PeerScope, old: IndexedPod?, new: IndexedPod?) {
        for name in setsByScope[scope] ?? [] {
            guard let key = sets[name]?.key else { continue }
            let (was, now) = (old.flatMap(key.element(for:)), new.flatMap(key.element(for:)))
            guard was != now else { continue }
            if let was { count(was, in: name, by: -1) }
            if let now { count(now, in: name, by: 1) }
        }
    }

    private mutating func count(_ element: AddressSet.Element, in name: String, by delta: Int) {
        guard let current = sets[name]?.counts[element, default: 0] else { return }
        if before.setExisted[name] != false, before.elementPresent[name, default: [:]][element] == nil {
            before.elementPresent[name, default: [:]][element] = current > 0
        }
        sets[name]?.counts[element] = current + delta > 0 ? current + delta : nil
    }

    /// The pods a scope may pick, before its selectors are asked.
    private func candidates(_ scope: PeerScope) -> [PodID] {
        switch scope {
        case .podsIn(let namespace, _): return Array(podsByNamespace[namespace] ?? [])
        case .podsInNamespaces(_, let selector):
            return podsByNamespace.filter { selector.matches(labels(of: $0.key)) }.flatMap(\.value)
        case .block, .networks, .everyPod, .podsOnNode: return Array(pods.keys)
        case .nodes: return []
        }
    }

    private func picks(_ scope: PeerScope, _ pod: IndexedPod) -> Bool {
        scope.picks(pod, namespaceLabels: labels(of: pod.id.namespace))
    }

    // MARK: - Reading

    private func labels(of namespace: String) -> [String: String] {
        var labels = namespaceLabels[namespace] ?? [:]
        labels[Snapshot.namespaceNameLabel] = namespace
        return labels
    }

    private var families: [IPAddress.Family] {
        IPAddress.Family.allCases.filter { familyCounts[$0, default: 0] > 0 }
    }

    private func isLocal(_ pod: IndexedPod) -> Bool {
        pod.pod.spec.nodeName == node && !pod.isHostNetwork && !pod.addresses.isEmpty
    }

    /// The whole plan as it stands, chains kept for reuse included.
    public var plan: RulePlan {
        RulePlan(
            node: node,
            sets: sets.values.map { AddressSet(name: $0.key.name, family: $0.key.family, kind: $0.key.kind, elements: $0.counts.keys.sorted(), origin: $0.key.origin) }
                .sorted { $0.name < $1.name },
            chains: chains.values.compactMap(\.planChain).sorted { $0.name < $1.name },
            bindings: bindings.sorted(by: PodBinding.inPlanOrder),
            guards: guards,
            logging: logging,
            countsConnections: countsConnections)
    }

    // MARK: - Ending a batch

    /// Whether a chain has been unused for `retention` by `now`: a commit would delete it.
    public func hasExpiredChains(now: Duration) -> Bool {
        unusedChains.contains { hasExpired($0, now: now) }
    }

    /// Whether the unused chain `name` has been kept for `retention` by `now`.
    private func hasExpired(_ name: String, now: Duration) -> Bool {
        chains[name]?.unusedSince.map { now - $0 >= retention } ?? true
    }

    /// Ends a batch of changes: works out the rules of new and changed chains,
    /// deletes chains unused for `retention` (as of `now`) and sets nothing uses,
    /// and returns what the batch changed, for the kernel.
    public mutating func commit(now: Duration) -> PlanDiff {
        for name in dirtyChains.union(leftChains).sorted() {
            guard let chain = chains[name] else { continue }
            if chain.pods == 0 && chain.rules == nil {
                // Made and left within the batch: the kernel never had it.
                remove(chain: name)
                continue
            }
            if dirtyChains.contains(name) { compute(chain: name) }
            // `compute` may have removed it (a policy it was made of is gone).
            if let live = chains[name], live.pods == 0, live.unusedSince == nil {
                chains[name]?.unusedSince = now
                unusedChains.insert(name)
            }
        }
        (dirtyChains, leftChains) = ([], [])
        for name in unusedChains where hasExpired(name, now: now) { remove(chain: name) }
        for name in releasedSets where (sets[name]?.references ?? 1) <= 0 { remove(set: name) }
        releasedSets = []
        return takeDifference()
    }

    private mutating func takeDifference() -> PlanDiff {
        var diff = PlanDiff()
        for (name, existed) in before.setExisted.sorted(by: { $0.key < $1.key }) {
            switch (existed, sets[name]) {
            case (false, let set?):
                diff.addedSets.append(AddressSet(name: name, family: set.key.family, kind: set.key.kind, elements: set.counts.keys.sorted(), origin: set.key.origin))
            case (true, nil): diff.removedSets.append(name)
            default: break
            }
        }
        for (name, elements) in before.elementPresent.sorted(by: { $0.key < $1.key }) {
            guard before.setExisted[name] == nil, let set = sets[name] else { continue }
            var change = PlanDiff.ElementChange(set: name, family: set.key.family, added: [], removed: [])
            for (element, was) in elements {
                let now = set.counts[element] != nil
                if now && !was { change.added.append(element) }
                if was && !now { change.removed.append(element) }
            }
            change.added.sort()
            change.removed.sort()
            if !change.added.isEmpty || !change.removed.isEmpty { diff.elementChanges.append(change) }
        }
        if diff.elementChanges.contains(where: { !$0.added.isEmpty }) {
            let changed = Set(diff.elementChanges.map(\.set))
            diff.denyingSets = Set(chains.values.compactMap(\.planChain).flatMap(\.denyingSets)).intersection(changed)
        }
        for (name, was) in before.chain.sorted(by: { $0.key < $1.key }) {
            let now = chains[name]?.planChain
            switch (was, now) {
            case (nil, let chain?): diff.addedChains.append(chain)
            case (_?, nil): diff.removedChains.append(name)
            case (let old?, let chain?) where old != chain: diff.changedChains.append(chain)
            default: break
            }
        }
        for (binding, was) in before.bindingPresent where was != bindings.contains(binding) {
            if was { diff.removedBindings.append(binding) } else { diff.addedBindings.append(binding) }
        }
        diff.addedBindings.sort(by: PodBinding.inPlanOrder)
        diff.removedBindings.sort(by: PodBinding.inPlanOrder)
        before = BatchOrigin()
        return diff
    }
}
