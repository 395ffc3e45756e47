import ArgumentParser
import Foundation
import NetpolBench
import NetpolModel

/// The `netpol-bench` command line: netpol's benchmarks, in an executable of
/// their own because they link test support (the fake API server) that the
/// `netpol` product must not carry.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netpol-bench",
        abstract: "Measure netpol at a cluster size: parse, matrix, compile, render, kernel apply, incremental updates, memory.",
        usage: """
            netpol-bench [--size <size>] [--runs <runs>] [--datapath] [--agent]
              [--changes <changes>] [--burst <burst>] [--netpol <path>]
              [--recheck] [--flows <flows>] [--decode] [--cluster-policies <count>]
              [--log-denied] [--count-connections] [--output <output>]
            """,
        discussion: """
            Sizes (generated as `netpol gen` would, seed 42):
              size  namespaces     pods  policies  nodes
              S             10      100        20      5
              M             20    1,000       200     10
              L            100   10,000     2,000    100
              XL         1,000  100,000    10,000  1,000

            Compile, render and apply are for one node (node-0). The matrix is \
            measured up to 1,000 pods. As root, the ruleset is applied in a fresh \
            network namespace, then four single changes (a pod added, a pod \
            relabelled, a policy added, a namespace relabelled) are applied as \
            incremental transactions: their size and time are reported. Peak memory \
            is this process's, so run one size per invocation (`make bench` does).

            With --agent, the `netpol agent` binary runs as a child process for \
            node-0 of the --size cluster, served by a TLS API server in this \
            process: start to ready (list, first full apply), event-to-kernel \
            latency of single changes, a burst of changes written within one \
            second (until the kernel holds the final state, checked by reading \
            the table back), the agent's CPU per change and its peak memory.

            With --decode, manifest decoding alone (bytes to objects, as \
            `netpol validate -f` reads them) at --size: the cluster as YAML (as \
            `netpol gen` writes it) and as JSON (one `kind: List`, as `kubectl get \
            -A -o json` answers), in MB/s.

            Examples:
              netpol-bench --size L
              netpol-bench --decode --size XL --runs 5
              netpol-bench --agent --size L --changes 200
            """)

    @Option(help: "S, M, L or XL.")
    var size = "M"

    @Option(help: "Runs per measurement; the median is reported.")
    var runs = 3

    @Option(help: ArgumentHelp("Add this many ClusterNetworkPolicies, and Node objects, to the --size cluster, as netpol gen does; with --datapath, to the L rules.", valueName: "count"))
    var clusterPolicies = 0

    @Flag(help: "Measure the datapath instead: TCP connection rate and throughput between two lab pods with no rules, with netpol's rules for L, and with 10,000 linear rules (root).")
    var datapath = false

    @Flag(help: "With --datapath, also measure netpol's rules with denied connections logged (--log-denied's rules, a reader bound to the group).")
    var logDenied = false

    @Flag(help: "With --datapath, also measure netpol's rules with every rule counted (--count-connections), and what one reading of the counters costs on a node of L.")
    var countConnections = false

    @Flag(help: "Measure the agent instead, at --size: the netpol binary (--netpol) against a TLS API server on loopback, programming nftables in a fresh network namespace (root): start to ready, event-to-kernel latency of --changes single changes, a burst of --burst changes in one second, CPU per change, peak memory.")
    var agent = false

    @Flag(help: "Measure --established=recheck instead: a policy change on a lab node tracking --flows UDP flows, at the L rules: the difference written, then every flow judged and the denied ones cut (root).")
    var recheck = false

    @Option(help: "With --recheck: how many tracked flows the node has.")
    var flows = 10_000

    @Flag(help: "Measure manifest decoding instead, at --size: the cluster as YAML and as a JSON List, in MB/s.")
    var decode = false

    @Option(help: "With --agent: how many single changes to time, one at a time.")
    var changes = 1_000

    @Option(help: "With --agent: how many changes the burst writes within one second.")
    var burst = 1_000

    @Option(help: ArgumentHelp("With --agent: the netpol binary to run (default: the one next to netpol-bench).", valueName: "path"))
    var netpol: String?

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .shortAndLong, help: "Output format: table or json.")
    var output: Format = .table

    /// The --size cluster with --cluster-policies; nil for an unknown size.
    private var chosenSize: BenchmarkSize? {
        guard var chosen = BenchmarkSize.named(size) else { return nil }
        chosen.generator.clusterPolicies = clusterPolicies
        if clusterPolicies > 0 { chosen.name += "+\(clusterPolicies) CNPs" }
        return chosen
    }

    func validate() throws {
        guard clusterPolicies >= 0 else { throw ValidationError("--cluster-policies must be a count of 0 or more.") }
        guard BenchmarkSize.named(size) != nil else { throw ValidationError("--size must be S, M, L or XL.") }
        guard (1...12_000).contains(flows) else { throw ValidationError("--flows must be from 1 to 12000 (one source port each).") }
        if logDenied, !datapath { throw ValidationError("--log-denied goes with --datapath.") }
        if countConnections, !datapath { throw ValidationError("--count-connections goes with --datapath.") }
    }

    /// Async for the agent benchmark; the size and datapath benchmarks are
    /// synchronous and hold this task's thread while they run, which is all
    /// this process does meanwhile.
    func run() async throws {
        if datapath { return try runDatapath() }
        if agent { return try await runAgent() }
        if recheck { return try runRecheck() }
        guard let size = chosenSize else { return }
        if decode {
            let results = try DecodeBenchmark(size: size).run(runs: runs)
            return show(results, heading: "Manifest decoding, size \(size.name) (medians of \(runs) runs)", size: size, benchmark: "decode")
        }
        let results = try ScaleBenchmark(size: size).run(runs: runs)
        let cluster = size.generator
        let heading = "Size \(size.name): \(cluster.namespaces) namespaces, \(cluster.pods) pods, \(cluster.policies) policies, "
            + "\(cluster.clusterPolicies) cluster policies, \(cluster.nodes) nodes (medians of \(runs) runs)"
        show(results, heading: heading, size: size, benchmark: "scale")
    }

    private func runAgent() async throws {
        guard let size = chosenSize else { return }
        let binary = netpol.map { URL(fileURLWithPath: $0) }
            ?? Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("netpol")
        guard let binary, FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("no netpol binary at \(binary?.path ?? "?"): build it (swift build -c release --product netpol) or name it with --netpol")
        }
        var benchmark = AgentBenchmark(size: size, agentBinary: binary)
        benchmark.changes = changes
        benchmark.burst = burst
        let report = try await benchmark.run()
        let heading = "Agent: size \(size.name), \(report.pods) pods, \(report.policies) policies; `netpol agent` for node-0 (nftables), "
            + "a process of its own, watching a TLS API server on loopback"
        show(report.measurements, heading: heading, size: size, benchmark: "agent")
    }

    /// Prints `results` as --output asks: a table under `heading`, or one JSON object.
    private func show(_ results: [NetpolBench.Measurement], heading: String, size: BenchmarkSize, benchmark: String) {
        switch output {
        case .table:
            print(heading)
            let width = results.map(\.name.count).max() ?? 0
            for result in results {
                let value = switch result.unit {
                case "ms", "MiB", "MB", "MB/s": String(format: "%.1f", result.value)
                case "s": String(format: "%.2f", result.value)
                default: String(Int(result.value))
                }
                print("  " + result.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value + " " + result.unit)
            }
        case .json:
            let items = results.map { "{\"name\": \(jsonQuoted($0.name)), \"value\": \($0.value), \"unit\": \(jsonQuoted($0.unit))}" }
            print("{\"size\": \(jsonQuoted(size.name)), \"benchmark\": \(jsonQuoted(benchmark)), \"results\": [" + items.joined(separator: ", ") + "]}")
        }
    }

    private func runRecheck() throws {
        var benchmark = RecheckBenchmark()
        benchmark.flows = flows
        benchmark.runs = runs
        let results = try benchmark.run()
        show(results, heading: "Established re-check: \(flows) UDP flows through one node, L rules (medians of \(runs) runs)",
             size: .l, benchmark: "recheck")
    }

    private func runDatapath() throws {
        var benchmark = DatapathBenchmark()
        benchmark.runs = max(runs, 5)
        benchmark.size.generator.clusterPolicies = clusterPolicies
        benchmark.logDenied = logDenied
        benchmark.countConnections = countConnections
        let rows = try benchmark.run()
        let base = rows.first
        print("Datapath: two pods through one node (medians of \(max(runs, 5)) runs of 2 s); ratios to (a)")
        for row in rows {
            let rate = base.map { row.connectionsPerSecond / max($0.connectionsPerSecond, 1) } ?? 1
            let stream = base.map { row.bytesPerSecond / max($0.bytesPerSecond, 1) } ?? 1
            print("  " + row.configuration.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: "%8.0f conn/s (%.2f)   %8.0f MB/s (%.2f)", row.connectionsPerSecond, rate, row.bytesPerSecond / 1e6, stream))
        }
        guard countConnections else { return }
        var reading = CounterReadBenchmark()
        reading.runs = max(runs, 5)
        print("One reading of the counters (--count-connections), node-0 of L (medians of \(reading.runs) readings)")
        for result in try reading.run() {
            print("  \(result.backend.padding(toLength: 14, withPad: " ", startingAt: 0)) \(result.chains) chains, \(result.rules) rules, "
                + "\(result.counters) counters read: " + String(format: "%.1f ms", Double(result.read.components.attoseconds) / 1e15 + Double(result.read.components.seconds) * 1e3))
        }
    }
}
