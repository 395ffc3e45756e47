import Logging
import NetpolKube
import NetpolModel
import Synchronization

/// Lists and watches namespaces, pods, network policies and nodes on the API
/// server, one reflector per kind, and ClusterNetworkPolicies while their CRD
/// is installed, and keeps the store equal to what they say.
///
/// Nodes are always watched (they are few, and a `nodes` peer must never meet
/// a node list older than the policies). When the ClusterNetworkPolicy list
/// answers 404 the CRD is not installed: there are none, the kind counts as
/// listed (empty), NetworkPolicy enforcement goes on, a notice says so once,
/// and the collection is looked at again every `crdRecheck`. Any other failure
/// of that list or watch keeps the policies already known in force while the
/// reflector retries, as for every other kind.
public struct KubernetesSource: ClusterSource {
    private let reflectors: [Reflector]
    private let clusterPolicies: Reflector
    private let crdRecheck: Duration
    private let clock: any Clock<Duration>

    /// - Parameters:
    ///   - crdRecheck: how long after a 404 the ClusterNetworkPolicy collection is looked at again.
    ///   - clock: what `crdRecheck` is measured on.
    public init(
        client: KubeClient, watchTimeout: ClosedRange<Int> = 300...600, backoff: Backoff = Backoff(),
        crdRecheck: Duration = .seconds(60), clock: any Clock<Duration> = ContinuousClock()
    ) {
        reflectors = (ResourceKind.all + [.nodes]).map { Reflector(kind: $0, client: client, watchTimeout: watchTimeout, backoff: backoff) }
        clusterPolicies = Reflector(kind: .clusterNetworkPolicies, client: client, watchTimeout: watchTimeout, backoff: backoff)
        self.crdRecheck = crdRecheck
        self.clock = clock
    }

    public func run(into store: ClusterStore, logger: Logger, metrics: AgentMetrics) async {
        await withTaskGroup(of: Void.self) { group in
            for reflector in reflectors {
                group.addTask {
                    await reflector.run { update in
                        Self.apply(update, kind: reflector.kind.kind, to: store, logger: logger, metrics: metrics)
                    }
                }
            }
            group.addTask { await runClusterPolicies(into: store, logger: logger, metrics: metrics) }
        }
    }

    /// Runs the ClusterNetworkPolicy reflector while the CRD is there, and
    /// looks again every `crdRecheck` while it is not.
    private func runClusterPolicies(into store: ClusterStore, logger: Logger, metrics: AgentMetrics) async {
        let kind = clusterPolicies.kind
        let presence = CRDPresence()
        while !Task.isCancelled {
            await clusterPolicies.run { update in
                if case .listed = update, presence.record(installed: true) {
                    logger.info("ClusterNetworkPolicy CRD found; enforcing ClusterNetworkPolicies", metadata: ["kind": "\(kind)"])
                }
                if case .absent(let error) = update {
                    // A 404 is an answer: no CRD, so no ClusterNetworkPolicies.
                    store.replaceAll(kind.kind, with: [])
                    if presence.record(installed: false) {
                        logger.notice(
                            "ClusterNetworkPolicy CRD not installed; enforcing NetworkPolicy only, looking again every \(crdRecheck)",
                            metadata: ["kind": "\(kind)", "answer": "\(error.message)"])
                    }
                    return
                }
                Self.apply(update, kind: kind.kind, to: store, logger: logger, metrics: metrics)
            }
            guard (try? await clock.sleep(for: crdRecheck)) != nil else { return }
        }
    }

    private static func apply(_ update: ReflectorUpdate, kind: String, to store: ClusterStore, logger: Logger, metrics: AgentMetrics) {
        switch update {
        case .listed(let items):
            let failures = items.compactMap { item -> ManifestError? in
                guard case .failure(let error) = item else { return nil }
                return error
            }
            for failure in failures { undecodable(failure, kind: kind, logger, metrics) }
            let objects = items.compactMap { try? $0.get() }
            for notice in store.replaceAll(kind, with: objects, keeping: failures.compactMap(\.object)) { notice.report(logger, metrics) }
            logger.info("listed", metadata: ["kind": "\(kind)", "objects": "\(objects.count)"])
        case .added(let item), .modified(let item):
            metrics.objectChanges.increment()
            switch item {
            case .success(let object): for notice in store.upsert(object) { notice.report(logger, metrics) }
            case .failure(let error): undecodable(error, kind: kind, logger, metrics)
            }
        case .deleted(let item):
            metrics.objectChanges.increment()
            switch item {
            case .success(let object):
                store.remove(ObjectReference(kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name))
            case .failure(let error):
                // A delete needs only the name, which even an undecodable object usually has.
                if let reference = error.object { store.remove(reference) } else { undecodable(error, kind: kind, logger, metrics) }
            }
        case .watchEnded(nil):
            logger.debug("watch ended by the server; watching again", metadata: ["kind": "\(kind)"])
        case .watchEnded(let error?):
            metrics.watchRestarts(kind).increment()
            logger.warning("watch failed; rules stay as they are while retrying", metadata: ["kind": "\(kind)", "error": "\(error)"])
        case .relisting(let error):
            metrics.relists(kind).increment()
            logger.info("resource version gone; listing again", metadata: ["kind": "\(kind)", "error": "\(error)"])
        case .absent(let error):
            logger.warning("collection not found", metadata: ["kind": "\(kind)", "error": "\(error)"])
        }
    }

    private static func undecodable(_ error: ManifestError, kind: String, _ logger: Logger, _ metrics: AgentMetrics) {
        metrics.rejected(kind).increment()
        logger.warning("object not decodable; its last valid version stays", metadata: ["error": "\(error)"])
    }
}

/// Whether the ClusterNetworkPolicy CRD was there at the last look, so that
/// its absence and its arrival are each logged once.
private final class CRDPresence: Sendable {
    private let installed = Mutex<Bool?>(nil)

    /// Notes what the last look found; true when that differs from the look before.
    func record(installed now: Bool) -> Bool {
        installed.withLock { installed in
            defer { installed = now }
            return installed != now
        }
    }
}
