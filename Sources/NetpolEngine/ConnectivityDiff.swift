import NetpolModel

/// The connectivity a change opens and closes: two snapshots judged on the same
/// protocols and ports, pair by pair for the pods that exist on both sides
/// (matched by namespace and name); pods on one side only are listed apart.
///
/// Works on class matrices: a pair of a source class and a destination class
/// of both sides changes as a whole, so the cost follows the number of classes,
/// not pods squared.
public struct ConnectivityDiff: Sendable {
    /// A protocol and port number, as containers declare them.
    public struct PortKey: Hashable, Comparable, Sendable, CustomStringConvertible {
        public let `protocol`: PortProtocol
        public let port: Int

        public init(_ proto: PortProtocol, _ port: Int) {
            self.protocol = proto
            self.port = port
        }

        public var description: String { "\(`protocol`)/\(port)" }

        public static func < (lhs: PortKey, rhs: PortKey) -> Bool {
            (lhs.protocol.rawValue, lhs.port) < (rhs.protocol.rawValue, rhs.port)
        }
    }

    /// Pairs that changed alike for the same reason: every source to every
    /// destination, except a pod to itself.
    public struct Change: Sendable {
        /// True when the pairs gained access, false when they lost it.
        public let opened: Bool
        public let port: PortKey
        public let sources: [PodID]
        public let destinations: [PodID]
        /// The verdicts of one pair of the block, on each side: every pair has
        /// the same reasons, with its own names.
        public let before: Verdict
        public let after: Verdict

        /// Every changed pair, sources in order, then destinations.
        public var pairs: [(from: PodID, to: PodID)] {
            sources.flatMap { source in destinations.filter { $0 != source }.map { (source, $0) } }
        }

        public var pairCount: Int {
            let shared = Set(sources).intersection(destinations).count
            return sources.count * destinations.count - shared
        }

        /// The sides whose decision changed, each as `source egress: denied (isolated
        /// by x/deny) before, allowed by x/allow spec.egress[0] after`; it names no pod,
        /// as it holds for every pair of the block.
        public var cause: String {
            let changed = [(before.egress, after.egress), (before.ingress, after.ingress)].filter { $0.0.allows != $0.1.allows }
            guard !changed.isEmpty else {
                return "the verdict changed without a policy: see the explanation after the change"
            }
            return changed.map { old, new in
                let title = new.direction == .egress ? "source egress" : "destination ingress"
                return "\(title): \(Self.summary(old)) before, \(Self.summary(new)) after"
            }.joined(separator: "; ")
        }

        /// The policies behind the change: on each side whose decision changed,
        /// those that isolate the pod or allow the connection, before or after.
        public var policies: [PolicyID] {
            let changed = [(before.egress, after.egress), (before.ingress, after.ingress)].filter { $0.0.allows != $0.1.allows }
            let names = changed.flatMap { [$0.0, $0.1] }.flatMap { $0.isolatingPolicies + $0.allowingRules.map(\.policy) }
            return Array(Set(names)).sorted()
        }

        /// The cluster policies behind the change, by name: on each side whose
        /// decision changed, those whose rule decided or passed, before or after.
        public var clusterPolicies: [String] {
            let changed = [(before.egress, after.egress), (before.ingress, after.ingress)].filter { $0.0.allows != $0.1.allows }
            let names = changed.flatMap { [$0.0, $0.1] }.flatMap { side in
                [side.admin, side.baseline].compactMap { $0?.match?.policy.name }
            }
            return Array(Set(names)).sorted()
        }

        private static func summary(_ side: SideDecision) -> String {
            switch side.decidedBy {
            case .adminTier(let match), .baselineTier(let match):
                return (match.action == .accept ? "accepted" : "denied") + " by \(match.policy) \(match.path)"
            case .nothing, .networkPolicy, .defaultAllow:
                break
            }
            switch side.outcome {
            case .notApplicable(let reason): return "not restricted (\(reason))"
            case .notIsolated: return "not isolated"
            case .allowed: return "allowed by " + side.allowingRules.map { "\($0.policy) \($0.path)" }.joined(separator: ", ")
            case .denied: return "denied (isolated by " + side.isolatingPolicies.map(\.description).joined(separator: ", ") + ")"
            }
        }
    }

    /// The protocols and ports judged, in order.
    public let ports: [PortKey]
    /// Blocks of changed pairs, by port, then opened before closed.
    public let changes: [Change]
    /// Pods judged only after the change (new, or given an address).
    public let addedPods: [PodID]
    /// Pods judged only before the change.
    public let removedPods: [PodID]

    public var opened: [Change] { changes.filter(\.opened) }
    public var closed: [Change] { changes.filter { !$0.opened } }
    public var isEmpty: Bool { changes.isEmpty && addedPods.isEmpty && removedPods.isEmpty }

    /// Judges every port any pod declares (by number, on each protocol it is
    /// declared with) on either side, plus `extraPorts`.
    public init(before: Engine, after: Engine, extraPorts: [PortKey] = []) {
        let ports = Set(before.declaredPorts + after.declaredPorts + extraPorts).sorted()
        self.ports = ports
        let beforePods = Set(before.matrixPods), afterPods = Set(after.matrixPods)
        addedPods = afterPods.subtracting(beforePods).sorted()
        removedPods = beforePods.subtracting(afterPods).sorted()
        changes = ports.flatMap { Self.changes(on: $0, before: before, after: after) }
    }

    /// The changed blocks on one port: pods are grouped by their class on both
    /// sides, and each pair of groups is judged once. Groups are split further by
    /// the policies isolating their pods on each side, so that a block's cause
    /// names the isolating policies of every pair in it.
    private static func changes(on port: PortKey, before: Engine, after: Engine) -> [Change] {
        let old = before.classMatrix(port: .int(port.port), protocol: port.protocol)
        let new = after.classMatrix(port: .int(port.port), protocol: port.protocol)
        let newPositions = Dictionary(uniqueKeysWithValues: new.pods.enumerated().map { ($1, $0) })
        var sourceGroups = Groups(), destinationGroups = Groups()
        for (oldPosition, pod) in old.pods.enumerated() {
            guard let newPosition = newPositions[pod] else { continue }
            sourceGroups.add(pod, key: [old.sourceClasses[oldPosition], new.sourceClasses[newPosition]]
                + isolation(of: pod, .egress, before: before, after: after))
            destinationGroups.add(pod, key: [old.destinationClasses[oldPosition], new.destinationClasses[newPosition]]
                + isolation(of: pod, .ingress, before: before, after: after))
        }
        var changes: [Change] = []
        for (sourceKey, sources) in zip(sourceGroups.keys, sourceGroups.members) {
            for (destinationKey, destinations) in zip(destinationGroups.keys, destinationGroups.members) {
                let wasAllowed = old.classAllowed(sourceKey[0], destinationKey[0])
                let isAllowed = new.classAllowed(sourceKey[1], destinationKey[1])
                guard wasAllowed != isAllowed, let pair = distinctPair(sources, destinations) else { continue }
                let connection = Connection(from: .pod(pair.0), to: .pod(pair.1), protocol: port.protocol, port: .int(port.port))
                changes.append(Change(opened: isAllowed, port: port, sources: sources, destinations: destinations,
                                      before: before.verdict(for: connection), after: after.verdict(for: connection)))
            }
        }
        return changes.filter(\.opened) + changes.filter { !$0.opened }
    }

    /// The numbers of the policies isolating `pod` and of the cluster policies
    /// whose subject it is, before, then after, each list closed by a negative mark.
    private static func isolation(of pod: PodID, _ direction: Direction, before: Engine, after: Engine) -> [Int] {
        func policies(_ engine: Engine) -> [Int] {
            guard let number = engine.index.podNumbers[pod] else { return [-1, -2] }
            return engine.index.isolatingPolicies(of: number, direction) + [-1]
                + PolicyTier.supported.flatMap { engine.index.clusterPolicies(of: number, $0, direction) } + [-2]
        }
        return policies(before) + policies(after)
    }

    /// A source and a destination that are not the same pod, if the groups have one.
    private static func distinctPair(_ sources: [PodID], _ destinations: [PodID]) -> (PodID, PodID)? {
        for source in sources.prefix(2) {
            if let destination = destinations.prefix(2).first(where: { $0 != source }) { return (source, destination) }
        }
        return nil
    }

    /// Pods grouped by a key, groups and members in order of first appearance.
    private struct Groups {
        private(set) var keys: [[Int]] = []
        private(set) var members: [[PodID]] = []
        private var numbers: [[Int]: Int] = [:]

        mutating func add(_ pod: PodID, key: [Int]) {
            if let number = numbers[key] {
                members[number].append(pod)
                return
            }
            numbers[key] = keys.count
            keys.append(key)
            members.append([pod])
        }
    }
}

extension Engine {
    /// Every protocol and port number a matrix pod's containers declare.
    public var declaredPorts: [ConnectivityDiff.PortKey] {
        let pods = index.pods.filter { !$0.isHostNetwork && !$0.addresses.isEmpty }
        let ports = pods.flatMap { $0.pod.spec.containers.flatMap(\.ports) }.map { ConnectivityDiff.PortKey($0.protocol, $0.containerPort) }
        return Set(ports).sorted()
    }
}
