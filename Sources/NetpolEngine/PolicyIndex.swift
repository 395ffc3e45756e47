import NetpolModel

/// A snapshot prepared for questions: every selector matched against every pod
/// once, each rule's peers as pod sets, each pod's isolating policies listed.
/// Built once per snapshot; answering a question then touches no selector.
package struct PolicyIndex: Sendable {
    package let pods: [IndexedPod]
    package let podNumbers: [PodID: Int]
    package let podsByAddress: [IPAddress: Int]
    package let policies: [CompiledPolicy]
    /// Which policies decide traffic: audited ones only when asked for.
    package let inForce: PoliciesInForce
    /// For each pod number, the policies in force that isolate it, per direction.
    let isolating: [Direction: [[Int]]]
    /// For each pod number, the audited policies selecting it, per direction.
    let audited: [Direction: [[Int]]]
    /// Admin tier, then Baseline, each in evaluation order (priority, then name).
    package let clusterPolicies: [CompiledClusterPolicy]
    /// For each tier, direction and pod number, the cluster policies with rules
    /// in that direction whose subject is the pod, in evaluation order.
    private let subjectOf: [PolicyTier: [Direction: [[Int]]]]

    package init(_ snapshot: Snapshot, inForce: PoliciesInForce = .enforced) {
        self.inForce = inForce
        let pods = snapshot.pods.map(IndexedPod.init)
        self.pods = pods
        podNumbers = Dictionary(uniqueKeysWithValues: pods.enumerated().map { ($1.id, $0) })
        var byAddress: [IPAddress: Int] = [:]
        for (number, pod) in pods.enumerated() where !pod.isHostNetwork {
            for address in pod.addresses { byAddress[address] = number }
        }
        podsByAddress = byAddress

        var selectors = SelectorCache(pods: pods, namespaces: snapshot.namespaces)
        policies = snapshot.policies.map { CompiledPolicy($0, pods: pods, selectors: &selectors) }
        isolating = Self.targetLists(policies, pods: pods.count) { inForce.isolatedDirections(of: $0.policy) }
        audited = Self.targetLists(policies, pods: pods.count) { $0.policy.isAudited ? $0.directions : [] }

        clusterPolicies = snapshot.clusterPolicies
            .filter { PolicyTier.supported.contains($0.spec.tier) }
            .sorted { ($0.spec.tier, $0.spec.priority, $0.name) < ($1.spec.tier, $1.spec.priority, $1.name) }
            .map { CompiledClusterPolicy($0, pods: pods, nodes: snapshot.nodes, selectors: &selectors) }
        var subjectOf: [PolicyTier: [Direction: [[Int]]]] = [:]
        for tier in PolicyTier.supported {
            for direction in Direction.allCases {
                var lists = Array(repeating: [Int](), count: pods.count)
                for (number, policy) in clusterPolicies.enumerated() where policy.policy.spec.tier == tier && !policy.rules(direction).isEmpty {
                    for pod in policy.subjects.indices { lists[pod].append(number) }
                }
                subjectOf[tier, default: [:]][direction] = lists
            }
        }
        self.subjectOf = subjectOf
    }

    /// The cluster policies of `tier` with `direction` rules whose subject is `pod`, in evaluation order.
    package func clusterPolicies(of pod: Int, _ tier: PolicyTier, _ direction: Direction) -> [Int] {
        subjectOf[tier]?[direction]?[pod] ?? []
    }

    /// The policies in force that isolate `pod` in `direction`, in snapshot order.
    package func isolatingPolicies(of pod: Int, _ direction: Direction) -> [Int] {
        isolating[direction]?[pod] ?? []
    }

    /// The audited policies that select `pod` for `direction`, in the order of
    /// `isolatingPolicies`, whether or not they are in force: what an audit
    /// chain judges the pod by.
    package func auditedPolicies(of pod: Int, _ direction: Direction) -> [Int] {
        audited[direction]?[pod] ?? []
    }

    /// Per direction, per pod number, the policies whose `directions` name the
    /// direction and whose targets hold the pod, in policy order.
    private static func targetLists(
        _ policies: [CompiledPolicy], pods: Int, directions: (CompiledPolicy) -> Set<Direction>
    ) -> [Direction: [[Int]]] {
        var lists: [Direction: [[Int]]] = [:]
        for direction in Direction.allCases {
            var byPod = Array(repeating: [Int](), count: pods)
            for (number, policy) in policies.enumerated() where directions(policy).contains(direction) {
                for pod in policy.targets.indices { byPod[pod].append(number) }
            }
            lists[direction] = byPod
        }
        return lists
    }
}

/// A pod with what questions need precomputed. A class: it is read in hot loops
/// and copying the pod it wraps would cost more than the work.
package final class IndexedPod: Sendable {
    package let id: PodID
    package let pod: Pod
    /// The pod's addresses; empty for a pod without an IP, a terminating pod
    /// and a finished one (`Succeeded`, `Failed`: its IP may already be a new
    /// pod's), which contribute no addresses.
    package let addresses: [IPAddress]
    /// The families of `addresses`, first address first.
    package let families: [IPAddress.Family]
    /// The addresses the pod holds on its node: a terminating pod keeps its IP
    /// (and its connections) until it finishes or is gone. What a pod-range
    /// guard knows.
    package let heldAddresses: [IPAddress]

    package init(_ pod: Pod) {
        self.pod = pod
        id = PodID(namespace: pod.namespace, name: pod.name)
        let finished = ["Succeeded", "Failed"].contains(pod.status.phase)
        heldAddresses = finished ? [] : pod.status.addresses.compactMap { IPAddress($0) }
        addresses = pod.metadata.deletionTimestamp == nil ? heldAddresses : []
        var families: [IPAddress.Family] = []
        for address in addresses where !families.contains(address.family) { families.append(address.family) }
        self.families = families
    }

    package var isHostNetwork: Bool { pod.spec.hostNetwork }
    package var labels: [String: String] { pod.labels }

    package func address(_ family: IPAddress.Family) -> IPAddress? {
        addresses.first { $0.family == family }
    }

    /// The number of the container port called `name` on `proto`, if the pod has one.
    package func port(named name: String, protocol proto: PortProtocol) -> Int? {
        for container in pod.spec.containers {
            for port in container.ports where port.name == name && port.protocol == proto {
                return port.containerPort
            }
        }
        return nil
    }
}

/// Matches each distinct selector once per snapshot, scanning only the pods of
/// the namespaces in scope.
struct SelectorCache {
    private let podCount: Int
    /// Per namespace, the pods a selector may pick (not on the host network,
    /// with an address) and their labels.
    private let selectable: [String: [(number: Int, labels: [String: String])]]
    private let namespaceLabels: [String: [String: String]]
    private var namespaceMatches: [LabelSelector: Set<String>] = [:]
    private var podMatches: [PodSelectorKey: PodSet] = [:]

    private struct PodSelectorKey: Hashable {
        var namespaces: Set<String>
        var selector: LabelSelector
    }

    init(pods: [IndexedPod], namespaces: [Namespace]) {
        podCount = pods.count
        var selectable: [String: [(number: Int, labels: [String: String])]] = [:]
        for number in pods.indices where !pods[number].isHostNetwork && !pods[number].addresses.isEmpty {
            selectable[pods[number].id.namespace, default: []].append((number, pods[number].labels))
        }
        self.selectable = selectable
        namespaceLabels = Dictionary(uniqueKeysWithValues: namespaces.map { ($0.name, $0.labels) })
    }

    /// Names of the namespaces whose labels match.
    mutating func namespaces(matching selector: LabelSelector) -> Set<String> {
        if let cached = namespaceMatches[selector] { return cached }
        let names = Set(namespaceLabels.filter { selector.matches($0.value) }.keys)
        namespaceMatches[selector] = names
        return names
    }

    /// Pods in `namespaces` whose labels match. Host-network pods are never
    /// selected, nor pods without an address (they have nothing to match).
    mutating func pods(matching selector: LabelSelector, in namespaces: Set<String>) -> PodSet {
        let key = PodSelectorKey(namespaces: namespaces, selector: selector)
        if let cached = podMatches[key] { return cached }
        var set = PodSet(capacity: podCount)
        for namespace in namespaces {
            for pod in selectable[namespace] ?? [] where selector.matches(pod.labels) {
                set.insert(pod.number)
            }
        }
        podMatches[key] = set
        return set
    }
}
