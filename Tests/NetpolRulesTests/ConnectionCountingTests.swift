import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

/// `plan` with its chains counted, as the agent's `--count-connections` makes it.
private func counted(_ plan: RulePlan, _ on: Bool = true) -> RulePlan {
    var plan = plan
    plan.countsConnections = on
    return plan
}

private let fromZ = PolicyID(namespace: "x", name: "from-z"), denyX = PolicyID(namespace: "x", name: "deny")
private let adminDeny = PolicyID(namespace: "", name: "no-y-b")

/// x/a is isolated on ingress by x/deny and x/from-z (which allows TCP 80,
/// or `ports`, from ns z), and an Admin ClusterNetworkPolicy denies y/b into
/// x: an allow rule of one policy, a default deny of two, a cluster Deny.
private func countedPlan(ports: [NetworkPolicyPort] = [.tcp(80)]) -> RulePlan {
    var cluster = ConformanceModel.cluster(dualStack: true, nodes: ["node-1"])
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
    cluster.apply(networkPolicy("from-z", in: "x", selecting: .labels(["pod": "a"]),
                                ingress: [.init(ports: ports, from: [.namespaces(.labels(["ns": "z"]))])]))
    cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "no-y-b"), spec: ClusterNetworkPolicySpec(
        tier: .admin, priority: 1, subject: ClusterPolicySubject(namespaces: .labels(["ns": "x"])),
        ingress: [ClusterPolicyIngressRule(name: "y-b", action: .deny, from: [ClusterPolicyPeer(pods: NamespacedPods(
            namespaceSelector: .labels(["ns": "y"]), podSelector: .labels(["pod": "b"])))])])))
    return counted(RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot))
}

/// The chain x/a's NetworkPolicy rules are in (the Admin chain goes on to it).
private func policyChain(_ plan: RulePlan) throws -> PlanChain {
    try #require(plan.chains.first { $0.isolatedBy == [denyX, fromZ] })
}

/// TCP 80 and 81, and 18 ports more from 9002 to 9036: more than one
/// multiport match holds, so iptables writes the rule as two lines per family.
private let manyPorts: [NetworkPolicyPort] = [.tcp(80), .tcp(81)] + (1...18).map { .tcp(9000 + 2 * $0) }

@Suite("Connection counting: attribution and tally")
struct ConnectionAttributionTests {
    @Test func rulesCountForTheirPolicyAndADefaultDenyForEveryIsolatingOne() throws {
        let plan = countedPlan()
        let chain = try policyChain(plan)
        let allow = try #require(chain.rules.firstIndex { $0.action == .allow })
        #expect(chain.rules[allow].policy == fromZ)
        #expect(chain.countedFor(rule: allow) == [PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .allowed)])
        #expect(chain.countedFor(rule: nil) == [denyX, fromZ].map { PolicyVerdict(direction: .ingress, policy: $0, verdict: .denied) })
        let admin = try #require(plan.chains.first { !$0.gotoTargets.isEmpty })
        let deny = try #require(admin.rules.firstIndex { $0.action == .deny })
        #expect(admin.countedFor(rule: deny) == [PolicyVerdict(direction: .ingress, policy: adminDeny, verdict: .denied)])
        #expect(admin.countedFor(rule: nil) == [], "the Admin tier's end goes on: no one decided yet")
        #expect(chain.countedFor(rule: chain.rules.count) == [])
    }

    @Test func aPassCountsForNoOne() throws {
        let plan = tieredPlan()
        let chain = try #require(plan.chains.first { $0.rules.contains { if case .goto = $0.action { true } else { false } } })
        let pass = try #require(chain.rules.firstIndex { if case .goto = $0.action { true } else { false } })
        #expect(chain.countedFor(rule: pass) == [])
        // In the Baseline tier a Pass renders as an allow: it still passes.
        var cluster = ConformanceModel.cluster(nodes: ["node-1"])
        cluster.apply(clusterPolicy(
            "base-x", tier: .baseline, priority: 1, subject: .pods(.everything, inNamespaces: .labels(["ns": "x"])),
            ingress: [ClusterPolicyIngressRule(action: .pass, from: [.inNamespaces(.labels(["ns": "y"]))])]))
        let baseline = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        let passing = try #require(baseline.chains.first { $0.rules.contains { $0.clusterRule?.action == .pass && $0.action == .allow } })
        #expect(passing.rules.indices.allSatisfy { passing.countedFor(rule: $0).isEmpty })
    }

    @Test func anAuditLayerCountsWhatItWouldDo() throws {
        var cluster = ConformanceModel.cluster(nodes: ["node-1"])
        var audited = networkPolicy("audit-from-z", in: "y", selecting: .labels(["pod": "a"]),
                                    ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "z"]))])])
        audited.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit"
        cluster.apply(audited)
        let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        let layer = try #require(plan.chains.first { !$0.auditedBy.isEmpty })
        #expect(layer.rules.contains { $0.policy == PolicyID(namespace: "y", name: "audit-from-z") })
        let policy = PolicyID(namespace: "y", name: "audit-from-z")
        #expect(layer.rules.indices.allSatisfy { layer.countedFor(rule: $0) == [PolicyVerdict(direction: .ingress, policy: policy, verdict: .wouldAllow)] })
        #expect(layer.countedFor(rule: nil) == [PolicyVerdict(direction: .ingress, policy: policy, verdict: .wouldDeny)])
    }

    @Test func theTallyAddsDifferencesAndTakesARestartOrAForgottenChainWhole() throws {
        let plan = countedPlan()
        let chain = try policyChain(plan)
        let allow = try #require(chain.rules.firstIndex { $0.action == .allow })
        let allowed = PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .allowed)
        func reading(_ packets: UInt64, end: UInt64 = 0) -> [RuleCounter] {
            [RuleCounter(chain: chain.name, rule: allow, line: 0, packets: packets), RuleCounter(chain: chain.name, rule: nil, line: 1, packets: end)]
        }
        var tally = ConnectionTally()
        #expect(tally.add(reading(3, end: 2), plan: plan) == [allowed: 3, .init(direction: .ingress, policy: denyX, verdict: .denied): 2,
                                                              .init(direction: .ingress, policy: fromZ, verdict: .denied): 2])
        #expect(tally.add(reading(5, end: 2), plan: plan) == [allowed: 2], "only what came since")
        #expect(tally.add(reading(1, end: 2), plan: plan) == [allowed: 1], "below the last count: the chain started over")
        tally.forget(chains: [chain.name])
        #expect(tally.add(reading(4, end: 2), plan: plan)[allowed] == 4, "a rewritten chain's count is new whole")
        #expect(tally.totals[allowed] == 10)
        #expect(tally.add([RuleCounter(chain: "ingress-000000000000", rule: 0, line: 0, packets: 9)], plan: plan) == [:])
    }
}

@Suite("Connection counting in the rendered rules")
struct ConnectionCountingRenderTests {
    @Test func offRendersNoCounterAndOnCountsEveryChainLineButLogsAndTheBaseChain() throws {
        let plan = tieredPlan()
        #expect(NftablesRenderer.script(counted(plan, false)) == NftablesRenderer.script(plan))
        #expect(!NftablesRenderer.script(plan).contains("counter"))
        var logging = counted(plan)
        logging.logging = DenyLogging(group: 7)
        let lines = NftablesRenderer.definition(logging)
        var block = ""
        for line in lines.map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if ["chain ", "map ", "set ", "limit ", "table "].contains(where: line.hasPrefix) { block = line; continue }
            guard block.hasPrefix("chain "), !line.hasPrefix("#"), line != "}", !line.hasPrefix("type ") else { continue }
            let countsHere = block != "chain forward {" && !line.contains("log prefix")
            #expect(line.contains("counter") == countsHere, "\(block) \(line)")
        }
        #expect(NftablesRenderer.script(plan.diff(from: tieredPlanSequence()[1]), counting: true).contains("counter"))
    }

    @Test func aRuleWithManyPortsIsSeveralIptablesLinesOfOneRule() throws {
        let plan = countedPlan(ports: manyPorts)
        let chain = try policyChain(plan)
        let allow = try #require(chain.rules.firstIndex { $0.action == .allow })
        let lines = IptablesRenderer.chainLines(chain, family: .ipv4, logging: nil)
        #expect(lines.filter { $0.rule == allow }.count == 2, "\(lines.map(\.text))")
    }

    @Test func iptablesLinesMapBackToTheirPlanRules() throws {
        // x/a's egress rules: a named port (one line per family), an ipBlock.
        let plan = dualStackPlan()
        for family in IPAddress.Family.allCases {
            let script = IptablesRenderer.iptablesScript(plan, family: family)
            for chain in plan.chains {
                let lines = IptablesRenderer.chainLines(chain, family: family, logging: nil)
                #expect(lines.map(\.text) == script.split(separator: "\n").filter { $0.hasPrefix("-A \(IptablesRenderer.chainName(chain)) ") }.map(String.init))
                #expect(lines.last?.rule == nil && lines.dropLast().allSatisfy { $0.rule != nil && chain.rules[$0.rule!].family != (family == .ipv4 ? .ipv6 : .ipv4) })
            }
        }
    }
}

@Suite("Connection counting with the fake kernel")
struct ConnectionCountingFakeTests {
    @Test func countsAreReadBackAndAreNeverDrift() throws {
        let plan = countedPlan()
        let kernel = FakeNftKernel()
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.replace(plan)
        let chain = try policyChain(plan)
        #expect(kernel.countPackets(3, chain: chain.name) { $0.contains("from-z") })
        #expect(kernel.countPackets(2, chain: chain.name) { $0 == "counter drop" })
        #expect(try programmer.verify() == [], "a counter's value is not drift")
        var tally = ConnectionTally()
        tally.add(try programmer.readCounters(), plan: plan)
        #expect(tally.totals == [
            PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .allowed): 3,
            PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .denied): 2,
            PolicyVerdict(direction: .ingress, policy: denyX, verdict: .denied): 2,
        ])
        // Without counters in the kernel, the counting plan is drift, and turning counting off rewrites all.
        #expect(try programmer.verify(against: counted(plan, false)).contains { $0.kind == .chain })
        #expect(try programmer.apply(counted(plan, false)) == .replaced(fallback: nil))
        #expect(try programmer.verify() == [])
        #expect(try programmer.readCounters() == [])
    }

    /// A difference writes the chains it changes and leaves the others, and
    /// what they counted, alone.
    @Test func differencesKeepCounters() throws {
        let plans = tieredPlanSequence().map { counted($0) }
        let kernel = FakeNftKernel()
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.replace(plans[0])
        var kept = 0
        for (old, new) in zip(plans, plans.dropFirst()) {
            let diff = new.diff(from: old)
            let touched = Set(diff.changedChains.map(\.name) + diff.removedChains)
            let untouched = old.chains.first { !touched.contains($0.name) }
            func counted(_ chain: String) throws -> UInt64 { try programmer.readCounters().filter { $0.chain == chain }.reduce(0) { $0 + $1.packets } }
            if let untouched {
                #expect(kernel.countPackets(3, chain: untouched.name) { _ in true })
                kept += 1
            }
            let before = try untouched.map { try counted($0.name) }
            #expect(try programmer.apply(new) == .incremental(diff))
            if let untouched { #expect(try counted(untouched.name) == before, "\(untouched.name) keeps its count") }
            #expect(try programmer.verify() == [])
            let counters = try programmer.readCounters()
            #expect(counters.count == new.chains.reduce(0) { $0 + $1.rules.count + 1 }, "every chain rule and end counted")
        }
        #expect(kept > 0, "some step leaves a chain alone")
    }
}

@Suite("Connection counting on the kernel", .enabled(if: getuid() == 0, "needs root to create network namespaces (CI runs as root)"))
struct ConnectionCountingKernelTests {
    static let server = PodID(namespace: "x", name: "a")
    static let isolated = PodID(namespace: "y", name: "a"), adminDenied = PodID(namespace: "y", name: "b"), allowed = PodID(namespace: "z", name: "a")

    /// Reads the counters into `tally` until its totals are `expected`, at
    /// most 30 times 100 ms apart (a packet may still be on its way).
    static func settle(_ tally: inout ConnectionTally, _ programmer: any RuleProgrammer, plan: RulePlan, expected: [PolicyVerdict: UInt64]) throws {
        for _ in 0..<30 {
            tally.add(try programmer.readCounters(), plan: plan)
            if tally.totals == expected { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// k allowed and m denied connections, over both families and both
    /// protocols, counted exactly per policy and verdict; then a change that
    /// rewrites x/a's chain, read before and forgotten after as the agent
    /// does: the counts go on from where they were, nothing twice.
    @Test(arguments: NetpolRulesTests.backends)
    func connectionsAreCountedExactlyPerPolicyAndVerdict(_ backend: String) throws {
        let plan = countedPlan(), widened = countedPlan(ports: manyPorts)
        let diff = widened.diff(from: plan)
        let chain = try policyChain(plan)
        try #require(diff.changedChains.map(\.name) == [chain.name], "the change rewrites x/a's policy chain only")
        let pods = [Self.server, Self.isolated, Self.adminDenied, Self.allowed]
        try withLogNamespaces(pods.count + 1, tag: "count-\(backend)") { names in
            let network = try PodNetwork(names: names, pods: pods)
            let programmer = NetpolRulesTests.programmer(backend, in: network.node)
            try programmer.replace(plan)
            let targets = [ConformanceModel.ipv4("x", "a"), ConformanceModel.ipv6("x", "a")]
            func connect(_ client: PodID, times: Int, port: UInt16 = 80, udp: [Bool] = [false]) throws {
                for _ in 0..<times {
                    for target in targets { for udp in udp { try network.send(from: client, udp: udp, to: target, port: port) } }
                }
            }
            try connect(Self.allowed, times: 3)
            try connect(Self.isolated, times: 2, udp: [false, true])
            try connect(Self.adminDenied, times: 1, udp: [false, true])
            var expected: [PolicyVerdict: UInt64] = [
                PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .allowed): 6,
                PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .denied): 8,
                PolicyVerdict(direction: .ingress, policy: denyX, verdict: .denied): 8,
                PolicyVerdict(direction: .ingress, policy: adminDeny, verdict: .denied): 4,
            ]
            var tally = ConnectionTally()
            try Self.settle(&tally, programmer, plan: plan, expected: expected)
            #expect(tally.totals == expected, "\(backend): \(tally.totals)")
            #expect(try programmer.verify() == [], "\(backend): counts are not drift")

            // Port 81 from z is denied now, allowed after the change.
            try connect(Self.allowed, times: 1, port: 81)
            try connect(Self.allowed, times: 1)
            expected[PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .allowed)]! += 2
            expected[PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .denied)]! += 2
            expected[PolicyVerdict(direction: .ingress, policy: denyX, verdict: .denied)]! += 2
            try Self.settle(&tally, programmer, plan: plan, expected: expected)
            #expect(try programmer.apply(diff) == .incremental(diff), "\(backend)")
            tally.forget(chains: diff.changedChains.map(\.name))
            // 81 and 9036 are in different multiport lines of one iptables rule: summed.
            try connect(Self.allowed, times: 2, port: 81)
            try connect(Self.allowed, times: 1, port: 9036)
            try connect(Self.adminDenied, times: 1)
            expected[PolicyVerdict(direction: .ingress, policy: fromZ, verdict: .allowed)]! += 6
            expected[PolicyVerdict(direction: .ingress, policy: adminDeny, verdict: .denied)]! += 2
            try Self.settle(&tally, programmer, plan: widened, expected: expected)
            #expect(tally.totals == expected, "\(backend), after the change: \(tally.totals)")
            #expect(try programmer.verify() == [], "\(backend), after the change")
        }
    }
}
