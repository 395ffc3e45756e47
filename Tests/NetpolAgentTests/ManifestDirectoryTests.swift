import Foundation
import Logging
import NetpolAgent
import NetpolModel
import Prometheus
import Testing

/// The files source fails closed: a directory that cannot be read is never an
/// empty cluster, and a ConfigMap-style swap is read as one version.
@Suite("Files source reads whole directories or nothing")
struct ManifestDirectoryTests {
    private static func pod(_ name: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: shop}
        spec: {nodeName: node-a}
        status: {phase: Running, podIP: 10.9.0.\(name.count)}

        """
    }

    private static let denyAll = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny, namespace: shop}
        spec: {podSelector: {}, policyTypes: [Ingress]}

        """

    /// A source running over `directory` into a fresh store, and what it counted.
    private struct Running {
        let store = ClusterStore()
        let registry = PrometheusCollectorRegistry()
        let task: Task<Void, Never>

        init(_ directory: String) {
            let store = self.store
            let metrics = AgentMetrics(factory: PrometheusMetricsFactory(registry: registry))
            // On the agent's threads, like the agent's own sources (see LoopHarness).
            task = Task(executorPreference: AgentExecutor.shared) {
                await FilesSource(directory: directory, interval: .milliseconds(20))
                    .run(into: store, logger: Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() }, metrics: metrics)
            }
        }

        var sourceErrors: Int {
            let text = registry.emitToString()
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("netpol_source_errors_total{source=\"files\"}") }) else { return 0 }
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }

        var names: [String] {
            let snapshot = store.snapshot().snapshot
            return (snapshot.pods.map(\.metadata.name) + snapshot.policies.map(\.metadata.name)).sorted()
        }
    }

    private static func scratch(_ tag: String) -> String {
        NSTemporaryDirectory() + "netpol-manifests-\(tag)-\(getpid())"
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func aMissingDirectoryIsNotAnEmptyCluster() async throws {
        let directory = Self.scratch("missing")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = Running(directory)
        defer { source.task.cancel() }
        try await waitUntil { source.sourceErrors == 1 }
        #expect(!source.store.isComplete, "nothing listed: the agent must write nothing")

        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.write(Self.pod("web") + "---\n" + Self.denyAll, to: directory + "/shop.yaml")
        try await waitUntil { source.store.isComplete }
        #expect(source.names == ["deny", "web"])
    }

    @Test func aBrokenFileAtStartHoldsEverythingBack() async throws {
        let directory = Self.scratch("broken")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.pod("web"), to: directory + "/pods.yaml")
        try Self.write("kind: NetworkPolicy\nspec: [unclosed", to: directory + "/policy.yaml")
        let source = Running(directory)
        defer { source.task.cancel() }
        try await waitUntil { source.sourceErrors == 1 }
        #expect(!source.store.isComplete, "the broken file may hold a default deny")

        try Self.write(Self.denyAll, to: directory + "/policy.yaml")
        try await waitUntil { source.store.isComplete }
        #expect(source.names == ["deny", "web"])
    }

    @Test func aDirectoryThatGoesAwayKeepsTheLastGoodObjects() async throws {
        let directory = Self.scratch("renamed")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: directory + ".moved")
        }
        try Self.write(Self.pod("web") + "---\n" + Self.denyAll, to: directory + "/shop.yaml")
        let source = Running(directory)
        defer { source.task.cancel() }
        try await waitUntil { source.store.isComplete }
        let version = source.store.version

        try FileManager.default.moveItem(atPath: directory, toPath: directory + ".moved")
        try await waitUntil { source.sourceErrors == 1 }
        #expect(source.store.version == version)
        #expect(source.names == ["deny", "web"])

        // Back again, with one change: it is read, and the fault was counted once.
        try FileManager.default.moveItem(atPath: directory + ".moved", toPath: directory)
        try Self.write(Self.pod("api"), to: directory + "/api.yaml")
        try await waitUntil { source.names == ["api", "deny", "web"] }
        #expect(source.sourceErrors == 1)
    }

    /// A `..data` that is not a link cannot say which version is current: an
    /// error, not a reason to read the directory around it.
    @Test func aDataEntryThatIsNotALinkIsAnError() async throws {
        let directory = Self.scratch("data-dir")
        try FileManager.default.createDirectory(atPath: directory + "/..data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.pod("web"), to: directory + "/pods.yaml")
        let source = Running(directory)
        defer { source.task.cancel() }
        try await waitUntil { source.sourceErrors == 1 }
        #expect(!source.store.isComplete)
    }

    /// A ConfigMap volume: files are links through `..data` to a timestamped
    /// directory, and an update renames a new `..data` link over the old one.
    @Test func aConfigMapSwapIsReadAsOneVersion() async throws {
        let directory = Self.scratch("configmap")
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: directory) }
        func publish(_ version: String, _ files: [String: String]) throws {
            let target = "..\(version)"
            try manager.createDirectory(atPath: directory + "/" + target, withIntermediateDirectories: true)
            for (name, text) in files { try Self.write(text, to: directory + "/" + target + "/" + name) }
            try manager.createSymbolicLink(atPath: directory + "/..data_tmp", withDestinationPath: target)
            guard rename(directory + "/..data_tmp", directory + "/..data") == 0 else { throw CocoaError(.fileWriteUnknown) }
            for name in files.keys where !manager.fileExists(atPath: directory + "/" + name) {
                try manager.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: "..data/" + name)
            }
        }
        try publish("2026_11_30_01", ["pods.yaml": Self.pod("web"), "policy.yaml": Self.denyAll])
        let source = Running(directory)
        defer { source.task.cancel() }
        try await waitUntil { source.store.isComplete }
        #expect(source.names == ["deny", "web"])

        // The new version has no policy file and another pod; the old directory and link go.
        try publish("2026_11_30_02", ["pods.yaml": Self.pod("api")])
        try manager.removeItem(atPath: directory + "/..2026_11_30_01")
        try manager.removeItem(atPath: directory + "/policy.yaml")
        try await waitUntil { source.names == ["api"] }
        #expect(source.sourceErrors == 0)
    }
}
