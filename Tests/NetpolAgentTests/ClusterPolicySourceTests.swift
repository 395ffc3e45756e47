import Foundation
import Logging
import NetpolAgent
import NetpolKube
import NetpolModel
import NetpolTesting
import Prometheus
import Testing

/// The Kubernetes source with ClusterNetworkPolicies and Nodes: a fake API
/// server, the real client and reflectors, a store, and a manual clock for the
/// look-again interval after a 404.
private final class SourceHarness: Sendable {
    let server: FakeAPIServer
    let client: KubeClient
    let store = ClusterStore()
    let clock = ManualClock()
    let registry = PrometheusCollectorRegistry()
    private let task: Task<Void, Never>

    init(objects: [KubeObject], crdInstalled: Bool = true) async throws {
        server = try await FakeAPIServer(objects: objects)
        if !crdInstalled { server.removeClusterPolicyCRD() }
        client = try KubeClient(access: server.access)
        let source = KubernetesSource(
            client: client, watchTimeout: 20...30, backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)),
            crdRecheck: .seconds(60), clock: clock)
        let (store, registry) = (store, registry)
        task = Task(executorPreference: AgentExecutor.shared) {
            await source.run(
                into: store, logger: Logger(label: "netpol.test") { _ in SwiftLogNoOpLogHandler() },
                metrics: AgentMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        }
    }

    var clusterPolicies: [String] { store.snapshot().snapshot.clusterPolicies.map(\.name) }
    var nodes: [String] { store.snapshot().snapshot.nodes.map(\.name) }

    /// Requests for the ClusterNetworkPolicy collection that were lists (not watches).
    var clusterPolicyLists: Int {
        server.requests.filter { $0.contains("/clusternetworkpolicies?") && !$0.contains("watch=1") }.count
    }

    func stop() async {
        task.cancel()
        await task.value
        await client.shutdown()
        await server.close()
    }
}

private func clusterPolicy(_ name: String, priority: Int = 10) -> KubeObject {
    .clusterNetworkPolicy(ClusterNetworkPolicy(
        metadata: ObjectMeta(name: name),
        spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: priority, subject: ClusterPolicySubject(namespaces: .everything),
            egress: [ClusterPolicyEgressRule(action: .deny, to: [ClusterPolicyPeer(nodes: .everything)])])))
}

private func node(_ name: String, address: String) -> KubeObject {
    .node(Node(metadata: ObjectMeta(name: name, labels: ["zone": "a"]), addresses: [NodeAddress(type: "InternalIP", address: address)]))
}

private let namespaceX = KubeObject.namespace(Namespace(metadata: ObjectMeta(name: "x")))

@Suite("Kubernetes source: ClusterNetworkPolicies and Nodes")
struct ClusterPolicySourceTests {
    @Test func watchesClusterPoliciesAndNodesIntoTheStore() async throws {
        try await onAgentThreads {
            let harness = try await SourceHarness(objects: [namespaceX, clusterPolicy("deny-nodes"), node("node-a", address: "192.168.0.10")])
            try await waitUntil { harness.store.isComplete }
            #expect(harness.clusterPolicies == ["deny-nodes"])
            #expect(harness.nodes == ["node-a"])

            harness.server.apply(clusterPolicy("another", priority: 20))
            harness.server.apply(node("node-b", address: "192.168.0.11"))
            try await waitUntil { harness.clusterPolicies == ["another", "deny-nodes"] && harness.nodes == ["node-a", "node-b"] }
            let changes = harness.store.takeChanges().changes
            #expect(changes.contains(.upsert(try #require(harness.store.snapshot().snapshot.clusterPolicies.first.map(KubeObject.clusterNetworkPolicy)))))

            harness.server.delete(clusterPolicy("deny-nodes"))
            try await waitUntil { harness.clusterPolicies == ["another"] }
            #expect(harness.store.takeChanges().changes == [.delete(ObjectReference(kind: "ClusterNetworkPolicy", namespace: "", name: "deny-nodes"))])
            await harness.stop()
        }
    }

    @Test func withoutTheCRDNetworkPolicyGoesOnAndTheCollectionIsLookedAtAgain() async throws {
        try await onAgentThreads {
            let harness = try await SourceHarness(objects: [namespaceX, node("node-a", address: "192.168.0.10")], crdInstalled: false)
            // The 404 is an answer: no ClusterNetworkPolicies, and the store is complete.
            try await waitUntil { harness.store.isComplete }
            #expect(harness.clusterPolicies == [])
            #expect(harness.nodes == ["node-a"], "nodes are watched whether or not the CRD is installed")
            #expect(harness.clusterPolicyLists == 1)

            // No second look before the interval has passed on the clock.
            try await waitUntil { harness.clock.sleeperCount >= 1 }
            harness.clock.advance(by: .seconds(59))
            #expect(harness.clusterPolicyLists == 1)
            harness.clock.advance(by: .seconds(1))
            // Looked again, found nothing again, and asleep until the next look.
            try await waitUntil { harness.clusterPolicyLists == 2 && harness.clock.sleeperCount >= 1 }

            // The CRD appears with a policy: the next look finds it and watches it.
            harness.server.installClusterPolicyCRD()
            harness.server.apply(clusterPolicy("deny-nodes"))
            harness.clock.advance(by: .seconds(60))
            try await waitUntil { harness.clusterPolicies == ["deny-nodes"] }
            harness.server.apply(clusterPolicy("another"))
            try await waitUntil { harness.clusterPolicies == ["another", "deny-nodes"] }
            #expect(harness.store.isComplete)
            await harness.stop()
        }
    }

    @Test func aFailingWatchKeepsTheKnownPoliciesAndARemovedCRDLeavesNone() async throws {
        try await onAgentThreads {
            let harness = try await SourceHarness(objects: [namespaceX, clusterPolicy("deny-nodes")])
            // Every kind listed first: the failures below must meet a complete store, not its first lists.
            try await waitUntil { harness.clusterPolicies == ["deny-nodes"] && harness.store.isComplete }

            // The API server fails (not 404): what is known stays in force while the reflectors retry.
            let before = harness.server.requests.count
            harness.server.failNextRequests(12, status: .serviceUnavailable)
            harness.server.dropConnections()
            try await waitUntil { harness.server.requests.count >= before + 12 }
            #expect(harness.clusterPolicies == ["deny-nodes"])
            #expect(harness.store.isComplete)

            // The CRD is removed: its policies are deleted, and a 404 says there are none.
            harness.server.removeClusterPolicyCRD()
            try await waitUntil { harness.clusterPolicies.isEmpty && harness.clock.sleeperCount >= 1 }
            #expect(harness.store.isComplete)
            await harness.stop()
        }
    }
}
