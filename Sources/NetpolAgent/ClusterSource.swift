import Logging

/// Where the agent learns the cluster from: the Kubernetes API, or a directory
/// of manifests. A source fills the store until its task is cancelled, and
/// reports trouble in logs and metrics rather than stopping.
public protocol ClusterSource: Sendable {
    func run(into store: ClusterStore, logger: Logger, metrics: AgentMetrics) async
}

extension ClusterStore.Rejection {
    /// Logs and counts a rejected object: enforcement of the rest goes on.
    func report(_ logger: Logger, _ metrics: AgentMetrics) {
        metrics.rejected(kind).increment()
        logger.warning("object rejected; its last valid version stays", metadata: ["object": "\(object)", "reason": "\(reason)"])
    }
}
