import Foundation
import NetpolDataplane
import NetpolModel
import NetpolRules

/// What one reading of the rules' counters (`netpol agent --count-connections`)
/// costs on a node of the `size` cluster: node-0's whole plan, counted, loaded
/// in a fresh network namespace, then `readCounters()` timed, nftables
/// (in-process, as the agent reads) and iptables (nft backend).
public struct CounterReadBenchmark {
    public var runs = 5
    public var size = BenchmarkSize.l

    public init() {}

    public struct Result: Sendable {
        public var backend: String
        public var chains: Int
        public var rules: Int
        /// Counted lines read back (one per chain rule and end; iptables: per family line).
        public var counters: Int
        /// The median time of one reading.
        public var read: Duration
    }

    public func run() throws -> [Result] {
        var plan = RuleCompiler.plan(node: "node-0", snapshot: Snapshot(size.generator.objects()))
        plan.countsConnections = true
        let namespace = "netpol-bench-count-\(getpid())"
        let host = ProcessRunner()
        try host.check(Command("ip", ["netns", "add", namespace]))
        defer { _ = try? host.run(Command("ip", ["netns", "delete", namespace])) }
        let programmers: [(String, any RuleProgrammer)] = [
            ("nftables", NftablesProgrammer(runner: InProcessNftRunner(namespace: namespace, fallback: NetnsRunner(namespace: namespace)))),
            ("iptables-nft", IptablesProgrammer(runner: NetnsRunner(namespace: namespace), mode: .nft)),
        ]
        var results: [Result] = []
        for (backend, programmer) in programmers {
            try programmer.replace(plan)
            defer { try? programmer.cleanup() }
            var counters = 0
            var times: [Duration] = []
            for _ in 0..<max(1, runs) {
                times.append(try ContinuousClock().measure { counters = try programmer.readCounters().count })
            }
            results.append(Result(backend: backend, chains: plan.chains.count, rules: plan.ruleCount, counters: counters, read: times.sorted()[times.count / 2]))
        }
        return results
    }
}
