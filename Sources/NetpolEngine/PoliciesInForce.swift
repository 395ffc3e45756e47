import NetpolModel

/// Which NetworkPolicies decide traffic: the one definition the engine, the
/// whole compile and the incremental planner share. A policy not in force
/// neither isolates a pod nor allows anything to it.
public enum PoliciesInForce: Sendable, Hashable {
    /// What the kernel enforces: every NetworkPolicy but the audited ones
    /// (`netpol.io/mode: audit`).
    case enforced
    /// Every NetworkPolicy, the audited ones as if they were enforced: what
    /// the audited policies would do.
    case auditedEnforced

    /// Whether `policy` decides traffic under this choice.
    package func includes(_ policy: NetworkPolicy) -> Bool {
        switch self {
        case .enforced: return !policy.isAudited
        case .auditedEnforced: return true
        }
    }

    /// The directions `policy` isolates its pods in under this choice:
    /// `spec.policyTypes` after defaulting, none when it is not in force.
    package func isolatedDirections(of policy: NetworkPolicy) -> Set<Direction> {
        includes(policy) ? policy.isolatedDirections : []
    }
}
