import NetpolAgent
import NetpolKube
import NetpolModel
import NetpolRules
import NetpolTesting
import Testing

/// The agent's status keeps the applied plan for the denied-connection log's
/// names only: without the log there is no second holder of the plan.
@Suite("Denied-connection log: the plan it names records from")
struct DeniedLogPlanTests {
    private static func agent(logging: DenyLogging?) -> LoopHarness<SteeredProgrammer> {
        LoopHarness(AgentConfiguration(node: "node-1", verifyInterval: nil, denyLogging: logging), kernel: SteeredProgrammer(), programmer: { $0 })
    }

    @Test func withoutTheLogTheStatusHoldsNoPlan() async throws {
        let agent = Self.agent(logging: nil)
        defer { agent.task.cancel() }
        agent.listEverything()
        try await waitUntil { agent.status.isReady }
        #expect(agent.kernel.applied != nil)
        #expect(agent.status.plan == nil)
    }

    @Test func withTheLogTheStatusHoldsThePlanInForce() async throws {
        let agent = Self.agent(logging: DenyLogging(group: 100))
        defer { agent.task.cancel() }
        agent.listEverything()
        try await waitUntil { agent.status.isReady }
        #expect(agent.status.plan != nil)
        #expect(agent.status.plan == agent.kernel.applied)

        // A difference applied in place: the status follows it.
        let before = agent.status.plan
        _ = agent.store.upsert(.networkPolicy(networkPolicy("deny", in: "x", types: [.ingress])))
        try await waitUntil { agent.status.lastSync?.version == agent.store.version }
        #expect(agent.status.plan != before)
        #expect(agent.status.plan == agent.kernel.applied)
    }
}
