import Foundation
import Logging
import Metrics
import NetpolAgent
import NetpolDataplane
import NetpolKube
import NetpolModel
import NetpolTesting
import NetpolWorkload

/// Event-to-kernel latency of the agent: a change is written to the (fake,
/// TLS) API server's watch streams, the agent receives it, recompiles the
/// node's plan and writes the difference to a real nftables table in a fresh
/// network namespace. Measured from just before the server writes the event
/// until the agent reports the kernel transaction done, one change at a time.
public struct AgentLatencyBenchmark {
    public var generator = BenchmarkSize.m.generator
    public var changes = 1_000
    public var node = "node-0"
    public var runner: any CommandRunner = ProcessRunner()

    public init() {}

    /// The changes cycled through, one kind after the other.
    public enum Change: String, CaseIterable, Sendable {
        case podRelabelled = "pod relabelled"
        case podAdded = "pod added on the node"
        case podDeleted = "that pod deleted"
        case namespaceRelabelled = "namespace relabelled"
        case policyChanged = "policy port changed"
    }

    public struct Report: Sendable {
        /// Event-to-kernel milliseconds per change, in order.
        public var latencies: [(change: Change, milliseconds: Double)]
        /// The agent's own part: compile, diff and kernel transaction, per sync.
        public var syncMilliseconds: [Double]
        /// Of that, the part before the kernel: snapshot, index, plan.
        public var compileMilliseconds: [Double]
        public var pods: Int
        public var policies: Int
    }

    public func run() async throws -> Report {
        let objects = generator.objects()
        let namespace = "netpol-bench-agent-\(getpid())"
        try runner.check(Command("ip", ["netns", "add", namespace]))
        defer { _ = try? runner.run(Command("ip", ["netns", "delete", namespace])) }

        let server = try await FakeAPIServer(objects: objects)
        let client = try KubeClient(access: server.access)
        let store = ClusterStore()
        let status = AgentStatus()
        let (node, nodeRunner) = (node, InProcessNftRunner(namespace: namespace, fallback: NetnsRunner(namespace: namespace, base: runner)))
        let agentTask = Task(executorPreference: AgentExecutor.shared) {
            let agent = Agent(
                configuration: AgentConfiguration(node: node), programmer: NftablesProgrammer(runner: nodeRunner),
                store: store, status: status, logger: Logger(label: "netpol.bench") { _ in SwiftLogNoOpLogHandler() },
                metrics: AgentMetrics(factory: NOOPMetricsHandler.instance))
            await agent.run(sources: [KubernetesSource(client: client)])
        }
        defer { agentTask.cancel() }
        guard await status.waitForSync(reaching: 1, timeout: .seconds(120)) != nil else {
            throw BenchmarkError("the agent did not finish its first sync within 2 minutes")
        }

        var cluster = ChangingCluster(objects: objects, node: node)
        var latencies: [(Change, Double)] = []
        var syncs: [Double] = []
        var compiles: [Double] = []
        let clock = ContinuousClock()
        for index in 0..<changes {
            let change = Change.allCases[index % Change.allCases.count]
            let before = store.version
            let written = clock.now
            cluster.make(change, index: index, on: server)
            let deadline = written + .seconds(30)
            while store.version <= before {
                guard clock.now < deadline else { throw BenchmarkError("change \(index) (\(change.rawValue)) never reached the agent") }
                await Task.yield()
            }
            guard let report = await status.waitForSync(reaching: before + 1, timeout: .seconds(30)) else {
                throw BenchmarkError("change \(index) (\(change.rawValue)) never reached the kernel")
            }
            latencies.append((change, (report.finished - written).milliseconds))
            syncs.append(report.duration.milliseconds)
            compiles.append(report.compileDuration.milliseconds)
        }
        agentTask.cancel()
        await agentTask.value
        await client.shutdown()
        await server.close()
        let pods = objects.filter { if case .pod = $0 { return true } else { return false } }.count
        return Report(latencies: latencies, syncMilliseconds: syncs, compileMilliseconds: compiles, pods: pods, policies: objects.count - pods - generator.namespaces)
    }
}

/// The benchmark's cluster, changed one object at a time on the server.
private struct ChangingCluster {
    var pods: [Pod]
    var namespaces: [Namespace]
    var policies: [NetworkPolicy]
    let node: String
    var added: Pod?

    init(objects: [KubeObject], node: String) {
        pods = objects.compactMap { if case .pod(let pod) = $0 { return pod } else { return nil } }
        namespaces = objects.compactMap { if case .namespace(let namespace) = $0 { return namespace } else { return nil } }
        policies = objects.compactMap { if case .networkPolicy(let policy) = $0 { return policy } else { return nil } }
        self.node = node
    }

    mutating func make(_ change: AgentLatencyBenchmark.Change, index: Int, on server: FakeAPIServer) {
        switch change {
        case .podRelabelled:
            let position = (index * 7919) % pods.count
            pods[position].metadata.labels["tier"] = pods[position].metadata.labels["tier"] == "web" ? "db" : "web"
            server.apply(.pod(pods[position]))
        case .podAdded:
            var pod = pods.first { $0.spec.nodeName == node } ?? pods[0]
            pod.metadata.name = "bench-\(index)"
            let address = "10.254.\(index / 250 % 250).\(index % 250 + 1)"
            pod.status = PodStatus(phase: "Running", podIP: address, podIPs: [address])
            added = pod
            server.apply(.pod(pod))
        case .podDeleted:
            if let pod = added { server.delete(.pod(pod)) }
            added = nil
        case .namespaceRelabelled:
            let position = index % namespaces.count
            namespaces[position].metadata.labels["team"] = namespaces[position].metadata.labels["team"] == "team-0" ? "team-2" : "team-0"
            server.apply(.namespace(namespaces[position]))
        case .policyChanged:
            let target = (index / AgentLatencyBenchmark.Change.allCases.count) % policies.count
            var policy = policies[target]
            if policy.spec.ingress.isEmpty { policy.spec.ingress = [NetworkPolicyIngressRule()] }
            let port = policy.spec.ingress[0].ports.first?.port == .int(8443) ? 8444 : 8443
            policy.spec.ingress[0].ports = [NetworkPolicyPort(port: .int(port))]
            policies[target] = policy
            server.apply(.networkPolicy(policy))
        }
    }
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
