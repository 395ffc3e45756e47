import Foundation
import NetpolAgent
import NetpolDataplane
import NetpolModel
import NetpolRules
import NetpolTesting
import NetpolWorkload

/// The agent as a node runs it, at one cluster size: the `netpol agent` binary,
/// a child of this process, watches the (fake, TLS) API server held here and
/// programs node-0 into a real nftables table in a fresh network namespace.
/// Measured in one run:
/// - start to ready: from starting the process (it lists everything) until its
///   first full apply is done; its CPU and peak memory then;
/// - event to kernel: single changes of five kinds, one at a time, each from
///   just before the server writes the watch event until the agent logs the
///   sync that holds it; the agent's CPU time for them, per change;
/// - a burst: many changes (relabels of different pods, some pods added, some
///   deleted) written within one second; the time from the first write until
///   the agent logs the sync that holds them all, after which the kernel's
///   table is read back and must equal the final cluster's plan; CPU per change;
/// - the agent's peak memory at the end.
///
/// The agent runs as a process of its own (see `AgentProcess`) so that CPU and
/// memory are the agent's alone, and so that the benchmark measures whatever
/// the `netpol` binary does, through its command line.
public struct AgentBenchmark {
    public var size: BenchmarkSize
    /// The `netpol` binary to run.
    public var agentBinary: URL
    /// Single changes, one at a time.
    public var changes = 1_000
    /// Changes in the burst, written within one second.
    public var burst = 1_000
    public var node = "node-0"
    public var runner: any CommandRunner = ProcessRunner()

    public init(size: BenchmarkSize, agentBinary: URL) {
        self.size = size
        self.agentBinary = agentBinary
    }

    /// The single changes, cycled through one kind after the other.
    public enum Change: String, CaseIterable, Sendable {
        case podRelabelled = "pod relabelled"
        case podAdded = "pod added on the node"
        case podDeleted = "that pod deleted"
        case namespaceRelabelled = "namespace relabelled"
        case policyChanged = "policy port changed"
    }

    public struct Report: Sendable {
        public var pods: Int
        public var policies: Int
        /// Milliseconds from starting the agent until its last list arrived.
        public var listed: Double
        /// Milliseconds from starting the agent until its first full apply was done.
        public var ready: Double
        /// The agent's own time for its first sync (compile and full apply).
        public var firstSync: Double
        public var atReady: AgentUsage
        /// Event-to-kernel milliseconds per single change, in order.
        public var latencies: [(change: Change, milliseconds: Double)]
        /// The agent's own sync time for each single change, as it logs it.
        public var syncMilliseconds: [Double]
        /// Agent CPU milliseconds per single change.
        public var cpuPerChange: Double
        public var burst: BurstReport
        public var atEnd: AgentUsage
    }

    public struct BurstReport: Sendable {
        public var changes: Int
        public var relabels: Int
        public var adds: Int
        public var deletes: Int
        /// Milliseconds from the first write to the last.
        public var writing: Double
        /// Milliseconds from the first write until the kernel held the last change.
        public var toKernel: Double
        /// Syncs the agent ran for the burst (changes arriving during a sync are coalesced).
        public var syncs: Int
        /// Agent CPU milliseconds per change of the burst.
        public var cpuPerChange: Double
    }

    public func run() async throws -> Report {
        let objects = size.generator.objects()
        let namespace = "netpol-bench-agent-\(getpid())"
        try runner.check(Command("ip", ["netns", "add", namespace]))
        defer { _ = try? runner.run(Command("ip", ["netns", "delete", namespace])) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-bench-agent-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = try await FakeAPIServer(objects: objects)
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        try server.kubeconfig.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(binary: agentBinary, kubeconfig: kubeconfig, namespace: namespace, node: node)
        defer { agent.stop() }

        let ready = try await agent.waitForSync(reaching: 1, timeout: .seconds(900))
        let atReady = try agent.usage()
        var cluster = ChangingCluster(objects: objects, node: node)
        var version = ready.version

        let (latencies, syncs) = try await timeSingleChanges(on: server, cluster: &cluster, version: &version, agent: agent)
        let afterChanges = try agent.usage()
        let (first, lastWrite) = try await writeBurst(on: server, cluster: &cluster)
        version += burst
        let final = try await agent.waitForSync(reaching: version, timeout: .seconds(900))
        let atEnd = try agent.usage()
        try checkKernel(namespace: namespace, holds: cluster.objects)
        agent.stop()
        await server.close()

        let pods = objects.filter { if case .pod = $0 { return true } else { return false } }.count
        let tally = cluster.burstTally
        return Report(
            pods: pods, policies: objects.count - pods - size.generator.namespaces,
            listed: agent.listed.last.map { (agent.started.duration(to: $0)).milliseconds } ?? 0,
            ready: agent.started.duration(to: ready.arrived).milliseconds, firstSync: ready.milliseconds, atReady: atReady,
            latencies: latencies, syncMilliseconds: syncs,
            cpuPerChange: (afterChanges.cpuSeconds - atReady.cpuSeconds) * 1000 / Double(max(changes, 1)),
            burst: BurstReport(
                changes: burst, relabels: tally.relabels, adds: tally.adds, deletes: tally.deletes,
                writing: (lastWrite - first).milliseconds, toKernel: (final.arrived - first).milliseconds,
                syncs: agent.syncs.filter { $0.arrived > first && $0.version <= final.version }.count,
                cpuPerChange: (atEnd.cpuSeconds - afterChanges.cpuSeconds) * 1000 / Double(max(burst, 1))),
            atEnd: atEnd)
    }

    /// Makes `changes` single changes, each once the agent holds the one
    /// before; returns event-to-kernel and the agent's sync milliseconds of each.
    private func timeSingleChanges(
        on server: FakeAPIServer, cluster: inout ChangingCluster, version: inout Int, agent: AgentProcess
    ) async throws -> (latencies: [(Change, Double)], syncs: [Double]) {
        var latencies: [(Change, Double)] = []
        var syncs: [Double] = []
        for index in 0..<changes {
            let change = Change.allCases[index % Change.allCases.count]
            let written = ContinuousClock.now
            cluster.make(change, index: index, on: server)
            version += 1
            let sync = try await agent.waitForSync(reaching: version, timeout: .seconds(120))
            latencies.append((change, (sync.arrived - written).milliseconds))
            syncs.append(sync.milliseconds)
        }
        return (latencies, syncs)
    }

    /// Writes the burst's changes paced evenly over one second; returns when
    /// the first and the last were written.
    private func writeBurst(
        on server: FakeAPIServer, cluster: inout ChangingCluster
    ) async throws -> (first: ContinuousClock.Instant, last: ContinuousClock.Instant) {
        let clock = ContinuousClock()
        let first = clock.now
        for index in 0..<burst {
            let due = first + .seconds(1) * index / burst
            if clock.now < due { try await Task.sleep(until: due, clock: clock) }
            cluster.makeBurstChange(index: index, on: server)
        }
        return (first, clock.now)
    }

    /// Reads the kernel's table back and compares it with the plan of `objects`:
    /// a burst only counts once the kernel holds its final state.
    private func checkKernel(namespace: String, holds objects: [KubeObject]) throws {
        let plan = RuleCompiler.plan(node: node, snapshot: Snapshot(objects))
        let reader = NftablesProgrammer(runner: InProcessNftRunner(namespace: namespace, fallback: NetnsRunner(namespace: namespace, base: runner)))
        // Chains the agent keeps for reuse, and the sets only they use, are extra
        // objects no pod is bound to: no packet reaches them.
        let drift = try reader.verify(against: plan).filter { !([.chain, .set].contains($0.kind) && $0.detail == "unexpected") }
        guard drift.isEmpty else {
            throw BenchmarkError("the kernel does not hold the final cluster's rules: \(drift.prefix(5).map(\.description).joined(separator: "; "))")
        }
    }
}

/// The benchmark's cluster, changed one object at a time on the server; it
/// knows the objects the server holds at every moment.
private struct ChangingCluster {
    var pods: [Pod]
    var namespaces: [Namespace]
    var policies: [NetworkPolicy]
    let node: String
    /// Positions in `pods` of the pods deleted.
    var deleted: Set<Int> = []
    /// Pods added, by name, while they exist.
    var added: [String: Pod] = [:]
    var lastAdded: String?
    var burstTally = (relabels: 0, adds: 0, deletes: 0)

    init(objects: [KubeObject], node: String) {
        pods = objects.compactMap { if case .pod(let pod) = $0 { return pod } else { return nil } }
        namespaces = objects.compactMap { if case .namespace(let namespace) = $0 { return namespace } else { return nil } }
        policies = objects.compactMap { if case .networkPolicy(let policy) = $0 { return policy } else { return nil } }
        self.node = node
    }

    /// What the server holds now.
    var objects: [KubeObject] {
        namespaces.map { .namespace($0) } + pods.indices.filter { !deleted.contains($0) }.map { .pod(pods[$0]) }
            + added.values.map { .pod($0) } + policies.map { .networkPolicy($0) }
    }

    mutating func make(_ change: AgentBenchmark.Change, index: Int, on server: FakeAPIServer) {
        switch change {
        case .podRelabelled:
            relabel(at: index * 7919, on: server)
        case .podAdded:
            lastAdded = add("bench-\(index)", address: "10.254.\(index / 250 % 250).\(index % 250 + 1)", on: server)
        case .podDeleted:
            if let name = lastAdded, let pod = added.removeValue(forKey: name) { server.delete(.pod(pod)) }
            lastAdded = nil
        case .namespaceRelabelled:
            let position = index % namespaces.count
            namespaces[position].metadata.labels["team"] = namespaces[position].metadata.labels["team"] == "team-0" ? "team-2" : "team-0"
            server.apply(.namespace(namespaces[position]))
        case .policyChanged:
            let target = (index / AgentBenchmark.Change.allCases.count) % policies.count
            var policy = policies[target]
            if policy.spec.ingress.isEmpty { policy.spec.ingress = [NetworkPolicyIngressRule()] }
            let port = policy.spec.ingress[0].ports.first?.port == .int(8443) ? 8444 : 8443
            policy.spec.ingress[0].ports = [NetworkPolicyPort(port: .int(port))]
            policies[target] = policy
            server.apply(.networkPolicy(policy))
        }
    }

    /// Change `index` of a burst: one in twenty adds a pod on the node, one in
    /// twenty deletes a pod of the cluster, the others relabel pods, a
    /// different one each time (at M and above).
    mutating func makeBurstChange(index: Int, on server: FakeAPIServer) {
        switch index % 20 {
        case 0:
            add("burst-\(index)", address: "10.253.\(index / 250 % 250).\(index % 250 + 1)", on: server)
            burstTally.adds += 1
        case 10:
            let position = live(from: index * 104_729 + 1)
            deleted.insert(position)
            server.delete(.pod(pods[position]))
            burstTally.deletes += 1
        default:
            relabel(at: index * 7919 + 1, on: server)
            burstTally.relabels += 1
        }
    }

    /// Flips the tier (web, db) of the first pod not deleted from `position` on.
    private mutating func relabel(at position: Int, on server: FakeAPIServer) {
        let position = live(from: position)
        pods[position].metadata.labels["tier"] = pods[position].metadata.labels["tier"] == "web" ? "db" : "web"
        server.apply(.pod(pods[position]))
    }

    /// Adds a running pod on the node, like its first one; returns its name.
    @discardableResult
    private mutating func add(_ name: String, address: String, on server: FakeAPIServer) -> String {
        var pod = pods.first { $0.spec.nodeName == node } ?? pods[0]
        pod.metadata.name = name
        pod.status = PodStatus(phase: "Running", podIP: address, podIPs: [address])
        added[name] = pod
        server.apply(.pod(pod))
        return name
    }

    /// The first position, from `position` (wrapped) on, of a pod not deleted.
    private func live(from position: Int) -> Int {
        let start = position % pods.count
        let offset = (0..<pods.count).first { !deleted.contains((start + $0) % pods.count) } ?? 0
        return (start + offset) % pods.count
    }
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension AgentBenchmark.Report {
    /// The figures, in the order a table shows them.
    public var measurements: [Measurement] {
        var rows = [
            Measurement(name: "start: every kind listed", value: listed, unit: "ms"),
            Measurement(name: "start to ready (first full apply done)", value: ready, unit: "ms"),
            Measurement(name: "  of which the agent's first sync", value: firstSync, unit: "ms"),
            Measurement(name: "agent CPU until ready", value: atReady.cpuSeconds, unit: "s"),
            Measurement(name: "agent peak memory at ready (VmHWM)", value: atReady.peakMiB, unit: "MiB"),
        ]
        let kinds = [("event to kernel, all \(latencies.count) changes", latencies.map(\.milliseconds))]
            + AgentBenchmark.Change.allCases.map { change in
                ("event to kernel, \(change.rawValue)", latencies.filter { $0.change == change }.map(\.milliseconds))
            }
            + [("the agent's sync alone (its log)", syncMilliseconds)]
        for (name, values) in kinds where !values.isEmpty {
            let sorted = values.sorted()
            let at = { (fraction: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
            rows += [
                Measurement(name: "\(name): median", value: at(0.5), unit: "ms"),
                Measurement(name: "\(name): p99", value: at(0.99), unit: "ms"),
            ]
        }
        rows += [
            Measurement(name: "agent CPU per single change", value: cpuPerChange, unit: "ms"),
            Measurement(name: "burst: changes written", value: Double(burst.changes), unit: "changes"),
            Measurement(name: "burst: of which pods relabelled", value: Double(burst.relabels), unit: "changes"),
            Measurement(name: "burst: of which pods added", value: Double(burst.adds), unit: "changes"),
            Measurement(name: "burst: of which pods deleted", value: Double(burst.deletes), unit: "changes"),
            Measurement(name: "burst: first write to last", value: burst.writing, unit: "ms"),
            Measurement(name: "burst: first write to final state in the kernel", value: burst.toKernel, unit: "ms"),
            Measurement(name: "burst: the agent's syncs", value: Double(burst.syncs), unit: "syncs"),
            Measurement(name: "burst: agent CPU per change", value: burst.cpuPerChange, unit: "ms"),
            Measurement(name: "agent peak memory at the end (VmHWM)", value: atEnd.peakMiB, unit: "MiB"),
            Measurement(name: "agent resident memory at the end (VmRSS)", value: atEnd.residentMiB, unit: "MiB"),
        ]
        return rows
    }
}
