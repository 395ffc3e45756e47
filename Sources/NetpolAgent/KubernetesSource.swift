import Logging
import NetpolKube
import NetpolModel

/// Lists and watches namespaces, pods and network policies on the API server,
/// one reflector per kind, and keeps the store equal to what they say.
public struct KubernetesSource: ClusterSource {
    private let reflectors: [Reflector]

    public init(client: KubeClient, watchTimeout: ClosedRange<Int> = 300...600, backoff: Backoff = Backoff()) {
        reflectors = ResourceKind.all.map { Reflector(kind: $0, client: client, watchTimeout: watchTimeout, backoff: backoff) }
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
            let rejections = store.replaceAll(kind, with: objects, keeping: failures.compactMap(\.object))
            for rejection in rejections { rejection.report(logger, metrics) }
            logger.info("listed", metadata: ["kind": "\(kind)", "objects": "\(objects.count)"])
        case .added(let item), .modified(let item):
            metrics.objectChanges.increment()
            switch item {
            case .success(let object): store.upsert(object)?.report(logger, metrics)
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
        }
    }

    private static func undecodable(_ error: ManifestError, kind: String, _ logger: Logger, _ metrics: AgentMetrics) {
        metrics.rejected(kind).increment()
        logger.warning("object not decodable; its last valid version stays", metadata: ["error": "\(error)"])
    }
}
