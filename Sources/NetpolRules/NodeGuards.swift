import NetpolEngine
import NetpolModel

/// What a node's base chain checks before any pod's chain: settings of the
/// node and of the agent, not of policies.
public struct NodeGuards: Hashable, Sendable {
    /// The node's pod address ranges (Node `spec.podCIDRs` or `--pod-cidr`). An
    /// address in them that no pod on the node holds yet can neither open nor
    /// accept a connection: a pod is isolated before the agent has seen it.
    /// Empty: no such guard.
    public var podRanges: [CIDR]
    /// Only a TCP SYN may open a connection through the node. A connection
    /// whose conntrack entry the agent deleted (`--established=recheck`) cannot
    /// then be picked up again mid-stream, from either end.
    public var synOnlyOpens: Bool

    public init(podRanges: [CIDR] = [], synOnlyOpens: Bool = false) {
        self.podRanges = podRanges.sorted { ($0.network, $0.prefixLength) < ($1.network, $1.prefixLength) }
        self.synOnlyOpens = synOnlyOpens
    }

    /// The families the pod ranges cover, each with its ranges.
    var rangesByFamily: [(family: IPAddress.Family, ranges: [CIDR])] {
        IPAddress.Family.allCases.compactMap { family in
            let ranges = podRanges.filter { $0.family == family }
            return ranges.isEmpty ? nil : (family, ranges)
        }
    }

    /// The sets of addresses held by pods on `node`, one per family with pod ranges.
    func knownPodKeys(node: String) -> [SetKey] {
        rangesByFamily.map { Self.knownPodKey(node: node, family: $0.family) }
    }

    static func knownPodKey(node: String, family: IPAddress.Family) -> SetKey {
        SetKey(scope: .podsOnNode(node), namedPort: nil, family: family)
    }
}

/// One family's pod ranges and the set of the addresses pods on the node hold
/// in it: an address in the ranges but not in the set is isolated.
public struct PodRangeGuard: Hashable, Sendable {
    public var family: IPAddress.Family
    public var ranges: [CIDR]
    /// The name of the plan's set of known pod addresses on the node.
    public var knownPods: String
}

extension RulePlan {
    /// The pod-range guards of the base chain, one per family with ranges.
    public var podRangeGuards: [PodRangeGuard] {
        guards.rangesByFamily.map { family, ranges in
            PodRangeGuard(family: family, ranges: ranges, knownPods: NodeGuards.knownPodKey(node: node, family: family).name)
        }
    }
}
