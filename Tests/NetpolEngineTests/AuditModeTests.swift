import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

/// NetworkPolicies annotated `netpol.io/mode: audit`: left out of what is
/// enforced, counted in what would be.
@Suite("Audited policies in the engine")
struct AuditModeTests {
    static func audited(_ policy: NetworkPolicy) -> NetworkPolicy {
        var policy = policy
        policy.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit"
        return policy
    }

    static let bToA = Connection(from: .pod(PodID(namespace: "x", name: "b")), to: .pod(PodID(namespace: "x", name: "a")), protocol: .tcp, port: .int(80))

    @Test func aPodIsolatedOnlyByAnAuditedPolicyIsOpenAndWouldBeClosed() {
        var cluster = ConformanceModel.cluster()
        cluster.apply(Self.audited(networkPolicy("deny-a", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress])))
        let enforced = Engine(snapshot: cluster.snapshot)
        let wouldBe = Engine(snapshot: cluster.snapshot, inForce: .auditedEnforced)
        #expect(enforced.hasAuditedPolicies && enforced.inForce == .enforced)

        let now = enforced.verdict(for: Self.bToA)
        #expect(now.allowed && now.ingress.outcome == .notIsolated && now.ingress.isolatingPolicies.isEmpty)
        let then = wouldBe.verdict(for: Self.bToA)
        #expect(!then.allowed && then.ingress.isolatingPolicies.map(\.description) == ["x/deny-a"])

        #expect(enforced.matrix(port: .int(80)).allowed.allSatisfy { $0.allSatisfy { $0 } })
        let matrix = wouldBe.matrix(port: .int(80))
        let a = matrix.pods.firstIndex(of: PodID(namespace: "x", name: "a"))
        let column = a.map { a in matrix.allowed.map { $0[a] } }
        #expect(column == [true] + Array(repeating: false, count: 8), "only x/a reaches itself")
    }

    @Test func anAuditedAllowAllowsNothingButWould() {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("deny-a", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress]))
        cluster.apply(Self.audited(networkPolicy(
            "allow-b", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress],
            ingress: [NetworkPolicyIngressRule(from: [.pods(.labels(["pod": "b"]))])])))
        let now = Engine(snapshot: cluster.snapshot).verdict(for: Self.bToA)
        #expect(!now.allowed && now.ingress.isolatingPolicies.map(\.description) == ["x/deny-a"])
        let then = Engine(snapshot: cluster.snapshot, inForce: .auditedEnforced).verdict(for: Self.bToA)
        #expect(then.allowed && then.ingress.allowingRules.map(\.policy.description) == ["x/allow-b"])
        #expect(then.ingress.isolatingPolicies.map(\.description) == ["x/allow-b", "x/deny-a"])
    }

    @Test func aMistypedModeIsEnforced() {
        var cluster = ConformanceModel.cluster()
        var policy = networkPolicy("deny-a", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress])
        policy.metadata.annotations[NetworkPolicy.modeAnnotation] = "Audit"
        cluster.apply(policy)
        let engine = Engine(snapshot: cluster.snapshot)
        #expect(!engine.hasAuditedPolicies)
        #expect(!engine.verdict(for: Self.bToA).allowed)
    }
}
