import Logging

/// Where the agent learns the cluster from: the Kubernetes API, or a directory
/// of manifests. A source fills the store until its task is cancelled, and
/// reports trouble in logs and metrics rather than stopping.
///
/// The rule every source keeps, because the agent's fail-closed promise rests
/// on it: **a kind counts as listed only after a list of it succeeded.** A
/// source calls `ClusterStore.replaceAll` for a kind only with the complete
/// result of a list that worked. When it cannot read (an API error, a directory
/// or file that is missing or unreadable, a read that raced a change), it logs,
/// counts, and leaves the store alone: before the first good list the agent
/// writes nothing and is not ready; after it, the last good objects stay in
/// force. A failed read is never reported as an empty cluster.
public protocol ClusterSource: Sendable {
    func run(into store: ClusterStore, logger: Logger, metrics: AgentMetrics) async
}

extension ClusterStore.Notice {
    /// Logs a notice, and counts a rejected object: enforcement of the rest goes on.
    func report(_ logger: Logger, _ metrics: AgentMetrics) {
        guard isRejection else {
            logger.warning("object taken with warnings", metadata: ["object": "\(object)", "warnings": "\(reason)"])
            return
        }
        metrics.rejected(kind).increment()
        logger.warning("object rejected; its last valid version stays", metadata: ["object": "\(object)", "reason": "\(reason)"])
    }
}
