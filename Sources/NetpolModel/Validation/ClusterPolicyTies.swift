/// Two ClusterNetworkPolicies of one tier with one priority whose subjects may
/// select a common pod. Upstream leaves their order undefined; netpol orders
/// them by name, so `netpol validate` warns about each such pair.
public struct ClusterPolicyTie: Hashable, Sendable, CustomStringConvertible {
    /// The policy that comes first (by name) and the one after it.
    public var first: ClusterNetworkPolicy
    public var second: ClusterNetworkPolicy

    /// Said of `second`, at `spec.priority`.
    public var description: String {
        "spec.priority: \(second.spec.tier) tier policy with the same priority (\(second.spec.priority)) as ClusterNetworkPolicy \(first.name), "
            + "and their subjects may select the same pods: upstream leaves their order undefined; netpol orders them by name (\(first.name) first)"
    }

    /// Every tie among `policies` (one per name; the last of a repeated name
    /// counts), in name order.
    public static func ties(among policies: [ClusterNetworkPolicy]) -> [ClusterPolicyTie] {
        let byName = Dictionary(policies.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        let sorted = byName.values.sorted { $0.name < $1.name }
        var ties: [ClusterPolicyTie] = []
        for (index, first) in sorted.enumerated() {
            for second in sorted[(index + 1)...]
            where second.spec.tier == first.spec.tier && second.spec.priority == first.spec.priority
                && first.spec.subject.mayOverlap(second.spec.subject) {
                ties.append(ClusterPolicyTie(first: first, second: second))
            }
        }
        return ties
    }
}

extension ClusterPolicySubject {
    /// Whether some pod could be a subject of both: their namespace selectors
    /// can hold for one namespace and their pod selectors for one pod. Exact
    /// over all possible labels (not just today's pods), so a tie it reports
    /// can happen as soon as such a pod is labelled so.
    public func mayOverlap(_ other: ClusterPolicySubject) -> Bool {
        guard let mine = selectors, let theirs = other.selectors else { return false }
        return mine.namespaces.mayOverlap(theirs.namespaces) && mine.pods.mayOverlap(theirs.pods)
    }

    /// The namespace and pod selectors it stands for; nil unless exactly one field is set.
    private var selectors: (namespaces: LabelSelector, pods: LabelSelector)? {
        switch (namespaces, pods) {
        case (let namespaces?, nil): return (namespaces, .everything)
        case (nil, let pods?): return (pods.namespaceSelector, pods.podSelector)
        default: return nil
        }
    }
}

extension LabelSelector {
    /// Whether some set of labels satisfies both selectors. Label keys are
    /// independent, so it is enough that, key by key, the requirements of both
    /// leave the label absent or some value allowed. An unknown operator
    /// matches nothing.
    public func mayOverlap(_ other: LabelSelector) -> Bool {
        var constraints: [String: LabelConstraint] = [:]
        let requirements = (matchLabels.map { LabelSelectorRequirement(key: $0.key, operator: .in, values: [$0.value]) } + matchExpressions)
            + (other.matchLabels.map { LabelSelectorRequirement(key: $0.key, operator: .in, values: [$0.value]) } + other.matchExpressions)
        for requirement in requirements {
            guard constraints[requirement.key, default: LabelConstraint()].add(requirement) else { return false }
        }
        return constraints.values.allSatisfy(\.isSatisfiable)
    }
}

/// What the requirements on one label key leave allowed.
private struct LabelConstraint {
    var mayBeAbsent = true
    var mayBePresent = true
    /// nil: any value not in `forbidden`.
    var allowed: Set<String>?
    var forbidden: Set<String> = []

    /// False for an operator that matches nothing.
    mutating func add(_ requirement: LabelSelectorRequirement) -> Bool {
        switch requirement.operator {
        case .in:
            mayBeAbsent = false
            allowed = allowed.map { $0.intersection(requirement.values) } ?? Set(requirement.values)
        case .notIn:
            forbidden.formUnion(requirement.values)
        case .exists:
            mayBeAbsent = false
        case .doesNotExist:
            mayBePresent = false
        default:
            return false
        }
        return true
    }

    var isSatisfiable: Bool {
        mayBeAbsent || (mayBePresent && (allowed.map { !$0.subtracting(forbidden).isEmpty } ?? true))
    }
}
