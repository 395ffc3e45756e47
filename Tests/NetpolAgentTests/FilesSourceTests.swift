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

    /// An agent reading `directory` and programming the network namespace
    /// `runner` enters, and what a test looks at.
    private struct FilesAgent {
        let directory: String
        let runner: NetnsRunner
        let status = AgentStatus()
        let registry = PrometheusCollectorRegistry()

        /// `nft list table inet netpol` in the namespace; empty when there is none.
        func table() -> String { (try? NftablesProgrammer(runner: runner).readBack()) ?? nil ?? "" }

        /// `netpol_source_errors_total{source="files"}`.
        var sourceErrors: Int {
            let line = registry.emitToString().split(separator: "\n").first { $0.hasPrefix("netpol_source_errors_total{source=\"files\"}") }
            return line.flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? 0
        }
    }

    /// Makes a network namespace and a directory (`prepare` may fill either),
    /// runs `body` while an agent works on them, then stops the agent and
    /// removes both, also when the test fails.
    private func withFilesAgent(
        _ tag: String, prepare: (_ runner: NetnsRunner, _ directory: String) throws -> Void,
        _ body: (FilesAgent, Task<Void, Never>) async throws -> Void
    ) async throws {
        try await onAgentThreads {
            let namespace = "netpol-agent-\(tag)-\(getpid())"
            let host = ProcessRunner()
            try host.check(Command("ip", ["netns", "add", namespace]))
            defer { _ = try? host.run(Command("ip", ["netns", "delete", namespace])) }
            let directory = NSTemporaryDirectory() + namespace
            defer {
                try? FileManager.default.removeItem(atPath: directory)
                try? FileManager.default.removeItem(atPath: directory + ".moved")
            }
            let agent = FilesAgent(directory: directory, runner: NetnsRunner(namespace: namespace))
            try prepare(agent.runner, directory)
            let task = Task(executorPreference: AgentExecutor.shared) { [agent] in
                await Agent(
                    configuration: AgentConfiguration(node: "node-a"), programmer: NftablesProgrammer(runner: agent.runner),
                    status: agent.status, logger: Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() },
                    metrics: AgentMetrics(factory: PrometheusMetricsFactory(registry: agent.registry))
                ).run(sources: [FilesSource(directory: directory, interval: .milliseconds(20))])
            }
            defer { task.cancel() }
            try await body(agent, task)
        }
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The two ways the files source used to open every isolated pod: starting
    /// over an earlier run's rules before the directory exists, and a directory
    /// renamed under a running agent.
    @Test func aMissingDirectoryLeavesTheRulesInForce() async throws {
        var rulesBefore = ""
        try await withFilesAgent("missing", prepare: { runner, _ in
            let earlier = RuleCompiler.plan(node: "node-a", snapshot: Snapshot(try Self.objects(Self.namespaceAndPods + "\n---\n" + Self.policy)))
            let programmer = NftablesProgrammer(runner: runner)
            try programmer.replace(earlier)
            rulesBefore = try programmer.readBack() ?? ""
        }) { agent, _ in
            #expect(rulesBefore.contains("10.9.0.10"), "the earlier run isolated web")
            try await waitUntil { agent.sourceErrors == 1 }
            #expect(!agent.status.isReady)
            #expect(agent.table() == rulesBefore, "no directory, no write")

            try FileManager.default.createDirectory(atPath: agent.directory, withIntermediateDirectories: true)
            try Self.write(Self.namespaceAndPods + "\n---\n" + Self.policy, to: agent.directory + "/shop.yaml")
            try await waitUntil { agent.status.isReady }
            let synced = agent.table()
            #expect(synced.contains("10.9.0.10"))

            try FileManager.default.moveItem(atPath: agent.directory, toPath: agent.directory + ".moved")
            try await waitUntil { agent.sourceErrors == 2 }
            #expect(agent.table() == synced, "a directory renamed away is not an empty cluster")
        }
    }

    private static func objects(_ yaml: String) throws -> [KubeObject] {
        var set = ManifestSet()
        ManifestLoader.load(data: Data(yaml.utf8), file: "test.yaml", into: &set)
        try #require(set.errors.isEmpty)
        return set.objects.map(\.object)
    }

    @Test func editingTheDirectoryChangesTheKernelRules() async throws {
        try await withFilesAgent("files", prepare: { _, directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.write(Self.namespaceAndPods, to: directory + "/pods.yaml")
        }) { agent, task in
            try await waitUntil { agent.status.isReady }
            #expect(!agent.table().contains("10.9.0.10"), "no policy, no isolated pod")

            try Self.write(Self.policy, to: agent.directory + "/policy.yaml")
            try await waitUntil { agent.table().contains("10.9.0.10") && agent.table().contains("10.9.0.11") }

            // A broken edit is refused and the file's last good policy stays.
            try Self.write("kind: NetworkPolicy\nspec: [unclosed", to: agent.directory + "/policy.yaml")
            try await waitUntil { agent.sourceErrors == 1 }
            #expect(agent.table().contains("10.9.0.10"))

            try FileManager.default.removeItem(atPath: agent.directory + "/policy.yaml")
            try await waitUntil { !agent.table().contains("10.9.0.10") }
            task.cancel()
            await task.value
            #expect(agent.table().contains("table inet netpol"), "stopping leaves the rules in place")
        }
    }
}
