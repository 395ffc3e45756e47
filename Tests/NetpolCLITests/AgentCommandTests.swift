import Foundation
import NetpolModel
import NetpolTesting
import Testing

@Suite("netpol agent, run as a user runs it")
struct AgentCommandTests {
    @Test func helpTeachesTheSourcesAndEndpoints() throws {
        let result = try CLIRunner.run(["agent", "--help"])
        #expect(result.status == 0)
        for text in [
            "files:DIR", "/readyz", "--kubeconfig", "--resync", "SIGTERM", "--isolate-new-pods", "--established=recheck", "fail closed",
            "--log-denied-file", "only one process", "netpol_denied_connections_total", "netpol_denied_log_lost_total",
            "--count-connections", "netpol_policy_connections_total",
        ] {
            #expect(result.output.contains(text), "\(text)")
        }
    }

    @Test(arguments: [
        (["agent"], "--node is required"),
        (["agent", "--node", "n", "--source", "etcd"], "--source must be kubernetes or files:DIR"),
        (["agent", "--node", "n", "--resync", "soon"], "--resync"),
        (["agent", "--node", "n", "--log-level", "loud"], "--log-level must be one of"),
        (["agent", "--node", "n", "--kubeconfig", "/nonexistent/kubeconfig"], "cannot read kubeconfig /nonexistent/kubeconfig"),
        (["agent", "--node", "n", "--source", "files:examples/lab", "--isolate-new-pods"], "--isolate-new-pods needs --pod-cidr"),
        (["agent", "--node", "n", "--no-isolate-new-pods", "--pod-cidr", "10.0.0.0/24"], "--pod-cidr is used only by --isolate-new-pods"),
        (["agent", "--node", "n", "--pod-cidr", "10.0.0.0/33"], "--pod-cidr"),
        (["agent", "--node", "n", "--established", "drop"], "--established"),
        (["agent", "--node", "n", "--log-denied-file", "/tmp/denied.jsonl"], "--log-denied-file is used only with --log-denied, which is off"),
        (["agent", "--node", "n", "--log-denied-group", "7"], "--log-denied-group is used only with --log-denied"),
        (["agent", "--node", "n", "--log-denied", "--log-denied-rate", "0"], "--log-denied-rate must be between 1 and 10000, not 0"),
        (["agent", "--node", "n", "--log-denied", "--log-denied-burst", "10001"], "--log-denied-burst must be between 1 and 10000, not 10001"),
        (["agent", "--node", "n", "--log-denied", "--log-denied-group", "65536"], "--log-denied-group must be between 0 and 65535, not 65536"),
        (["agent", "--node", "n", "--log-denied", "--log-denied-rate", "fast"], "--log-denied-rate"),
        (["agent", "--node", "n", "--log-denied", "--log-denied-file", "/tmp/"], "--log-denied-file must name a file"),
        (["agent", "--node", "n", "--count-interval", "30s"], "--count-interval is used only with --count-connections, which is off"),
        (["agent", "--node", "n", "--count-connections", "--count-interval", "off"], "--count-interval must be longer than zero"),
    ])
    func refusesWhatItCannotRunWith(arguments: [String], message: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.errors.contains(message), "\(result.errors)")
    }

    /// The files source in a namespace: ready, metrics served, and on SIGTERM
    /// a clean exit that leaves the rules in force.
    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"))
    func runsOnADirectoryAndExitsOnSIGTERMLeavingTheRules() throws {
        let namespace = "netpol-cli-agent-\(getpid())"
        try tool("/usr/sbin/ip", ["netns", "add", namespace])
        defer { _ = try? tool("/usr/sbin/ip", ["netns", "delete", namespace]) }
        let address = "127.0.0.1:\(20_000 + Int(getpid()) % 20_000)"
        let agent = Process()
        agent.executableURL = CLIRunner.binary
        agent.arguments = ["agent", "--node", "node-a", "--source", "files:examples/lab", "--netns", namespace,
                           "--metrics-address", address, "--log-format", "json"]
        agent.currentDirectoryURL = CLIRunner.packageRoot
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-agent-\(UUID().uuidString).log")
        try Data().write(to: log)
        defer { try? FileManager.default.removeItem(at: log) }
        agent.standardError = try FileHandle(forWritingTo: log)
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }

        #expect(readiness(address) == "ok\n")
        let metrics = try tool("/usr/bin/curl", ["-s", "http://\(address)/metrics"])
        #expect(metrics.contains("netpol_syncs_total"))
        #expect(metrics.contains("netpol_kernel_rules 5"))

        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0)
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "every log line is one JSON object")
        #expect(lines.contains { $0.contains("\"msg\":\"agent stopped; rules stay in force\"") })
        #expect(try tool("/usr/sbin/ip", ["netns", "exec", namespace, "nft", "list", "table", "inet", "netpol"]).contains("chain "))
    }

    /// The agent, against the fake API server, reads its Node's pod ranges
    /// (again, while the server fails) and isolates new pods in them; with
    /// --established=recheck only a SYN opens TCP connections.
    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"))
    func takesThePodRangesFromItsNode() async throws {
        let server = try await FakeAPIServer(objects: ConformanceModel.cluster().snapshot.pods.map(KubeObject.pod))
        defer { Task { await server.close() } }
        server.setNode("node-1", podCIDRs: ["10.0.1.0/24", "fd00::1:0/112"])
        // The first reads of the Node fail: the agent asks again rather than start without isolation.
        server.failNextRequests(2)
        let namespace = "netpol-cli-ranges-\(getpid())"
        try tool("/usr/sbin/ip", ["netns", "add", namespace])
        defer { _ = try? tool("/usr/sbin/ip", ["netns", "delete", namespace]) }
        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-kubeconfig-\(UUID().uuidString)")
        try server.kubeconfig.write(to: kubeconfig, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: kubeconfig) }
        let address = "127.0.0.1:\(20_000 + (Int(getpid()) + 1) % 20_000)"
        let agent = Process()
        agent.executableURL = CLIRunner.binary
        agent.arguments = ["agent", "--node", "node-1", "--kubeconfig", kubeconfig.path, "--netns", namespace,
                           "--metrics-address", address, "--established", "recheck"]
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }
        #expect(readiness(address) == "ok\n")
        let table = try tool("/usr/sbin/ip", ["netns", "exec", namespace, "nft", "list", "chain", "inet", "netpol", "forward"])
        #expect(table.contains("ip saddr 10.0.1.0/24 ip saddr != @pods-"), "\(table)")
        #expect(table.contains("ip6 daddr fd00::1:0/112 ip6 daddr != @pods-"), "\(table)")
        #expect(table.contains("tcp flags != syn / fin,syn,rst,ack"), "\(table)")
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
    }

    /// --log-denied holds its NFLOG group: a second agent asking for the same
    /// group in the same namespace refuses to start and says why.
    @Test(.enabled(if: getuid() == 0, "needs root (CI runs as root)"))
    func aDeniedLogGroupHasOneReader() throws {
        let namespace = "netpol-cli-nflog-\(getpid())"
        try tool("/usr/sbin/ip", ["netns", "add", namespace])
        defer { _ = try? tool("/usr/sbin/ip", ["netns", "delete", namespace]) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-denied-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: log) }
        let address = "127.0.0.1:\(20_000 + (Int(getpid()) + 2) % 20_000)"
        let options = ["--node", "node-a", "--source", "files:examples/lab", "--netns", namespace, "--log-denied", "--log-denied-group", "7"]
        let agent = Process()
        agent.executableURL = CLIRunner.binary
        agent.arguments = ["agent", "--metrics-address", address, "--log-denied-file", log.path] + options
        agent.currentDirectoryURL = CLIRunner.packageRoot
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }
        #expect(readiness(address) == "ok\n")
        #expect(FileManager.default.fileExists(atPath: log.path), "the log file is made at start")

        let second = try CLIRunner.run(["agent", "--metrics-address", "127.0.0.1:0"] + options)
        #expect(second.status == 2)
        #expect(second.errors.contains("--log-denied cannot start"), "\(second.errors)")
        #expect(second.errors.contains("another process may be reading the group"), "\(second.errors)")
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0)
    }

    /// What /readyz answers once the agent is ready, or after ten seconds.
    private func readiness(_ address: String) -> String {
        var ready = ""
        for _ in 0..<100 where ready != "ok\n" {
            ready = (try? tool("/usr/bin/curl", ["-s", "http://\(address)/readyz"])) ?? ""
            Thread.sleep(forTimeInterval: 0.1)
        }
        return ready
    }

    @discardableResult
    private func tool(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-tool-\(UUID().uuidString)")
        try Data().write(to: output)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return try String(contentsOf: output, encoding: .utf8)
    }
}
