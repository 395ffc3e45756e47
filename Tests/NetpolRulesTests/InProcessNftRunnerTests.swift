import Foundation
import NetpolDataplane
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

/// `nft -f -` through libnftables in this process, against `nft` the command.
@Suite("nft in-process through libnftables", .enabled(if: getuid() == 0 && InProcessNftRunner.isAvailable, "needs root and libnftables (CI installs nftables)"))
struct InProcessNftRunnerTests {
    private static func plan(_ policies: Int) -> RulePlan {
        var cluster = ConformanceModel.cluster(dualStack: true)
        cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
        if policies > 1 {
            cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "y"]))])]))
        }
        return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
    }

    /// Two fresh namespaces, removed afterwards whatever happens.
    private static func withNamespaces(_ body: (String, String) throws -> Void) throws {
        let host = ProcessRunner()
        let tag = "\(getpid())-\(UUID().uuidString.prefix(6))"
        let names = ["netpol-inproc-a-\(tag)", "netpol-inproc-b-\(tag)"]
        for name in names { try host.check(Command("ip", ["netns", "add", name])) }
        defer { for name in names { _ = try? host.run(Command("ip", ["netns", "delete", name])) } }
        try body(names[0], names[1])
    }

    @Test func leavesTheSameTableAsTheCommandFullAndIncremental() throws {
        try Self.withNamespaces { inProcess, command in
            let library = NftablesProgrammer(runner: InProcessNftRunner(namespace: inProcess, fallback: NetnsRunner(namespace: inProcess)))
            let process = NftablesProgrammer(runner: NetnsRunner(namespace: command))
            for plan in [Self.plan(1), Self.plan(2), Self.plan(1)] {
                try library.apply(plan)
                try process.apply(plan)
                let table = try #require(try library.readBack())
                #expect(table == (try process.readBack()))
                #expect(table.contains("chain ingress"))
            }
        }
    }

    @Test func aRefusedScriptChangesNothingAndSaysWhy() throws {
        try Self.withNamespaces { inProcess, _ in
            let runner = InProcessNftRunner(namespace: inProcess, fallback: NetnsRunner(namespace: inProcess))
            try NftablesProgrammer(runner: runner).apply(Self.plan(1))
            let before = try NftablesProgrammer(runner: NetnsRunner(namespace: inProcess)).readBack()
            let refused = try runner.run(Command("nft", ["-f", "-"], input: "delete table inet netpol\nadd rule inet nowhere nochain drop\n"))
            #expect(refused.status != 0)
            #expect(refused.errors.contains("No such file or directory"), "\(refused.errors)")
            #expect(try NftablesProgrammer(runner: NetnsRunner(namespace: inProcess)).readBack() == before, "all or nothing")
        }
    }

    @Test func aDryRunChecksWithoutChanging() throws {
        try Self.withNamespaces { inProcess, _ in
            let runner = InProcessNftRunner(namespace: inProcess, fallback: NetnsRunner(namespace: inProcess))
            try NftablesProgrammer(runner: runner).check(Self.plan(2))
            #expect(try NftablesProgrammer(runner: NetnsRunner(namespace: inProcess)).readBack() == nil)
        }
    }

    @Test func listingsInJSONAndTextMatchTheCommand() throws {
        try Self.withNamespaces { inProcess, _ in
            let fallback = ScriptedRunner()
            let library = InProcessNftRunner(namespace: inProcess, fallback: fallback)
            let command = NetnsRunner(namespace: inProcess)
            #expect(try library.run(Command("nft", ["-j", "list", "table", "inet", "netpol"])).errors.contains("No such file or directory"))
            try NftablesProgrammer(runner: library).apply(Self.plan(2))
            for arguments in [["-j", "list", "table", "inet", "netpol"], ["list", "table", "inet", "netpol"]] {
                let listed = try library.check(Command("nft", arguments)).output
                #expect(listed == (try command.check(Command("nft", arguments)).output))
            }
            #expect(try library.check(Command("nft", ["-j", "list", "table", "inet", "netpol"])).output.hasPrefix("{\"nftables\""))
            #expect(fallback.commands.isEmpty, "nothing ran as a process")
        }
    }

    /// The port ids of the netfilter netlink sockets that processes hold open in
    /// `namespace` (`/proc/net/netlink` there: protocol 12; the kernel's own has id 0).
    private static func netfilterSockets(in namespace: String) throws -> [String] {
        let table = try NetnsRunner(namespace: namespace).check(Command("cat", ["/proc/net/netlink"])).output
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count > 2, columns[1] == "12", columns[2] != "0" else { return nil }
            return String(columns[2])
        }
    }

    @Test func keepsOneSocketOpenBetweenCommands() throws {
        try Self.withNamespaces { inProcess, _ in
            let runner = InProcessNftRunner(namespace: inProcess, fallback: ScriptedRunner())
            let programmer = NftablesProgrammer(runner: runner)
            try programmer.apply(Self.plan(2))
            let sockets = try Self.netfilterSockets(in: inProcess)
            #expect(sockets.count == 1, "one socket stays open after a transaction: \(sockets)")
            try programmer.apply(Self.plan(1))
            _ = try programmer.verify()
            #expect(try Self.netfilterSockets(in: inProcess) == sockets, "the same socket serves every later command")
        }
    }

    @Test func followsANamespaceMadeAgainUnderTheSameName() throws {
        try Self.withNamespaces { inProcess, _ in
            let runner = InProcessNftRunner(namespace: inProcess, fallback: ScriptedRunner())
            try NftablesProgrammer(runner: runner).apply(Self.plan(1))
            let host = ProcessRunner()
            try host.check(Command("ip", ["netns", "delete", inProcess]))
            try host.check(Command("ip", ["netns", "add", inProcess]))
            // The kept socket still holds the deleted namespace; the runner must not write there.
            try NftablesProgrammer(runner: runner).replace(Self.plan(1))
            #expect(try NftablesProgrammer(runner: NetnsRunner(namespace: inProcess)).readBack()?.contains("chain forward") == true)
        }
    }

    @Test func aDryRunLeavesNothingForTheNextCommandToTrip() throws {
        try Self.withNamespaces { inProcess, _ in
            let runner = InProcessNftRunner(namespace: inProcess, fallback: ScriptedRunner())
            try runner.check(Command("nft", ["-f", "-"], input: "add table inet netpol\nadd set inet netpol blocks { type ipv4_addr; flags interval; }\n"))
            try runner.check(Command("nft", ["-c", "-f", "-"], input: "add element inet netpol blocks { 10.0.0.0/8 }\n"))
            // Had the check's element stayed in nft's cache, this would be refused as overlapping it.
            try runner.check(Command("nft", ["-f", "-"], input: "add element inet netpol blocks { 10.1.0.0/16 }\n"))
            let listed = try runner.check(Command("nft", ["list", "set", "inet", "netpol", "blocks"])).output
            #expect(listed.contains("10.1.0.0/16") && !listed.contains("10.0.0.0/8"), "\(listed)")
        }
    }

    @Test func otherCommandsGoToTheFallback() throws {
        let fallback = ScriptedRunner()
        _ = try InProcessNftRunner(fallback: fallback).run(Command("nft", ["-a", "list", "table", "inet", "netpol"]))
        _ = try InProcessNftRunner(fallback: fallback).run(Command("ip", ["link"]))
        #expect(fallback.commands == [Command("nft", ["-a", "list", "table", "inet", "netpol"]), Command("ip", ["link"])])
    }
}
