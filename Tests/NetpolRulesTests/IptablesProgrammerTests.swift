import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

private func plan(_ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
    var cluster = ConformanceModel.cluster(dualStack: true)
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
    cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]),
                                ingress: [.init(ports: [.tcp(80), .range(8000, 8080)], from: [.namespaces(.labels(["ns": "y"]))])]))
    cluster.apply(networkPolicy("out", in: "x", selecting: .labels(["pod": "a"]), types: [.egress], egress: [
        .init(ports: [.named("serve-80-tcp")], to: [.pods(.labels(["pod": "b"]), inNamespaces: .everything)]),
        .init(to: [.block("192.0.2.0/24", except: ["192.0.2.64/26"])]),
    ]))
    change(&cluster)
    return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
}

@Suite("iptables rendering")
struct IptablesRenderTests {
    @Test func goldenScripts() throws {
        let plan = plan()
        let rendered = "# ipset restore\n" + IptablesRenderer.ipsetScript(plan)
            + "# iptables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv4)
            + "# ip6tables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv6)
        let file = RenderGoldenTests.directory.appendingPathComponent("iptables-dual-stack.txt")
        if ProcessInfo.processInfo.environment["NETPOL_UPDATE_GOLDEN"] != nil {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(rendered == (try String(contentsOf: file, encoding: .utf8)))
    }

    @Test func namesFitTheKernelLimits() {
        let plan = plan()
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
            try programmer.apply(plan())
            #expect(try programmer.verify() == [])
            #expect(try snapshot() == before)
            let first = try programmer.readBack()
            #expect(first.contains("-A FORWARD -j NETPOL-FORWARD"))

            // Unchanged plan: nothing changes. Changed plan: stale chains and sets go.
            try programmer.apply(plan())
            #expect(try programmer.readBack() == first)
            try programmer.apply(plan { $0.delete(policy: "out", in: "x") })
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
