import NetpolModel

/// The matrix of one protocol and port in compact form: pods that every verdict
/// treats alike as sources share a source class, pods treated alike as
/// destinations share a destination class, and one verdict per pair of classes
/// stands for every pair of their pods (a pod to itself is always allowed).
///
/// Policies select by labels and namespaces, so a cluster of 10,000 pods has far
/// fewer classes than pods: a diff or an HTML report judges class pairs, not the
/// 10^8 pod pairs.
public struct ClassMatrix: Sendable {
    public let `protocol`: PortProtocol
    public let port: IntOrString
    /// The pods covered (`Engine.matrixPods`); classes refer to them by position.
    public let pods: [PodID]
    /// The source class of each pod.
    public let sourceClasses: [Int]
    /// The destination class of each pod.
    public let destinationClasses: [Int]
    public let sourceClassCount: Int
    public let destinationClassCount: Int
    /// The verdict of source class `s` to destination class `d` at `s * destinationClassCount + d`.
    private let cells: [Bool]

    /// May the pod at `source` open a connection to the pod at `destination`?
    public func allowed(_ source: Int, _ destination: Int) -> Bool {
        source == destination || classAllowed(sourceClasses[source], destinationClasses[destination])
    }

    /// The verdict between two different pods of these classes.
    public func classAllowed(_ sourceClass: Int, _ destinationClass: Int) -> Bool {
        cells[sourceClass * destinationClassCount + destinationClass]
    }

    init(protocol proto: PortProtocol, port: IntOrString, pods: [PodID], sourceClasses: [Int], destinationClasses: [Int], cells: [Bool]) {
        self.protocol = proto
        self.port = port
        self.pods = pods
        self.sourceClasses = sourceClasses
        self.destinationClasses = destinationClasses
        sourceClassCount = (sourceClasses.max() ?? -1) + 1
        destinationClassCount = (destinationClasses.max() ?? -1) + 1
        self.cells = cells
    }
}

extension Engine {
    /// The matrix over `matrixPods` in classes; judged as `matrix(port:protocol:family:)`
    /// says.
    ///
    /// A pair is allowed when the source's egress admits the destination and the
    /// destination's ingress admits the source. Each pod's two sets of admitted
    /// peers are computed once (rules x pods, on bit sets); a source class is then
    /// the pods with the same egress set that lie in the same ingress sets of
    /// others, a destination class likewise, so one pair of members decides for
    /// every pair of their classes.
    public func classMatrix(port: IntOrString, protocol proto: PortProtocol = .tcp, family: IPAddress.Family? = nil) -> ClassMatrix {
        let members = index.pods.indices.filter { !index.pods[$0].isHostNetwork && !index.pods[$0].addresses.isEmpty }
        let ports: [Int?] = index.pods.map { pod in
            switch port {
            case .int(let number): return number
            case .string(let name): return pod.port(named: name, protocol: proto)
            }
        }
        let admitted = Admitted(engine: self, proto: proto, ports: ports, members: members)
        let families = IPAddress.Family.allCases

        var egressSets = PodSetTable(), ingressSets = PodSetTable()
        // Per member position, per family in `families`: the numbers of its sets.
        var egress: [[Int]] = [], ingress: [[Int]] = []
        for pod in members {
            egress.append(families.map { egressSets.number(of: allowedPeers(.egress, of: pod, family: $0, proto: proto, ports: ports, admitted: admitted)) })
            ingress.append(families.map { ingressSets.number(of: allowedPeers(.ingress, of: pod, family: $0, proto: proto, ports: ports, admitted: admitted)) })
        }

        var sourceKeys = ClassTable<SourceKey>(), destinationKeys = ClassTable<DestinationKey>()
        var sourceClasses: [Int] = [], destinationClasses: [Int] = []
        for (position, pod) in members.enumerated() {
            let families = index.pods[pod].families
            sourceClasses.append(sourceKeys.number(of: SourceKey(
                families: Set(families), egress: egress[position], inIngressOf: ingressSets.membership(of: pod)), position: position))
            destinationClasses.append(destinationKeys.number(of: DestinationKey(
                families: families, hasPort: ports[pod] != nil, ingress: ingress[position], inEgressOf: egressSets.membership(of: pod)), position: position))
        }

        var cells: [Bool] = []
        cells.reserveCapacity(sourceKeys.representatives.count * destinationKeys.representatives.count)
        for source in sourceKeys.representatives {
            for destination in destinationKeys.representatives {
                let (sourcePod, destinationPod) = (members[source], members[destination])
                guard ports[destinationPod] != nil,
                      let pairFamily = pairFamily(sourcePod, destinationPod, wanted: family),
                      let familyIndex = families.firstIndex(of: pairFamily)
                else { cells.append(false); continue }
                cells.append(egressSets.sets[egress[source][familyIndex]].contains(destinationPod)
                    && ingressSets.sets[ingress[destination][familyIndex]].contains(sourcePod))
            }
        }
        return ClassMatrix(protocol: proto, port: port, pods: members.map { index.pods[$0].id },
                           sourceClasses: sourceClasses, destinationClasses: destinationClasses, cells: cells)
    }

    /// Per egress rule, the destinations whose port the rule admits:
    /// independent of the source. A rule judges a port by the destination's
    /// container ports alone, so it is asked once per distinct list of them.
    fileprivate struct Admitted {
        /// Per NetworkPolicy, per egress rule.
        let byPolicy: [[PodSet]]
        /// Per cluster policy, per egress rule.
        let byClusterPolicy: [[PodSet]]

        init(engine: Engine, proto: PortProtocol, ports: [Int?], members: [Int]) {
            let pods = engine.index.pods
            var groups: [[ContainerPort]: (owner: Int, pods: PodSet)] = [:]
            for destination in members where ports[destination] != nil {
                let key = pods[destination].pod.spec.containers.flatMap(\.ports)
                groups[key, default: (destination, PodSet(capacity: pods.count))].pods.insert(destination)
            }
            func admitted(_ admits: (Int, IndexedPod) -> Bool) -> PodSet {
                var set = PodSet(capacity: pods.count)
                for group in groups.values {
                    if let port = ports[group.owner], admits(port, pods[group.owner]) { set.formUnion(group.pods) }
                }
                return set
            }
            byPolicy = engine.index.policies.map { policy in
                policy.egress.map { rule in admitted { rule.portMatch(proto, $0, destination: $1) != nil } }
            }
            byClusterPolicy = engine.index.clusterPolicies.map { policy in
                policy.egress.map { rule in admitted { rule.protocolMatch(proto, $0, destination: $1) != nil } }
            }
        }
    }

    /// The pods `pod` may receive from (ingress) or send to (egress) on the matrix
    /// port: the Admin tier's accepts, then (for what it left undecided) the
    /// NetworkPolicy answer when the pod is isolated, or else the Baseline tier's
    /// accepts and what no tier decided.
    private func allowedPeers(
        _ direction: Direction, of pod: Int, family: IPAddress.Family, proto: PortProtocol, ports: [Int?], admitted: Admitted
    ) -> PodSet {
        let count = index.pods.count
        var tiers = TierSets(capacity: count)
        evaluate(.admin, direction, of: pod, family: family, proto: proto, ports: ports, admitted: admitted, into: &tiers)
        let isolating = index.isolatingPolicies(of: pod, direction)
        guard isolating.isEmpty else {
            var allowed = PodSet(capacity: count)
            for number in isolating {
                for rule in index.policies[number].rules(direction) {
                    guard let peers = rule.peerPods[family] else { continue }
                    switch direction {
                    case .ingress:
                        // The port belongs to this pod, the destination.
                        guard let port = ports[pod], rule.portMatch(proto, port, destination: index.pods[pod]) != nil else { continue }
                        allowed.formUnion(peers)
                    case .egress:
                        allowed.formUnion(peers.intersection(admitted.byPolicy[number][rule.index]))
                    }
                }
            }
            tiers.allowed.formUnion(allowed.subtracting(tiers.decided))
            return tiers.allowed
        }
        evaluate(.baseline, direction, of: pod, family: family, proto: proto, ports: ports, admitted: admitted, into: &tiers)
        tiers.allowed.formUnion(PodSet.all(capacity: count).subtracting(tiers.decided))
        return tiers.allowed
    }

    /// Peers decided so far, and those of them allowed.
    private struct TierSets {
        var allowed: PodSet
        var decided: PodSet

        init(capacity: Int) {
            allowed = PodSet(capacity: capacity)
            decided = PodSet(capacity: capacity)
        }
    }

    /// Applies one tier's rules for `pod` in order: each rule takes the peers no
    /// earlier rule of the tier (nor an earlier tier) took. Accept and Deny
    /// decide them; Pass leaves them to the next layer.
    private func evaluate(
        _ tier: PolicyTier, _ direction: Direction, of pod: Int, family: IPAddress.Family, proto: PortProtocol,
        ports: [Int?], admitted: Admitted, into sets: inout TierSets
    ) {
        var taken = sets.decided
        for number in index.clusterPolicies(of: pod, tier, direction) {
            for rule in index.clusterPolicies[number].rules(direction) {
                guard var matched = rule.peerPods[family] else { continue }
                switch direction {
                case .ingress:
                    guard let port = ports[pod], rule.protocolMatch(proto, port, destination: index.pods[pod]) != nil else { continue }
                case .egress:
                    matched = matched.intersection(admitted.byClusterPolicy[number][rule.index])
                }
                matched = matched.subtracting(taken)
                taken.formUnion(matched)
                if rule.action == .pass { continue }
                sets.decided.formUnion(matched)
                if rule.action == .accept { sets.allowed.formUnion(matched) }
            }
        }
    }

    private func pairFamily(_ source: Int, _ destination: Int, wanted: IPAddress.Family?) -> IPAddress.Family? {
        let sourceFamilies = index.pods[source].families
        let destinationFamilies = index.pods[destination].families
        if let wanted {
            return sourceFamilies.contains(wanted) && destinationFamilies.contains(wanted) ? wanted : nil
        }
        return destinationFamilies.first { sourceFamilies.contains($0) }
    }
}

/// What decides a pod's verdicts as a source: its address families, its egress
/// sets, and which destinations' ingress sets hold it.
private struct SourceKey: Hashable {
    var families: Set<IPAddress.Family>
    var egress: [Int]
    var inIngressOf: [UInt64]
}

/// What decides a pod's verdicts as a destination: its families in order (the
/// first shared one is used), whether it has the port, its ingress sets, and
/// which sources' egress sets hold it.
private struct DestinationKey: Hashable {
    var families: [IPAddress.Family]
    var hasPort: Bool
    var ingress: [Int]
    var inEgressOf: [UInt64]
}

/// Distinct pod sets, numbered in order of first appearance.
private struct PodSetTable {
    private(set) var sets: [PodSet] = []
    private var numbers: [PodSet: Int] = [:]

    mutating func number(of set: PodSet) -> Int {
        if let number = numbers[set] { return number }
        numbers[set] = sets.count
        sets.append(set)
        return sets.count - 1
    }

    /// Which of the sets hold `pod`, one bit per set.
    func membership(of pod: Int) -> [UInt64] {
        var words = Array(repeating: UInt64(0), count: (sets.count + 63) / 64)
        for (number, set) in sets.enumerated() where set.contains(pod) {
            words[number >> 6] |= 1 << UInt64(number & 63)
        }
        return words
    }
}

/// Distinct keys numbered in order of first appearance, each with the position
/// of its first pod as representative.
private struct ClassTable<Key: Hashable> {
    private(set) var representatives: [Int] = []
    private var numbers: [Key: Int] = [:]

    mutating func number(of key: Key, position: Int) -> Int {
        if let number = numbers[key] { return number }
        numbers[key] = representatives.count
        representatives.append(position)
        return representatives.count - 1
    }
}
