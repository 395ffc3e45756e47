import NetpolModel

/// A snapshot judged twice: as the kernel enforces it, and as it would be
/// with its audited NetworkPolicies (`netpol.io/mode: audit`) enforced too.
/// `explain` and `matrix` show the second only where it differs.
public struct AuditComparison: Sendable {
    public let enforced: Engine
    /// nil when no NetworkPolicy is audited: the two would agree everywhere.
    public let wouldBe: Engine?
    private let audited: Set<PolicyID>

    public init(snapshot: Snapshot) {
        enforced = Engine(snapshot: snapshot)
        wouldBe = enforced.hasAuditedPolicies ? Engine(snapshot: snapshot, inForce: .auditedEnforced) : nil
        audited = Set(enforced.index.policies.filter { $0.policy.isAudited }.map(\.id))
    }

    /// What the audited policies would make of the connection of `now` (a
    /// verdict of `enforced`), when that differs from it; nil when they would
    /// not change the verdict.
    public func audit(_ now: Verdict) -> AuditedVerdict? {
        guard let wouldBe else { return nil }
        let then = wouldBe.verdict(for: now.connection)
        guard now.allowed != then.allowed else { return nil }
        var deciding: [PolicyID] = []
        for (side, wouldBeSide) in [(now.egress, then.egress), (now.ingress, then.ingress)] where side.allows != wouldBeSide.allows {
            // Allowed: the audited policies whose rules would allow it; denied: those that would isolate the pod.
            let candidates = wouldBeSide.allows ? wouldBeSide.allowingRules.map(\.policy) : wouldBeSide.isolatingPolicies
            for policy in candidates where audited.contains(policy) && !deciding.contains(policy) { deciding.append(policy) }
        }
        return AuditedVerdict(enforced: now, wouldBe: then, decidingPolicies: deciding, auditedPolicies: audited)
    }

    /// The pairs of `matrix` (the enforced engine's, over `family` as it was
    /// asked) whose verdict the audited policies would change, row by row.
    public func changes(in matrix: Matrix, family: IPAddress.Family? = nil) -> [AuditedVerdict] {
        guard let wouldBe else { return [] }
        let other = wouldBe.matrix(port: matrix.port, protocol: matrix.protocol, family: family)
        var changes: [AuditedVerdict] = []
        for (row, source) in matrix.pods.enumerated() {
            for (column, destination) in matrix.pods.enumerated() where matrix.allowed[row][column] != other.allowed[row][column] {
                let connection = Connection(from: .pod(source), to: .pod(destination), protocol: matrix.protocol, port: matrix.port, family: family)
                if let change = audit(enforced.verdict(for: connection)) { changes.append(change) }
            }
        }
        return changes
    }
}

/// A connection whose verdict the audited policies would change.
public struct AuditedVerdict: Hashable, Sendable {
    /// What is enforced.
    public let enforced: Verdict
    /// What it would be with every audited policy enforced.
    public let wouldBe: Verdict
    /// The audited policies that would decide it: on each side whose outcome
    /// changes, those whose rules would allow the connection, or, when it
    /// would be denied, those that would isolate the pod.
    public let decidingPolicies: [PolicyID]
    /// Every audited policy of the snapshot, to mark them where the would-be sides list them.
    let auditedPolicies: Set<PolicyID>
}
