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
              [--changes <changes>] [--output <output>]
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

            Example:
              netpol-bench --size L
            """)

    @Option(help: "S, M, L or XL.")
    var size = "M"

    @Option(help: "Runs per measurement; the median is reported.")
    var runs = 3

    @Flag(help: "Measure the datapath instead: TCP connection rate and throughput between two lab pods with no rules, with netpol's rules for L, and with 10,000 linear rules (root).")
    var datapath = false

    @Flag(help: "Measure the agent instead: event-to-kernel latency of --changes single changes on the M cluster (1,000 pods), through a TLS API server on loopback and nftables in a fresh network namespace (root).")
    var agent = false

    @Option(help: "With --agent: how many changes to time.")
    var changes = 1_000

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .shortAndLong, help: "Output format: table or json.")
    var output: Format = .table

    func validate() throws {
        guard BenchmarkSize.named(size) != nil else { throw ValidationError("--size must be S, M, L or XL.") }
    }

    /// Async for the agent benchmark; the size and datapath benchmarks are
    /// synchronous and hold this task's thread while they run, which is all
    /// this process does meanwhile.
    func run() async throws {
        if datapath { return try runDatapath() }
        if agent { return try await runAgent() }
        guard let size = BenchmarkSize.named(size) else { return }
        let results = try ScaleBenchmark(size: size).run(runs: runs)
        switch output {
        case .table:
            print("Size \(size.name): \(size.generator.namespaces) namespaces, \(size.generator.pods) pods, \(size.generator.policies) policies, \(size.generator.nodes) nodes (medians of \(runs) runs)")
            let width = results.map(\.name.count).max() ?? 0
            for result in results {
                let value = result.unit == "ms" || result.unit == "MiB" ? String(format: "%.1f", result.value) : String(Int(result.value))
                print("  " + result.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value + " " + result.unit)
            }
        case .json:
            let items = results.map { "{\"name\": \(jsonQuoted($0.name)), \"value\": \($0.value), \"unit\": \(jsonQuoted($0.unit))}" }
            print("{\"size\": \(jsonQuoted(size.name)), \"results\": [" + items.joined(separator: ", ") + "]}")
        }
    }

    private func runAgent() async throws {
        var benchmark = AgentLatencyBenchmark()
        benchmark.changes = changes
        let report = try await benchmark.run()
        print("Agent: event-to-kernel latency of \(report.latencies.count) changes, one at a time, \(report.pods) pods, \(report.policies) policies, node-0 (nftables)")
        let rows = [("all changes", report.latencies.map(\.milliseconds))]
            + AgentLatencyBenchmark.Change.allCases.map { change in (change.rawValue, report.latencies.filter { $0.change == change }.map(\.milliseconds)) }
            + [("agent's sync (compile, diff, nft)", report.syncMilliseconds),
               ("  of which compile (before nft)", report.compileMilliseconds)]
        for (name, values) in rows where !values.isEmpty {
            let sorted = values.sorted()
            let at = { (fraction: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
            print("  " + name.padding(toLength: 36, withPad: " ", startingAt: 0)
                + String(format: "median %6.1f ms   p90 %6.1f ms   p99 %6.1f ms   max %6.1f ms", at(0.5), at(0.9), at(0.99), sorted.last ?? 0))
        }
    }

    private func runDatapath() throws {
        var benchmark = DatapathBenchmark()
        benchmark.runs = max(runs, 5)
        let rows = try benchmark.run()
        let base = rows.first
        print("Datapath: two pods through one node (medians of \(max(runs, 5)) runs of 2 s); ratios to (a)")
        for row in rows {
            let rate = base.map { row.connectionsPerSecond / max($0.connectionsPerSecond, 1) } ?? 1
            let stream = base.map { row.bytesPerSecond / max($0.bytesPerSecond, 1) } ?? 1
            print("  " + row.configuration.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: "%8.0f conn/s (%.2f)   %8.0f MB/s (%.2f)", row.connectionsPerSecond, rate, row.bytesPerSecond / 1e6, stream))
        }
    }
}
