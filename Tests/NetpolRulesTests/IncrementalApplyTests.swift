import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

@Suite("Plan differences")
struct PlanDiffTests {
    private func plan(_ cluster: Cluster) -> RulePlan { RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot) }

    private func base() -> Cluster {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("from-y", in: "x", ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "y"]))])]))
        return cluster
    }

    @Test func aNewPeerPodOnlyAddsASetElement() {
        let before = base()
        var after = before
        after.relabel(namespace: "z", ["ns": "y"])
        let diff = plan(after).diff(from: plan(before))
        #expect(diff.elementChanges.map(\.added.count) == [3])
        #expect(diff.elementCount == 3)
        #expect(diff.ruleCount == 0)
        #expect(NftablesRenderer.script(diff).split(separator: "\n").dropFirst() == [
            "add element inet netpol \(plan(after).sets[0].name) { 10.0.3.1, 10.0.3.2, 10.0.3.3 }"
        ])
    }

    @Test func aPodLeavingIsolationOnlyRemovesItsBinding() {
        let before = base()
        var after = before
        after.update(pod: "c", in: "x") { $0.metadata.namespace = "w" }
        let diff = plan(after).diff(from: plan(before))
        #expect(diff.removedBindings.map(\.pod.description) == ["x/c"])
        #expect(diff.addedChains.isEmpty && diff.removedChains.isEmpty)
    }

    @Test func anUnchangedPlanHasNoDifference() {
        #expect(plan(base()).diff(from: plan(base())).isEmpty)
        #expect(NftablesRenderer.script(plan(base()).diff(from: plan(base()))) == "")
    }
}

/// Incremental applies on a real kernel end where a full replace would.
@Suite("Incremental applies on the kernel", .enabled(if: getuid() == 0, "needs root to create a network namespace (CI runs as root)"))
struct IncrementalKernelTests {
    /// `nft list table` with its sets, maps and chains in name order and each
    /// set's elements sorted: the kernel lists them in creation order.
    static func normalized(_ listing: String) -> String {
        var blocks: [[String]] = []
        // Inside `table inet netpol { ... }`.
        for line in elementsSorted(listing).split(separator: "\n").map(String.init).dropFirst().dropLast() {
            if line.hasPrefix("set ") || line.hasPrefix("map ") || line.hasPrefix("chain ") || blocks.isEmpty {
                blocks.append([line])
            } else {
                blocks[blocks.count - 1].append(line)
            }
        }
        return blocks.map { $0.joined(separator: "\n") }.sorted().joined(separator: "\n")
    }

    private static func elementsSorted(_ listing: String) -> String {
        var joined: [String] = []
        for line in listing.split(separator: "\n", omittingEmptySubsequences: true) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if let last = joined.last, last.hasSuffix(",") { joined[joined.count - 1] = last + " " + text } else { joined.append(text) }
        }
        return joined.map { line in
            guard line.hasPrefix("elements = {"), let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { return line }
            let items = line[line.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            return "elements = { " + items.joined(separator: ", ") + " }"
        }.joined(separator: "\n")
    }

    /// Two fresh namespaces (`netpol-test-…-TAG-a`, `-b`), removed after `body`:
    /// an in-process programmer for incremental applies in the first, a
    /// programmer through the `nft` command for whole ones in the second.
    private static func withIncrementalAndFull(_ tag: String, _ body: (NftablesProgrammer, NftablesProgrammer) throws -> Void) throws {
        let host = ProcessRunner()
        let names = ["a", "b"].map { "netpol-test-\(getpid())-\(tag)-\($0)-\(UInt32.random(in: 0...UInt32.max))" }
        for name in names { try host.check(Command("ip", ["netns", "add", name])) }
        defer { for name in names { _ = try? host.run(Command("ip", ["netns", "delete", name])) } }
        try body(
            NftablesProgrammer(runner: InProcessNftRunner(namespace: names[0], fallback: NetnsRunner(namespace: names[0]))),
            NftablesProgrammer(runner: NetnsRunner(namespace: names[1])))
    }

    @Test func deletionsInProcessLeaveTheTableAFullReplaceWould() throws {
        try Self.withIncrementalAndFull("del") { incremental, full in
            var cluster = ConformanceModel.cluster(dualStack: true)
            cluster.apply(networkPolicy("from-y", in: "x", ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "y"]))])]))
            try incremental.apply(RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot))
            // Peers leave the set of namespace y's pods; isolated pods of x lose their bindings.
            for pod in [PodKey("y", "a"), PodKey("x", "b"), PodKey("y", "c"), PodKey("x", "a")] {
                cluster.pods[pod] = nil
                let plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
                let diff = try #require(try incremental.apply(plan).diff, "deleting \(pod.namespace)/\(pod.name) fell back to a whole replace")
                #expect(diff.elementChanges.contains { !$0.removed.isEmpty } || !diff.removedBindings.isEmpty, "deleting \(pod.namespace)/\(pod.name) deleted no element")
                try full.replace(plan)
                let left = Self.normalized(try #require(try incremental.readBack()))
                #expect(left == Self.normalized(try #require(try full.readBack())), "after deleting \(pod.namespace)/\(pod.name)")
                let words = left.split(whereSeparator: { " ,{}\n".contains($0) })
                #expect(!words.contains(Substring(ConformanceModel.ipv4(pod.namespace, pod.name))), "\(pod.namespace)/\(pod.name) is gone")
            }
        }
    }

    @Test(arguments: conformanceCases.filter { $0.steps.count > 1 } + [conformanceCases[9], conformanceCases[20]])
    func stepsApplyIncrementallyAsAFullReplaceWould(_ testCase: ConformanceCase) throws {
        let host = ProcessRunner()
        let names = ["a", "b"].map { "netpol-test-\(getpid())-\($0)-\(UInt32.random(in: 0...UInt32.max))" }
        for name in names { try host.check(Command("ip", ["netns", "add", name])) }
        defer { for name in names { _ = try? host.run(Command("ip", ["netns", "delete", name])) } }
        let incremental = NftablesProgrammer(runner: NetnsRunner(namespace: names[0]))
        let full = NftablesProgrammer(runner: NetnsRunner(namespace: names[1]))

        var cluster = testCase.initialCluster(nodes: ["node-1", "node-2"])
        for (number, step) in ([Step(change: { _ in }, probes: [])] + testCase.steps).enumerated() {
            step.change(&cluster)
            for node in ["node-1", "node-2"] {
                let plan = RuleCompiler.plan(node: node, snapshot: cluster.snapshot)
                let outcome = try incremental.apply(plan)
                #expect(outcome.fallback == nil, "\(testCase.name), step \(number), \(node): the difference fell back to a whole replace: \(outcome.fallback.map(\.description) ?? "")")
                try full.replace(plan)
                let left = Self.normalized(try #require(try incremental.readBack()))
                let right = Self.normalized(try #require(try full.readBack()))
                #expect(left == right, "\(testCase.name), step \(number), \(node)")
            }
        }
    }

    /// The agent's path on the real kernel: random changes through the planner,
    /// each batch's difference written in process; every few batches the same
    /// plan written whole into a second namespace lists the same table.
    @Test func plannerDifferencesLeaveTheTableAWholeReplaceWould() throws {
        try Self.withIncrementalAndFull("planner") { incremental, full in
            var churn = ClusterChurn(seed: 7)
            var planner = NodePlanner(node: "n1", snapshot: churn.cluster.snapshot, retention: .seconds(30))
            try incremental.replace(planner.plan)
            for batch in 1...150 {
                for _ in 0..<(batch % 3 + 1) { planner.apply(churn.next()) }
                let diff = planner.commit(now: .seconds(Int64(batch * 4)))
                let outcome = try incremental.apply(diff)
                #expect(outcome == .incremental(diff), "batch \(batch) fell back to a whole replace: \(outcome)")
                guard batch % 15 == 0 else { continue }
                try full.replace(planner.plan)
                let left = Self.normalized(try #require(try incremental.readBack()))
                let right = Self.normalized(try #require(try full.readBack()))
                #expect(left == right, "batch \(batch)")
            }
        }
    }
}
