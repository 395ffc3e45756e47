import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRules
import NetpolTesting
import Testing

/// The incremental planner, held to the whole compile: random changes in small
/// batches, and after every batch the planner's plan equals
/// `RuleCompiler.plan` of the same cluster (chains kept for reuse aside), the
/// difference it returned turns the last plan into this one, and the fake
/// kernel that got only differences holds exactly the plan.
@Suite("Incremental planner against whole compiles")
struct NodePlannerTests {
    /// Changes per `make test` run, over all seeds; `NETPOL_PLANNER_EVENTS` asks for more.
    static let events = Int(ProcessInfo.processInfo.environment["NETPOL_PLANNER_EVENTS"] ?? "") ?? 10_000
    static let seeds: [UInt64] = [1, 2, 3, 4, 5]

    @Test(arguments: seeds)
    func everyBatchLeavesTheWholeCompilesPlan(seed: UInt64) throws {
        // Seed 1 churns NetworkPolicies alone; the others ClusterNetworkPolicies and Nodes too;
        // seed 5 audits policies and flips them between audit and enforce.
        var churn = ClusterChurn(seed: seed, clusterPolicies: seed != 1, auditedPolicies: seed == 5)
        // Odd seeds delete unused chains at once; even ones keep them for a while.
        let retention: Duration = seed % 2 == 1 ? .zero : .seconds(40)
        // The last two guard the churn's pod range: its known-pod set follows every pod event.
        let guards = seed > 2 ? NodeGuards(podRanges: [CIDR("10.0.1.0/24")!, CIDR("fd00::/64")!], synOnlyOpens: seed == 4) : NodeGuards()
        var planner = NodePlanner(node: "n1", snapshot: churn.cluster.snapshot, guards: guards, retention: retention)
        let kernel = FakeNftKernel()
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.replace(planner.plan)
        var (changes, batches, now) = (0, 0, Duration.zero)
        var batchSize = SeededSizes(seed: seed)

        while changes < Self.events / Self.seeds.count {
            var applied: [ClusterChange] = []
            for _ in 0..<batchSize.next() {
                let change = churn.next()
                planner.apply(change)
                applied.append(change)
            }
            changes += applied.count
            batches += 1
            now += .seconds(Int64(batchSize.next() * 7))
            let diff = planner.commit(now: now)
            let plan = planner.plan
            let whole = RuleCompiler.plan(node: "n1", snapshot: churn.cluster.snapshot, guards: guards)
            let context = "seed \(seed), change \(changes), batch \(applied)"
            guard plan.withoutUnboundChains == whole else {
                Issue.record("the planner differs from the whole compile after \(context):\n\(Self.difference(plan.withoutUnboundChains, whole))")
                return
            }
            #expect(retention > .zero || plan == whole, "no chain outlives its pods with no retention: \(context)")
            let outcome = try programmer.apply(diff)
            guard outcome == .incremental(diff), programmer.applied == plan else {
                Issue.record("the difference did not lead to the plan after \(context): \(outcome)")
                return
            }
            if batches % 100 == 0 {
                let drift = try programmer.verify()
                guard drift.isEmpty else {
                    Issue.record("the kernel drifted from the plan after \(context): \(drift)")
                    return
                }
            }
        }
        #expect(try programmer.verify() == [])
        #expect(kernel.transactionCount > batches / 5, "batches change something on n1")
    }

    @Test func aRelabelIntoAnExistingCombinationMovesOnlyABinding() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("web", in: "x", selecting: .labels(["role": "web"]), types: [.ingress]))
        cluster.relabel(pod: "b", in: "x", ["pod": "b", "role": "web"])
        var planner = NodePlanner(node: "node-1", snapshot: cluster.snapshot)
        cluster.relabel(pod: "a", in: "x", ["pod": "a", "role": "web"])
        planner.apply(.upsert(.pod(try #require(cluster.pods[PodKey("x", "a")]))))
        let diff = planner.commit(now: .seconds(1))
        #expect(diff.addedChains.isEmpty && diff.removedChains.isEmpty && diff.changedChains.isEmpty && diff.elementChanges.isEmpty)
        #expect(diff.addedBindings.map(\.pod.description) == ["x/a"])
    }

    @Test func anUnusedChainStaysForItsRetentionThenGoes() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("web", in: "x", selecting: .labels(["role": "web"]), types: [.ingress]))
        cluster.relabel(pod: "a", in: "x", ["pod": "a", "role": "web"])
        var planner = NodePlanner(node: "node-1", snapshot: cluster.snapshot, retention: .seconds(60))
        let chain = try #require(planner.plan.chains.first?.name)

        cluster.relabel(pod: "a", in: "x", ["pod": "a"])
        planner.apply(.upsert(.pod(try #require(cluster.pods[PodKey("x", "a")]))))
        let left = planner.commit(now: .seconds(10))
        #expect(left.removedBindings.count == 1 && left.removedChains.isEmpty, "the chain stays")
        #expect(planner.plan.chains.map(\.name) == [chain])
        #expect(!planner.hasExpiredChains(now: .seconds(69)))
        #expect(planner.hasExpiredChains(now: .seconds(70)))
        #expect(planner.commit(now: .seconds(70)).removedChains == [chain])
        #expect(planner.plan == RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot))
    }

    /// A pod isolated only by an audited policy is open in the engine, the
    /// whole compile and the planner, bound to an audit chain that names the
    /// policy; enforcing the policy moves it in one incremental step to the
    /// whole compile's isolating chain, and auditing it again moves it back.
    @Test func flippingAPolicyBetweenAuditAndEnforceMovesItsPodsAsTheWholeCompileDoes() throws {
        var cluster = ConformanceModel.cluster()
        var deny = networkPolicy("deny-a", in: "x", selecting: .labels(["pod": "a"]), types: [.ingress])
        deny.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit"
        cluster.apply(deny)
        var planner = NodePlanner(node: "node-1", snapshot: cluster.snapshot, retention: .zero)
        let toA = PlanConnection(source: IPAddress("10.0.1.2")!, destination: IPAddress("10.0.1.1")!, protocol: .tcp, port: 80)
        let connection = Connection(from: .pod(PodID(namespace: "x", name: "b")), to: .pod(PodID(namespace: "x", name: "a")), protocol: .tcp, port: .int(80))
        let policy = PolicyID(namespace: "x", name: "deny-a")
        /// The chain x/a's ingress is bound to.
        func chainOfA(_ plan: RulePlan) -> PlanChain? {
            plan.bindings.first { $0.direction == .ingress && $0.pod.description == "x/a" }.flatMap { plan.chain(named: $0.chain) }
        }
        #expect(Engine(snapshot: cluster.snapshot).verdict(for: connection).allowed)
        #expect(Engine(snapshot: cluster.snapshot, inForce: .auditedEnforced).verdict(for: connection).allowed == false)
        #expect(planner.plan == RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot))
        #expect(planner.plan.allows(toA))
        let audit = try #require(chainOfA(planner.plan))
        #expect(audit.auditedBy == [policy] && audit.end == .allow)

        for (mode, open) in [(nil, false), ("audit", true), ("Audit", false), ("audit", true), ("enforce", false)] as [(String?, Bool)] {
            deny.metadata.annotations[NetworkPolicy.modeAnnotation] = mode
            cluster.apply(deny)
            planner.apply(.upsert(.networkPolicy(deny)))
            let diff = planner.commit(now: .seconds(1))
            let label = "mode \(mode ?? "absent")"
            #expect(planner.plan == RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot), "\(label)")
            #expect(diff.removedBindings.map(\.pod.description) == ["x/a"] && diff.addedBindings.map(\.pod.description) == ["x/a"], "\(label)")
            let chain = try #require(chainOfA(planner.plan), "\(label)")
            #expect(open ? chain.auditedBy == [policy] && chain.isolatedBy.isEmpty : chain.isolatedBy == [policy] && chain.auditedBy.isEmpty, "\(label)")
            #expect(planner.plan.allows(toA) == open, "\(label)")
            #expect(Engine(snapshot: cluster.snapshot).verdict(for: connection).allowed == open, "\(label)")
        }
    }

    /// What differs between two plans, shortly, for a failure message.
    private static func difference(_ planner: RulePlan, _ whole: RulePlan) -> String {
        var lines: [String] = []
        let (mine, theirs) = (Dictionary(uniqueKeysWithValues: planner.sets.map { ($0.name, $0) }), Dictionary(uniqueKeysWithValues: whole.sets.map { ($0.name, $0) }))
        for name in Set(mine.keys).union(theirs.keys).sorted() where mine[name] != theirs[name] {
            lines.append("set \(name) (\(mine[name]?.origin ?? theirs[name]?.origin ?? "")): planner \(mine[name]?.elements.map { "\($0)" } ?? ["none"]), whole \(theirs[name]?.elements.map { "\($0)" } ?? ["none"])")
        }
        let (chains, wholeChains) = (Dictionary(uniqueKeysWithValues: planner.chains.map { ($0.name, $0) }), Dictionary(uniqueKeysWithValues: whole.chains.map { ($0.name, $0) }))
        for name in Set(chains.keys).union(wholeChains.keys).sorted() where chains[name] != wholeChains[name] {
            lines.append("chain \(name): planner \(chains[name].map { "\($0.rules.map(\.description)) end \($0.end)" } ?? "none"), whole \(wholeChains[name].map { "\($0.rules.map(\.description)) end \($0.end)" } ?? "none")")
        }
        if planner.bindings != whole.bindings {
            lines.append("bindings: planner \(planner.bindings.map { "\($0.pod) \($0.address) \($0.chain)" }), whole \(whole.bindings.map { "\($0.pod) \($0.address) \($0.chain)" })")
        }
        return lines.joined(separator: "\n")
    }
}

/// Batch sizes: mostly one change, sometimes a handful.
private struct SeededSizes {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return [1, 1, 1, 2, 3, 5][Int(state % 6)]
    }
}

extension RulePlan {
    /// The plan without chains no pod is bound to (nor goes on to through a
    /// bound chain), nor the sets only they use (the guards' known-pod sets
    /// stay): what a whole compile makes of the same cluster.
    var withoutUnboundChains: RulePlan {
        let bound = Set(podsByChain.keys)
        let kept = chains.filter { bound.contains($0.name) }
        var used = Set(podRangeGuards.map(\.knownPods))
        for chain in kept {
            for rule in chain.rules {
                switch rule.peer {
                case .set(let name, _), .services(let name, _): used.insert(name)
                case .any: break
                }
            }
        }
        return RulePlan(node: node, sets: sets.filter { used.contains($0.name) }, chains: kept, bindings: bindings, guards: guards)
    }
}
