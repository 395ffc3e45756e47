import Foundation
import Synchronization
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolRules
import NetpolWorkload

/// What the rules cost each packet: TCP connection rate and throughput between
/// two lab pods on one node, with (a) no rules, (b) netpol's rules for the L
/// cluster with the server selected by many policies (and with cluster
/// policies, an Admin allowlist ahead of them: `benchClusterPolicy`), and (c) a
/// naive baseline: the same allowance as one linear rule per peer address (10,000 rules).
/// With `logDenied`, also (b) with denied connections logged (`--log-denied`'s
/// rules, and a reader bound to the group, as the agent would be). With
/// `countConnections`, also (b) with every chain rule and end counted
/// (`--count-connections`'s rules).
public struct DatapathBenchmark {
    public var runs = 5
    public var duration: Duration = .seconds(2)
    public var size = BenchmarkSize.l
    public var logDenied = false
    public var countConnections = false

    static let node = "bench-node"
    static let server = PodID(namespace: "ns-0", name: "bench-server")
    static let client = PodID(namespace: "ns-1", name: "bench-client")
    /// Served by the lab's pod server (connections); the stream port gets its own sink.
    static let port = 5201
    static let streamPort = 5301

    public init() {}

    public struct Row: Sendable {
        public var configuration: String
        public var connectionsPerSecond: Double
        public var bytesPerSecond: Double
    }

    public func run() throws -> [Row] {
        let snapshot = Snapshot(Self.objects(size))
        let lab = try Lab(snapshot: snapshot, only: [Self.server, Self.client])
        defer { lab.teardown() }
        guard let node = lab.runner(node: Self.node) else { throw LabError("no bench node") }
        let nftables = NftablesProgrammer(runner: node)
        let logging = DenyLogging(group: 100)
        // Bound for the whole run, so that logged packets go somewhere, as with the agent.
        let reader = try logDenied ? NamespaceThread.run(in: try Self.namespace(node)) { try PacketLogReader(group: logging.group) } : nil
        let draining = reader.map(LogDrain.init)
        defer { draining?.stop() }

        let naive = Self.naiveRuleset(snapshot)
        let conntrackOnly = "table inet conntrack-only {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tct state established,related accept\n\t}\n}\n"
        // Each configuration as a function that loads it from a clean node.
        let configurations: [(String, () throws -> Void)] = [
            ("(a) no rules", {}),
            // Any stateful filter turns connection tracking on; on a real node
            // kube-proxy's NAT has it on anyway. This separates its cost from the rules'.
            ("(a2) conntrack only, no rules", { try node.check(Command("nft", ["-f", "-"], input: conntrackOnly)) }),
            ("(b) netpol, L rules", { try nftables.replace(RuleCompiler.plan(node: Self.node, snapshot: snapshot)) }),
            ("(c) naive: 10,000 linear rules", { try node.check(Command("nft", ["-f", "-"], input: naive)) }),
        ] + (logDenied ? [
            ("(b2) netpol, L rules, log denied", { try nftables.replace(RuleCompiler.plan(node: Self.node, snapshot: snapshot, logging: logging)) }),
        ] : []) + (countConnections ? [
            ("(b3) netpol, L rules, counted", {
                var plan = RuleCompiler.plan(node: Self.node, snapshot: snapshot)
                plan.countsConnections = true
                try nftables.replace(plan)
            }),
        ] : [])
        let clean = "table inet netpol {}\ntable inet naive {}\ntable inet conntrack-only {}\ndelete table inet netpol\ndelete table inet naive\ndelete table inet conntrack-only\n"
        defer { _ = try? node.run(Command("nft", ["-f", "-"], input: clean)) }
        // Configurations take turns within each round, so drift in the machine's
        // speed spreads over all of them instead of favouring one.
        var rates = Array(repeating: [Double](), count: configurations.count)
        var streams = rates
        for _ in 0..<runs {
            for (index, configuration) in configurations.enumerated() {
                try node.check(Command("nft", ["-f", "-"], input: clean))
                try configuration.1()
                rates[index].append(try lab.connectionRate(from: Self.client, to: Self.server, port: Self.port, duration: duration))
                streams[index].append(try lab.throughput(from: Self.client, to: Self.server, port: Self.streamPort, duration: duration))
            }
        }
        return configurations.indices.map {
            Row(configuration: configurations[$0].0, connectionsPerSecond: Self.median(rates[$0]), bytesPerSecond: Self.median(streams[$0]))
        }
    }

    /// The lab node's network namespace.
    private static func namespace(_ runner: any CommandRunner) throws -> String {
        guard let runner = runner as? NetnsRunner else { throw LabError("the bench node runs no network namespace") }
        return runner.namespace
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The cluster plus a server selected by many policies and a client allowed
    /// to reach it, both on the bench node.
    static func objects(_ size: BenchmarkSize) -> [KubeObject] {
        var objects = size.generator.objects()
        let ports = [ContainerPort(name: "bench", containerPort: port)]
        for (id, labels, address) in [(server, ["app": "app-0", "tier": "web", "bench": "server"], "10.254.0.1"),
                                      (client, ["app": "app-1", "tier": "api", "bench": "client"], "10.254.0.2")] {
            objects.append(.pod(Pod(
                metadata: ObjectMeta(name: id.name, namespace: id.namespace, labels: labels),
                spec: PodSpec(nodeName: node, containers: [Container(name: "bench", ports: ports)]),
                status: PodStatus(phase: "Running", podIP: address, podIPs: [address]))))
        }
        objects.append(.networkPolicy(NetworkPolicy(
            metadata: ObjectMeta(name: "bench-in", namespace: server.namespace),
            spec: NetworkPolicySpec(podSelector: LabelSelector(matchLabels: ["bench": "server"]), ingress: [NetworkPolicyIngressRule(
                ports: [NetworkPolicyPort(port: .int(port)), NetworkPolicyPort(port: .int(streamPort))],
                from: [NetworkPolicyPeer(podSelector: LabelSelector(matchLabels: ["bench": "client"]), namespaceSelector: .everything)])]))))
        if size.generator.clusterPolicies > 0 { objects.append(.clusterNetworkPolicy(benchClusterPolicy)) }
        objects.append(.networkPolicy(NetworkPolicy(
            metadata: ObjectMeta(name: "bench-out", namespace: client.namespace),
            spec: NetworkPolicySpec(podSelector: LabelSelector(matchLabels: ["bench": "client"]), egress: [NetworkPolicyEgressRule(
                to: [NetworkPolicyPeer(podSelector: LabelSelector(matchLabels: ["bench": "server"]), namespaceSelector: .everything)])],
                policyTypes: [.egress]))))
        return objects
    }

    /// With cluster policies: an Admin allowlist checked first on both pods, so
    /// that the generated policies cannot drop the bench traffic and each
    /// connection still meets the Admin tier. 20 Deny rules the traffic does not
    /// match (addresses outside the cluster), then the Accept of the other pod.
    static var benchClusterPolicy: ClusterNetworkPolicy {
        let misses = (0..<20).map { ClusterPolicyPeer(networks: ["192.0.2.\($0)/32"]) }
        func pods(_ role: String) -> NamespacedPods { NamespacedPods(podSelector: LabelSelector(matchLabels: ["bench": role])) }
        return ClusterNetworkPolicy(metadata: ObjectMeta(name: "bench-allowlist"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 0,
            subject: ClusterPolicySubject(pods: NamespacedPods(podSelector: LabelSelector(matchExpressions: [
                LabelSelectorRequirement(key: "bench", operator: .exists)]))),
            ingress: [ClusterPolicyIngressRule(action: .accept, from: [ClusterPolicyPeer(pods: pods("client"))])],
            egress: misses.map { ClusterPolicyEgressRule(action: .deny, to: [$0]) }
                + [ClusterPolicyEgressRule(action: .accept, to: [ClusterPolicyPeer(pods: pods("server"))])]))
    }

    /// One accept rule per cluster pod address (the client's last), the way a
    /// naive implementation writes "allow from these peers".
    static func naiveRuleset(_ snapshot: Snapshot) -> String {
        let peers = snapshot.pods.map(\.status.podIP).filter { !$0.isEmpty && $0 != "10.254.0.2" && $0 != "10.254.0.1" }
        var lines = ["table inet naive {", "\tchain forward {", "\t\ttype filter hook forward priority filter; policy accept;",
                     "\t\tct state established,related accept"]
        lines += peers.prefix(10_000).map { "\t\tip saddr \($0) ip daddr 10.254.0.1 accept" }
        lines += ["\t\tip saddr 10.254.0.2 ip daddr 10.254.0.1 accept", "\t\tip daddr 10.254.0.1 drop", "\t}", "}"]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Reads and discards what the kernel logs to a group, on a thread of its own, until stopped.
private final class LogDrain: Sendable {
    private let stopping = Atomic(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(_ reader: PacketLogReader) {
        Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                do {
                    _ = try reader.read(timeout: .milliseconds(100))
                } catch {
                    // A failing read returns at once: wait instead of spinning on a core the benchmark measures.
                    print("warning: reading the log group failed: \(error)")
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            stopped.signal()
        }.start()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        stopped.wait()
    }
}
