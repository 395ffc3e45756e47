import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

private func samplePlan() -> RulePlan {
    var cluster = ConformanceModel.cluster()
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
    return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
}

@Suite("Programmer with a scripted runner")
struct ScriptedProgrammerTests {
    @Test func applyIsOneTransactionOnStandardInput() throws {
        let runner = ScriptedRunner()
        let programmer = NftablesProgrammer(runner: runner)
        let plan = samplePlan()
        try programmer.apply(plan)
        #expect(runner.commands == [Command("nft", ["-f", "-"], input: NftablesRenderer.script(plan))])
        #expect(programmer.applied == plan)
    }

    @Test func aRefusedApplyLeavesNothingRecorded() {
        let runner = ScriptedRunner(answers: [CommandOutput(status: 1, output: "", errors: "Error: Could not process rule: Operation not permitted\n")])
        let programmer = NftablesProgrammer(runner: runner)
        let error = #expect(throws: DataplaneError.self) { try programmer.apply(samplePlan()) }
        #expect(error?.code == .notPermitted, "classified from nft's words, not left as a string")
        #expect(error?.location == "nft -f -")
        #expect(error?.description == "nft -f -: exited with status 1: Error: Could not process rule: Operation not permitted")
        #expect(programmer.applied == nil)
    }

    @Test(arguments: [
        ("Error: Could not process rule: No such file or directory\ndelete element inet netpol s { 10.0.0.1 }", DataplaneError.Code.notFound),
        ("Error: Could not process rule: File exists", .exists),
        ("Error: Could not process rule: Device or resource busy", .inUse),
        ("/dev/stdin:2:5-9: Error: syntax error, unexpected string", .syntax),
        ("Error: Could not process rule: Operation not permitted", .notPermitted),
        ("Error: Could not process rule: Message too long", .commandFailed),
    ])
    func nftErrorsAreClassified(errors: String, code: DataplaneError.Code) {
        let error = DataplaneError.failed(Command("nft", ["-f", "-"]), CommandOutput(status: 1, output: "", errors: errors))
        #expect(error.code == code)
    }

    @Test func verifyNamesWhatTheKernelLacks() throws {
        let plan = samplePlan()
        let bare = CommandOutput(status: 0, output: #"{"nftables": [{"table": {"family": "inet", "name": "netpol", "handle": 1}}]}"#, errors: "")
        let runner = ScriptedRunner(answers: [CommandOutput(status: 0, output: "", errors: ""), bare, bare])
        let programmer = NftablesProgrammer(runner: runner)
        try programmer.apply(plan)
        let drift = try programmer.verify()
        #expect(Set(drift.map(\.kind)) == [.chain, .binding, .table])
        #expect(drift.contains(Drift(.table, "inet netpol forward", "missing")))
        // Drift is read twice before it counts.
        #expect(Array(runner.commands.dropFirst()) == Array(repeating: Command("nft", ["-j", "list", "table", "inet", "netpol"]), count: 2))
    }

    @Test func cleanupDeletesOnlyTheNetpolTable() throws {
        let runner = ScriptedRunner()
        try NftablesProgrammer(runner: runner).cleanup()
        #expect(runner.commands == [Command("nft", ["-f", "-"], input: "add table inet netpol\ndelete table inet netpol\n")])
    }

    @Test func netnsRunnerWrapsCommands() throws {
        let base = ScriptedRunner()
        _ = try NetnsRunner(namespace: "netpol-x", base: base).run(Command("nft", ["list", "ruleset"]))
        #expect(base.commands == [Command("ip", ["netns", "exec", "netpol-x", "nft", "list", "ruleset"])])
    }
}

/// The programmer against a real kernel, in a fresh network namespace.
@Suite("Programmer on the kernel", .enabled(if: getuid() == 0, "needs root to create a network namespace and program nftables (CI runs as root)"))
struct KernelProgrammerTests {
    /// Runs `body` with a fresh `netpol-test-*` namespace, removed afterwards whatever happens.
    private func withNamespace(_ body: (String, any CommandRunner) throws -> Void) throws {
        let name = "netpol-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let host = ProcessRunner()
        try host.check(Command("ip", ["netns", "add", name]))
        defer { _ = try? host.run(Command("ip", ["netns", "delete", name])) }
        try body(name, NetnsRunner(namespace: name))
    }

    @Test func applyReadBackReapplyAndCleanup() throws {
        try withNamespace { _, runner in
            // Another table, as kube-proxy would have one: it must survive everything.
            try runner.check(Command("nft", ["-f", "-"], input: "table ip kube-proxy-like {\n\tchain forward {\n\t\ttype filter hook forward priority -10; policy accept;\n\t\tip daddr 192.0.2.1 counter\n\t}\n}\n"))
            let before = try runner.check(Command("nft", ["list", "table", "ip", "kube-proxy-like"])).output

            let programmer = NftablesProgrammer(runner: runner)
            #expect(try programmer.readBack() == nil)
            let plan = samplePlan()
            try programmer.check(plan)
            try programmer.apply(plan)
            #expect(try programmer.verify() == [])
            let listing = try #require(try programmer.readBack())
            #expect(listing.contains("map ingress-pods-v4"))
            #expect(listing.contains("10.0.1.1 : jump \(plan.chains[0].name)"))

            // A restart: a new programmer over the rules an earlier one left.
            var cluster = ConformanceModel.cluster()
            cluster.apply(networkPolicy("deny", in: "y", types: [.egress]))
            let next = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
            let restarted = NftablesProgrammer(runner: runner)
            try restarted.apply(next)
            #expect(try restarted.verify() == [])
            let replaced = try #require(try restarted.readBack())
            #expect(!replaced.contains("10.0.1.1 : jump"))
            #expect(replaced.contains("10.0.2.1 : jump"))

            try restarted.cleanup()
            #expect(try restarted.readBack() == nil)
            try restarted.cleanup()
            #expect(try runner.check(Command("nft", ["list", "table", "ip", "kube-proxy-like"])).output == before)
        }
    }

    @Test func aRefusedScriptChangesNothing() throws {
        try withNamespace { _, runner in
            let programmer = NftablesProgrammer(runner: runner)
            let plan = samplePlan()
            try programmer.apply(plan)
            let before = try programmer.readBack()
            // A plan the kernel refuses: a rule jumping to a chain that does not exist.
            var broken = plan
            broken.bindings.append(PodBinding(direction: .ingress, address: IPAddress("10.9.9.9")!, chain: "missing-chain", pod: PodID(namespace: "x", name: "ghost")))
            #expect(throws: DataplaneError.self) { try programmer.apply(broken) }
            #expect(try programmer.readBack() == before)
            #expect(programmer.applied == plan)
        }
    }
}

/// Long runs (the lab suite, an agent) run thousands of commands: none may leave
/// a file descriptor behind.
@Suite("Command runner")
struct CommandRunnerTests {
    private func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    @Test func runningCommandsLeaksNoDescriptors() throws {
        let runner = ProcessRunner()
        _ = try runner.check(Command("true", []))
        let before = openDescriptors()
        for _ in 0..<200 {
            let output = try runner.check(Command("cat", [], input: "netpol\n"))
            #expect(output.output == "netpol\n")
        }
        // Other tests run in parallel (labs, the agent's connections and servers) and
        // open a few dozen; a leak of even one per command would show as 200 or more.
        #expect(openDescriptors() - before < 150)
    }
}
