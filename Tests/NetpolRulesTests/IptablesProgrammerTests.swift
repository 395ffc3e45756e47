import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

@Suite("iptables rendering")
struct IptablesRenderTests {
    @Test func goldenScripts() throws {
        let plan = dualStackPlan()
        let rendered = "# ipset restore\n" + IptablesRenderer.ipsetScript(plan)
            + "# iptables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv4)
            + "# ip6tables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv6)
        let file = RenderGoldenTests.directory.appendingPathComponent("iptables-dual-stack.txt")
        if ProcessInfo.processInfo.environment["NETPOL_UPDATE_GOLDEN"] != nil {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(rendered == (try String(contentsOf: file, encoding: .utf8)))
    }

    /// Both tiers: DROP for a Deny, -g to the NetworkPolicy and Baseline chain for a Pass.
    @Test func tieredGoldenScripts() throws {
        let plan = tieredPlan()
        let rendered = "# ipset restore\n" + IptablesRenderer.ipsetScript(plan)
            + "# iptables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv4)
            + "# ip6tables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv6)
        let file = RenderGoldenTests.directory.appendingPathComponent("iptables-cluster-policy-tiers.txt")
        if ProcessInfo.processInfo.environment["NETPOL_UPDATE_GOLDEN"] != nil {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(rendered == (try String(contentsOf: file, encoding: .utf8)))
    }

    @Test func namesFitTheKernelLimits() {
        let plan = dualStackPlan()
        #expect(IptablesRenderer.setNames(plan).allSatisfy { $0.utf8.count <= 31 })
        #expect(plan.chains.map(IptablesRenderer.chainName).allSatisfy { $0.utf8.count <= 28 })
    }

    @Test func longPortListsSplitAcrossMultiportRules() {
        let ranges = (0..<20).map { (1000 + 10 * $0)...(1000 + 10 * $0) } + [2000...2100]
        let groups = IptablesRenderer.portGroups(ranges)
        #expect(groups.map(\.count) == [15, 6])
        #expect(groups.flatMap { $0 } == ranges)
    }
}

/// The iptables programmer on a real kernel, in a fresh network namespace.
@Suite("iptables programmer on the kernel", .enabled(if: getuid() == 0, "needs root to create a network namespace (CI runs as root)"))
struct IptablesKernelTests {
    private func withNamespace(_ body: (any CommandRunner) throws -> Void) throws {
        let name = "netpol-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let host = ProcessRunner()
        try host.check(Command("ip", ["netns", "add", name]))
        defer { _ = try? host.run(Command("ip", ["netns", "delete", name])) }
        try body(NetnsRunner(namespace: name))
    }

    /// `hash:net` refuses a prefix length of 0: a networks peer of every address
    /// loads as two halves, and verifies clean.
    @Test func everyAddressLoadsAsTwoHalves() throws {
        var cluster = ConformanceModel.cluster(dualStack: true)
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "deny-world"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 1, subject: ClusterPolicySubject(namespaces: .labels(["ns": "x"])),
            egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(networks: ["0.0.0.0/0", "::/0"])])])))
        let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
        let members = IptablesRenderer.allSets(plan).filter { $0.type == "hash:net" }.flatMap(\.elements).sorted()
        #expect(members == ["0.0.0.0/1", "128.0.0.0/1", "8000::/1", "::/1"])
        try withNamespace { runner in
            let programmer = IptablesProgrammer(runner: runner, mode: .nft)
            _ = try programmer.apply(plan)
            #expect(try programmer.verify() == [])
            try programmer.cleanup()
        }
    }

    @Test(arguments: IptablesProgrammer.Mode.allCases)
    func unrelatedRulesSurviveApplyAndCleanup(mode: IptablesProgrammer.Mode) throws {
        try withNamespace { runner in
            // What kube-proxy would leave: a rule in FORWARD and one in the nat table.
            let kubeProxy = """
                *filter
                :KUBE-FORWARD - [0:0]
                -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
                -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
                COMMIT
                *nat
                :KUBE-SERVICES - [0:0]
                -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
                -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j DNAT --to-destination 192.0.2.10:6443
                COMMIT

                """
            try runner.check(Command("iptables-\(mode.rawValue)-restore", ["--noflush"], input: kubeProxy))
            let snapshot = { () throws -> String in
                try runner.check(Command("iptables-\(mode.rawValue)-save", [])).output
                    .split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("NETPOL") }.joined(separator: "\n")
            }
            let before = try snapshot()

            let programmer = IptablesProgrammer(runner: runner, mode: mode)
            try programmer.apply(dualStackPlan())
            #expect(try programmer.verify() == [])
            #expect(try snapshot() == before)
            let first = try programmer.readBack()
            #expect(first.contains("-A FORWARD -j NETPOL-FORWARD"))

            // Unchanged plan: nothing changes. Changed plan: stale chains and sets go.
            try programmer.apply(dualStackPlan())
            #expect(try programmer.readBack() == first)
            try programmer.apply(dualStackPlan { $0.delete(policy: "out", in: "x") })
            #expect(try programmer.verify() == [])
            let second = try programmer.readBack()
            #expect(!second.contains("netpol-named-"))
            #expect(second.components(separatedBy: "-A FORWARD -j NETPOL-FORWARD").count - 1 == 2, "one jump per family")

            try programmer.cleanup()
            #expect(try snapshot() == before)
            #expect(try programmer.readBack().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            try programmer.cleanup()
        }
    }

    @Test func modeDetectionFollowsKubeProxy() throws {
        try withNamespace { runner in
            #expect(IptablesProgrammer.detectMode(runner: runner) == .nft)
            try runner.check(Command("iptables-legacy-restore", ["--noflush"], input: "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n"))
            #expect(IptablesProgrammer.detectMode(runner: runner) == .legacy)
        }
    }
}

/// The iptables programmer's steps, in order, with a runner that answers every
/// command with success and records it.
@Suite("iptables programmer with a scripted runner")
struct IptablesScriptedTests {
    /// x is isolated for ingress; pods labelled role=web in x take traffic from namespace y.
    private static func cluster() -> Cluster {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("isolate", in: "x", types: [.ingress]))
        cluster.apply(networkPolicy("web", in: "x", selecting: .labels(["role": "web"]), ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
        return cluster
    }

    private static func plan(_ cluster: Cluster) -> RulePlan { RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot) }

    /// The ingress chain judging `pod` of namespace x in `plan`.
    private static func chain(of pod: String, _ plan: RulePlan) throws -> PlanChain {
        let binding = try #require(plan.bindings.first { $0.pod == PodID(namespace: "x", name: pod) && $0.direction == .ingress })
        return try #require(plan.chains.first { $0.name == binding.chain })
    }

    /// x/a relabelled role=web in `cluster`: the plans before and after, x/a's
    /// chain in each, and a programmer that has applied the first.
    private struct Relabel {
        var old, new: RulePlan
        var from, to: PlanChain
        var programmer: IptablesProgrammer
        var runner: ScriptedRunner
        /// Commands the runner saw before the apply under test.
        var before: Int

        var fields: (RulePlan, RulePlan, PlanChain, PlanChain, IptablesProgrammer, ScriptedRunner, Int) {
            (old, new, from, to, programmer, runner, before)
        }
    }

    private static func relabelA(in cluster: Cluster) throws -> Relabel {
        var cluster = cluster
        let old = plan(cluster)
        cluster.relabel(pod: "a", in: "x", ["pod": "a", "role": "web"])
        let new = plan(cluster)
        let (programmer, runner) = try programmer(applying: old)
        return Relabel(
            old: old, new: new, from: try chain(of: "a", old), to: try chain(of: "a", new),
            programmer: programmer, runner: runner, before: runner.commands.count)
    }

    /// A programmer that has applied `plan`, and the runner it uses, emptied of that first apply.
    private static func programmer(applying plan: RulePlan) throws -> (IptablesProgrammer, ScriptedRunner) {
        let runner = ScriptedRunner()
        let programmer = IptablesProgrammer(runner: runner, mode: .nft)
        try programmer.apply(plan)
        return (programmer, runner)
    }

    @Test func aReplaceNarrowsFirstRewritesChainsThenSwapsSetsExactly() throws {
        let plan = Self.plan(Self.cluster())
        let runner = ScriptedRunner()
        try IptablesProgrammer(runner: runner, mode: .nft).replace(plan)
        #expect(runner.commands.map(\.description) == [
            "ipset save", "ipset restore",
            "iptables-nft-save -t filter", "iptables-nft-restore --noflush", "iptables-nft -t filter -C FORWARD -j NETPOL-FORWARD",
            "ip6tables-nft-save -t filter", "ip6tables-nft-restore --noflush", "ip6tables-nft -t filter -C FORWARD -j NETPOL-FORWARD",
            "ipset restore",
        ])
        #expect(runner.commands[8].input == IptablesRenderer.ipsetScript(plan))
    }

    /// The issue this order fixes: x/a moves to a chain of its own. It joins the
    /// new chain's binding set before the dispatch sends anyone there, and the
    /// old chain goes in the same transaction that stops dispatching to it; at no
    /// point is x/a in no dispatched binding set.
    @Test func aPodMovingToANewChainJoinsItBeforeTheDispatchChanges() throws {
        let (old, new, from, to, programmer, runner, before) = try Self.relabelA(in: Self.cluster()).fields

        let outcome = try programmer.apply(new)
        #expect(outcome == .incremental(new.diff(from: old)))
        let commands = Array(runner.commands.dropFirst(before))
        #expect(commands.map(\.description) == ["ipset restore", "iptables-nft-restore --noflush", "ipset restore"])
        let joined = IptablesRenderer.bindingSetName(to, .ipv4), left = IptablesRenderer.bindingSetName(from, .ipv4)
        // x/b and x/c stay in the old chain: only x/a is in the new one.
        #expect(old.podsByChain[from.name]?.count == 3 && new.podsByChain[to.name] == [PodID(namespace: "x", name: "a")])
        // The peer set of the new chain is new too: made whole, as nothing uses it yet.
        let peer = IptablesRenderer.setName(try #require(new.sets.first).name)
        #expect(old.sets.isEmpty)
        #expect(commands[0].input == """
            create \(peer) hash:ip family inet -exist
            flush \(peer)
            add \(peer) 10.0.2.1
            add \(peer) 10.0.2.2
            add \(peer) 10.0.2.3
            create \(joined) hash:ip family inet -exist
            flush \(joined)
            add \(joined) 10.0.1.1 -exist

            """)
        let dispatch = try #require(commands[1].input)
        #expect(dispatch.contains(":\(IptablesRenderer.chainName(to)) - [0:0]\n"))
        #expect(dispatch.contains("-A NETPOL-FORWARD -m set --match-set \(joined) dst -j \(IptablesRenderer.chainName(to))\n"))
        #expect(dispatch.contains("-A NETPOL-FORWARD -m set --match-set \(left) dst -j \(IptablesRenderer.chainName(from))\n"))
        #expect(!dispatch.contains(":\(IptablesRenderer.chainName(from))"), "an unchanged chain is not rewritten")
        #expect(commands[2].input == "del \(left) 10.0.1.1 -exist\n")
        #expect(programmer.applied == new)
    }

    @Test func aPodMovingBetweenKeptChainsOnlyChangesMembersAddingFirst() throws {
        var cluster = Self.cluster()
        cluster.relabel(pod: "b", in: "x", ["pod": "b", "role": "web"])
        let (_, new, from, to, programmer, runner, before) = try Self.relabelA(in: cluster).fields

        try programmer.apply(new)
        #expect(runner.commands.dropFirst(before).map(\.description) == ["ipset restore", "ipset restore"])
        #expect(runner.commands.dropFirst(before).map(\.input) == [
            "add \(IptablesRenderer.bindingSetName(to, .ipv4)) 10.0.1.1 -exist\n",
            "del \(IptablesRenderer.bindingSetName(from, .ipv4)) 10.0.1.1 -exist\n",
        ])
    }

    /// Peers leaving a peer set are removed before the chains change, peers
    /// joining it are added after.
    @Test func peersLeaveBeforeAndJoinAfter() throws {
        var cluster = Self.cluster()
        cluster.relabel(pod: "a", in: "x", ["pod": "a", "role": "web"])
        let old = Self.plan(cluster)
        cluster.relabel(namespace: "y", ["ns": "elsewhere"])
        cluster.relabel(namespace: "z", ["ns": "y"])
        let new = Self.plan(cluster)
        let set = try #require(new.sets.first).name
        #expect(new.sets.count == 1)
        let (programmer, runner) = try Self.programmer(applying: old)
        let before = runner.commands.count

        try programmer.apply(new)
        let name = IptablesRenderer.setName(set)
        #expect(runner.commands.dropFirst(before).map(\.input) == [
            ["10.0.2.1", "10.0.2.2", "10.0.2.3"].map { "del \(name) \($0) -exist\n" }.joined(),
            ["10.0.3.1", "10.0.3.2", "10.0.3.3"].map { "add \(name) \($0) -exist\n" }.joined(),
        ])
    }

    @Test func aRefusedStepFallsBackToAReplaceAndSaysWhy() throws {
        var cluster = Self.cluster()
        let old = Self.plan(cluster)
        cluster.relabel(pod: "a", in: "x", ["pod": "a", "role": "web"])
        let new = Self.plan(cluster)
        let first = ScriptedRunner()
        try IptablesProgrammer(runner: first, mode: .nft).apply(old)
        let ok = CommandOutput(status: 0, output: "", errors: "")
        let runner = ScriptedRunner(answers: Array(repeating: ok, count: first.commands.count) + [
            CommandOutput(status: 1, output: "", errors: "ipset v7.17: Error in line 1: The set with the given name does not exist\n"),
        ])
        let programmer = IptablesProgrammer(runner: runner, mode: .nft)
        try programmer.apply(old)

        let outcome = try programmer.apply(new)
        let fallback = try #require(outcome.fallback)
        #expect(fallback.code == .notFound)
        #expect(fallback.description == "ipset restore: exited with status 1: ipset v7.17: Error in line 1: The set with the given name does not exist")
        #expect(runner.commands.dropFirst(first.commands.count + 1).first?.description == "ipset save")
        #expect(programmer.applied == new)
    }

    /// A restart over sets an earlier run left: bound pods are added where they
    /// already are, members the plan lacks leave the peer sets, and sets the plan
    /// does not have (a temporary one a killed run left, too) are destroyed last.
    @Test func aReplaceStartsFromWhatTheKernelHolds() throws {
        var cluster = Self.cluster()
        cluster.relabel(pod: "a", in: "x", ["pod": "a", "role": "web"])
        let plan = Self.plan(cluster)
        let peer = IptablesRenderer.setName(try #require(plan.sets.first).name)
        let binding = IptablesRenderer.bindingSetName(try Self.chain(of: "a", plan), .ipv4)
        let saved = """
            create \(peer) hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1
            add \(peer) 10.0.2.1
            add \(peer) 10.0.3.1
            create \(binding) hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x2
            add \(binding) 10.0.1.2
            create netpol-t-0123456789ab hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x3
            create kube-something hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x4

            """
        let runner = ScriptedRunner(answers: [CommandOutput(status: 0, output: saved, errors: "")])
        try IptablesProgrammer(runner: runner, mode: .nft).replace(plan)
        let narrowing = try #require(runner.commands[1].input).split(separator: "\n")
        #expect(narrowing.contains("del \(peer) 10.0.3.1 -exist"[...]))
        #expect(!narrowing.contains { $0.hasPrefix("del \(peer) 10.0.2.1") })
        #expect(narrowing.contains("add \(binding) 10.0.1.1 -exist"[...]))
        #expect(!narrowing.contains { $0.hasPrefix("create \(peer) ") || $0.hasPrefix("flush \(binding)") }, "a set in use is never emptied")
        #expect(runner.commands.last?.input == "destroy netpol-t-0123456789ab -exist\n")
    }
}

/// Incremental iptables applies on a real kernel end where a full replace would,
/// set members included.
@Suite("Incremental iptables applies on the kernel", .enabled(if: getuid() == 0, "needs root to create a network namespace (CI runs as root)"))
struct IncrementalIptablesKernelTests {
    /// netpol's chains with their rules in order, chains sorted by name; then
    /// netpol's sets with their type and sorted members (the kernel lists
    /// chains, sets and members in creation order, which differs between paths).
    private static func contents(_ programmer: IptablesProgrammer, _ runner: any CommandRunner) throws -> String {
        var chains: [String: [String]] = [:]
        for line in try programmer.readBack().split(separator: "\n") where line.hasPrefix("-A ") || line.hasPrefix(":") {
            let words = line.split(separator: " ")
            let chain = line.hasPrefix(":") ? String(words[0].dropFirst()) : String(words[1])
            chains[chain, default: []].append(line.hasPrefix(":") ? ":" + chain : String(line))
        }
        let saved = try runner.check(Command("ipset", ["save"])).output.split(separator: "\n").filter { $0.split(separator: " ").dropFirst().first?.hasPrefix("netpol-") == true }
        let sets = saved.map { line in line.hasPrefix("create ") ? line.split(separator: " ").prefix(5).joined(separator: " ") : String(line) }.sorted()
        return (chains.keys.sorted().map { chains[$0, default: []].joined(separator: "\n") } + sets).joined(separator: "\n")
    }

    /// Two programmers in two fresh namespaces: one applies each plan of
    /// `clusters` incrementally, the other replaces everything each time.
    private func compare(_ clusters: [(label: String, cluster: Cluster)]) throws {
        let host = ProcessRunner()
        let names = ["a", "b"].map { "netpol-test-\(getpid())-ipt-\($0)-\(UInt32.random(in: 0...UInt32.max))" }
        for name in names { try host.check(Command("ip", ["netns", "add", name])) }
        defer { for name in names { _ = try? host.run(Command("ip", ["netns", "delete", name])) } }
        let runners = names.map { NetnsRunner(namespace: $0) }
        let incremental = IptablesProgrammer(runner: runners[0], mode: .nft)
        let full = IptablesProgrammer(runner: runners[1], mode: .nft)
        for (label, cluster) in clusters {
            let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
            let outcome = try incremental.apply(plan)
            #expect(outcome.fallback == nil, "\(label): the difference fell back to a whole replace: \(outcome.fallback.map(\.description) ?? "")")
            try full.replace(plan)
            #expect(try Self.contents(incremental, runners[0]) == (try Self.contents(full, runners[1])), "\(label)")
        }
    }

    @Test(arguments: conformanceCases.filter { $0.steps.count > 1 } + [conformanceCases[9], conformanceCases[20]])
    func stepsApplyIncrementallyAsAFullReplaceWould(_ testCase: ConformanceCase) throws {
        var cluster = testCase.initialCluster(nodes: ["node-1"])
        var clusters = [("\(testCase.name), start", cluster)]
        for (number, step) in testCase.steps.enumerated() {
            step.change(&cluster)
            clusters.append(("\(testCase.name), step \(number + 1)", cluster))
        }
        try compare(clusters)
    }

    /// From every conformance case's end state to the next one's: differences
    /// that add, rewrite and drop many chains and sets at once.
    @Test func walkingThroughEveryCaseAppliesIncrementally() throws {
        try compare(conformanceCases.map { testCase in
            var cluster = testCase.initialCluster(nodes: ["node-1"])
            for step in testCase.steps { step.change(&cluster) }
            return (testCase.name, cluster)
        })
    }
}
