import Foundation
import Logging
import NetpolAgent
import NetpolDataplane
import NetpolModel
import NetpolRules
import NetpolTesting
import Prometheus
import Testing

/// The cluster-free mode: a directory of manifests drives a real kernel table.
@Suite("Agent on a directory of manifests", .enabled(if: isRoot, Comment(rawValue: rootOnly)))
struct FilesSourceTests {
    private static let namespaceAndPods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {nodeName: node-a, containers: [{name: main, ports: [{containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.9.0.10}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: shop, labels: {app: client}}
        spec: {nodeName: node-a}
        status: {phase: Running, podIP: 10.9.0.11}
        """

    private static let policy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web-from-client, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress:
          - from: [{podSelector: {matchLabels: {app: client}}}]
            ports: [{port: 8080}]
        """

    /// The two ways the files source used to open every isolated pod: starting
    /// over an earlier run's rules before the directory exists, and a directory
    /// renamed under a running agent.
    @Test func aMissingDirectoryLeavesTheRulesInForce() async throws {
        try await onAgentThreads {
            let namespace = "netpol-agent-missing-\(getpid())"
            let host = ProcessRunner()
            try host.check(Command("ip", ["netns", "add", namespace]))
            defer { _ = try? host.run(Command("ip", ["netns", "delete", namespace])) }
            let directory = NSTemporaryDirectory() + namespace
            defer {
                try? FileManager.default.removeItem(atPath: directory)
                try? FileManager.default.removeItem(atPath: directory + ".moved")
            }
            let runner = NetnsRunner(namespace: namespace)
            let earlier = RuleCompiler.plan(node: "node-a", snapshot: Snapshot(try Self.objects(Self.namespaceAndPods + "\n---\n" + Self.policy)))
            try NftablesProgrammer(runner: runner).replace(earlier)
            let table = { (try? NftablesProgrammer(runner: runner).readBack()) ?? nil ?? "" }
            let rulesBefore = table()
            #expect(rulesBefore.contains("10.9.0.10"), "the earlier run isolated web")

            let status = AgentStatus()
            let registry = PrometheusCollectorRegistry()
            let errors = { registry.emitToString().split(separator: "\n").first { $0.hasPrefix("netpol_source_errors_total") }.map(String.init) ?? "" }
            let task = Task(executorPreference: AgentExecutor.shared) {
                let agent = Agent(
                    configuration: AgentConfiguration(node: "node-a"), programmer: NftablesProgrammer(runner: runner),
                    status: status, logger: Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() },
                    metrics: AgentMetrics(factory: PrometheusMetricsFactory(registry: registry)))
                await agent.run(sources: [FilesSource(directory: directory, interval: .milliseconds(20))])
            }
            defer { task.cancel() }
            try await waitUntil { errors().hasSuffix(" 1") }
            #expect(!status.isReady)
            #expect(table() == rulesBefore, "no directory, no write")

            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data((Self.namespaceAndPods + "\n---\n" + Self.policy).utf8).write(to: URL(fileURLWithPath: directory + "/shop.yaml"))
            try await waitUntil { status.isReady }
            let synced = table()
            #expect(synced.contains("10.9.0.10"))

            try FileManager.default.moveItem(atPath: directory, toPath: directory + ".moved")
            try await waitUntil { errors().hasSuffix(" 2") }
            #expect(table() == synced, "a directory renamed away is not an empty cluster")
        }
    }

    private static func objects(_ yaml: String) throws -> [KubeObject] {
        var set = ManifestSet()
        ManifestLoader.load(data: Data(yaml.utf8), file: "test.yaml", into: &set)
        try #require(set.errors.isEmpty)
        return set.objects.map(\.object)
    }

    @Test func editingTheDirectoryChangesTheKernelRules() async throws {
        try await onAgentThreads {
            let namespace = "netpol-agent-files-\(getpid())"
            let host = ProcessRunner()
            try host.check(Command("ip", ["netns", "add", namespace]))
            defer { _ = try? host.run(Command("ip", ["netns", "delete", namespace])) }
            let directory = NSTemporaryDirectory() + namespace
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Data(Self.namespaceAndPods.utf8).write(to: URL(fileURLWithPath: directory + "/pods.yaml"))

            let runner = NetnsRunner(namespace: namespace)
            let store = ClusterStore()
            let status = AgentStatus()
            let registry = PrometheusCollectorRegistry()
            let task = Task(executorPreference: AgentExecutor.shared) {
                let agent = Agent(
                    configuration: AgentConfiguration(node: "node-a"), programmer: NftablesProgrammer(runner: runner),
                    store: store, status: status, logger: Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() },
                    metrics: AgentMetrics(factory: PrometheusMetricsFactory(registry: registry)))
                await agent.run(sources: [FilesSource(directory: directory, interval: .milliseconds(50))])
            }
            defer { task.cancel() }
            let table = { (try? NftablesProgrammer(runner: runner).readBack()) ?? nil ?? "" }
            try await waitUntil { status.isReady }
            #expect(!table().contains("10.9.0.10"), "no policy, no isolated pod")

            try Data(Self.policy.utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
            try await waitUntil { table().contains("10.9.0.10") && table().contains("10.9.0.11") }

            // A broken edit is refused and the file's last good policy stays.
            try Data("kind: NetworkPolicy\nspec: [unclosed".utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
            try await waitUntil { registry.emitToString().contains("netpol_source_errors_total{source=\"files\"} 1") }
            #expect(table().contains("10.9.0.10"))

            try FileManager.default.removeItem(atPath: directory + "/policy.yaml")
            try await waitUntil { !table().contains("10.9.0.10") }
            task.cancel()
            await task.value
            #expect(table().contains("table inet netpol"), "stopping leaves the rules in place")
        }
    }
}
