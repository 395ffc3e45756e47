import NetpolEngine
import NetpolModel

/// Which pod holds an address, cluster-wide, so that a denied connection's
/// ends read `namespace/pod` rather than bare IPs.
public struct PodAddressBook: Sendable {
    private var pods: [IPAddress: PodID] = [:]

    /// Every address a pod of `snapshot` holds: a terminating pod keeps its IP
    /// until it is gone; host-network pods share their node's addresses and
    /// name none of them.
    public init(_ snapshot: Snapshot) {
        for pod in snapshot.pods where !pod.spec.hostNetwork {
            for address in IndexedPod(pod).heldAddresses {
                pods[address] = PodID(namespace: pod.namespace, name: pod.name)
            }
        }
    }

    public init() {}

    public func pod(at address: IPAddress) -> PodID? {
        pods[address]
    }

    public func end(_ address: IPAddress) -> DeniedConnection.End {
        DeniedConnection.End(address: address, pod: pods[address])
    }
}
