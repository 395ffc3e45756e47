import NetpolEngine
import NetpolModel

/// Which pod holds an address, cluster-wide, so that a denied connection's
/// ends read `namespace/pod` rather than bare IPs.
public struct PodAddressBook: Sendable {
    private var holders: [IPAddress: PodID] = [:]

    /// Every address one of `pods` holds: a terminating pod keeps its IP
    /// until it is gone; host-network pods share their node's addresses and
    /// name none of them. A running pod wins over a terminating one whose
    /// address it has taken over.
    public init(_ pods: [Pod]) {
        let terminatingFirst = pods.filter { $0.metadata.deletionTimestamp != nil } + pods.filter { $0.metadata.deletionTimestamp == nil }
        for pod in terminatingFirst where !pod.spec.hostNetwork {
            for address in IndexedPod(pod).heldAddresses {
                holders[address] = PodID(namespace: pod.namespace, name: pod.name)
            }
        }
    }

    public init() {}

    public func pod(at address: IPAddress) -> PodID? {
        holders[address]
    }

    public func end(_ address: IPAddress) -> DeniedConnection.End {
        DeniedConnection.End(address: address, pod: holders[address])
    }
}
