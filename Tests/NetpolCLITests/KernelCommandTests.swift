import Foundation
import Testing

@Suite("netpol compile, apply, cleanup and lab, run as a user runs them")
struct KernelCommandTests {
    @Test func compilePrintsALoadableScript() throws {
        let result = try CLIRunner.run(["compile", "-f", "examples/lab", "--node", "node-b"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("# netpol ruleset for node \"node-b\": 4 chains"))
        #expect(result.output.contains("add table inet netpol\ndelete table inet netpol\ntable inet netpol {"))
        #expect(result.output.contains("comment \"shop/db-from-api spec.ingress[0].from[0]\""))
        #expect(result.errors == "")
    }

    /// --pod-cidr and --established show the base chain the agent writes with
    /// the same options, on both backends.
    @Test func compileShowsTheNodeGuards() throws {
        let options = ["compile", "-f", "examples/lab", "--node", "node-a", "--pod-cidr", "10.0.1.0/24", "--established", "recheck"]
        let nft = try CLIRunner.run(options)
        #expect(nft.status == 0)
        #expect(nft.output.contains("ct state new tcp flags != syn / fin,syn,rst,ack drop"))
        #expect(nft.output.contains("ip daddr 10.0.1.0/24 ip daddr != @pods-"))
        let iptables = try CLIRunner.run(options + ["--backend", "iptables"])
        #expect(iptables.status == 0)
        #expect(iptables.output.contains("-p tcp -m conntrack --ctstate NEW -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN"))
        #expect(iptables.output.contains("-A NETPOL-FORWARD -s 10.0.1.0/24 -m set ! --match-set netpol-pods-"))
    }

    @Test func compileForANodeWithoutPodsSaysSo() throws {
        let result = try CLIRunner.run(["compile", "-f", "examples/lab", "--node", "node-z"])
        #expect(result.status == 0)
        #expect(result.errors.contains("no isolated pods on node node-z"))
    }

    @Test func compileNeedsANode() throws {
        let result = try CLIRunner.run(["compile", "-f", "examples/lab"])
        #expect(result.status == 2)
        #expect(result.errors.contains("Missing expected argument '--node <node>'"))
    }

    /// Cleanup says what it removed, and the second time that nothing was left.
    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"), arguments: [
        ("nftables", "Removed table inet netpol", "Nothing to remove: no table inet netpol"),
        ("iptables", "Removed 4 NETPOL-* chains (IPv4 and IPv6 together) and 4 netpol-* ipsets", "Nothing to remove: no NETPOL-* chains or netpol-* ipsets"),
    ])
    func applyAndCleanupInANamespace(backend: String, removed: String, nothing: String) throws {
        let name = "netpol-cli-\(getpid())-\(backend)"
        #expect(try CLIRunner.run(["lab", "--help"]).status == 0)
        let add = Process()
        add.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        add.arguments = ["netns", "add", name]
        try add.run()
        add.waitUntilExit()
        defer {
            let delete = Process()
            delete.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            delete.arguments = ["netns", "delete", name]
            try? delete.run()
            delete.waitUntilExit()
        }
        let applied = try CLIRunner.run(["apply", "-f", "examples/lab", "--node", "node-a", "--netns", name, "--backend", backend])
        #expect(applied.status == 0, "\(applied.errors)")
        #expect(applied.output.hasPrefix("Applied 2 chains"))
        let cleaned = try CLIRunner.run(["cleanup", "--netns", name, "--backend", backend])
        #expect(cleaned.status == 0)
        #expect(cleaned.output == "\(removed) from network namespace \(name).\n")
        let again = try CLIRunner.run(["cleanup", "--netns", name, "--backend", backend])
        #expect(again.status == 0)
        #expect(again.output == "\(nothing) in network namespace \(name).\n")
        let missing = try CLIRunner.run(["apply", "-f", "examples/lab", "--node", "node-a", "--netns", "netpol-no-such-namespace"])
        #expect(missing.status == 2)
        #expect(missing.errors.contains("netpol-no-such-namespace"))
    }

    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"))
    func labOnTheDemo() throws {
        let result = try CLIRunner.run(["lab", "-f", "examples/lab", "--port", "http", "-o", "json", "--timeout", "1000"])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["pods"] as? [String] == ["clients/client", "shop/api", "shop/db", "shop/web-1", "shop/web-2"])
        #expect((object["expected"] as? [[Bool]]) == (object["observed"] as? [[Bool]]))
        #expect((object["mismatches"] as? [Any])?.isEmpty == true)
        #expect((object["expected"] as? [[Bool]])?[0] == [true, false, false, true, true])
    }

    /// On port postgres only shop/db declares it, so four pods reaching themselves
    /// cannot be probed: `?` in the observed matrix, counted apart.
    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"))
    func labShowsUnprobedPairsApart() throws {
        let result = try CLIRunner.run(["lab", "-f", "examples/lab", "--port", "postgres", "--timeout", "1000"])
        #expect(result.status == 0, "\(result.errors)")
        let observed = result.outputLines.drop { $0 != "Observed (kernel, real probes)" }
        #expect(Array(observed.dropFirst().prefix(7)) == [
            "TCP/postgres: rows connect to columns; . allowed, X blocked, ? not probed",
            "-              clients/client shop/api shop/db shop/web-1 shop/web-2",
            "clients/client ?              X        X       X          X",
            "shop/api       X              ?        .       X          X",
            "shop/db        X              X        .       X          X",
            "shop/web-1     X              X        X       ?          X",
            "shop/web-2     X              X        X       X          ?",
        ])
        #expect(result.outputLines.last == "The kernel did exactly what the engine says: 21 pairs probed, 0 mismatches, 4 not probed.")
        let json = try CLIRunner.run(["lab", "-f", "examples/lab", "--port", "postgres", "--timeout", "1000", "-o", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect((object["unprobed"] as? [[String: String]])?.map { $0["from"] ?? "" } == ["clients/client", "shop/api", "shop/web-1", "shop/web-2"])
    }

    @Test(.enabled(if: getuid() != 0, "only meaningful when not root"))
    func labWithoutRootExitsTwo() throws {
        let result = try CLIRunner.run(["lab", "-f", "examples/lab"])
        #expect(result.status == 2)
        #expect(result.errors.contains("the lab needs root"))
    }
}

@Suite("netpol lab and signals")
struct LabSignalTests {
    /// SIGTERM while the lab is being built or probing: it removes its namespaces and exits 143.
    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"), arguments: [0.0, 1.5])
    func sigtermRemovesTheLab(after delay: Double) throws {
        // The lab exits from its signal handler: a command it had in flight leaves
        // its scratch directory (`netpol-run-*`) in this TMPDIR, removed below.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-lab-signal-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = CLIRunner.binary
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratch.path]) { _, own in own }
        process.currentDirectoryURL = CLIRunner.packageRoot
        process.arguments = ["lab", "-f", "examples/lab", "--port", "5432", "--timeout", "20000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let prefix = "netpol-lab-\(process.processIdentifier)-"
        let mine = { (try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns"))?.filter { $0.hasPrefix(prefix) } ?? [] }
        // Wait (at most 20 s) until the lab is built: all 5 pods and 2 nodes plus the bridge.
        let deadline = Date().addingTimeInterval(20)
        while mine().count < 8, Date() < deadline, process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        #expect(mine().count == 8)
        Thread.sleep(forTimeInterval: delay)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
        #expect(mine() == [])
    }
}
