/// A `v1` Node, reduced to what a ClusterNetworkPolicy `nodes` peer needs: its
/// labels and the addresses in `status.addresses`.
public struct Node: Hashable, Sendable {
    public var metadata: ObjectMeta
    public var addresses: [NodeAddress]

    public init(metadata: ObjectMeta, addresses: [NodeAddress] = []) {
        self.metadata = metadata
        self.addresses = addresses
    }

    public var name: String { metadata.name }
    public var labels: [String: String] { metadata.labels }

    /// The entries of `status.addresses` that are IP addresses (a `Hostname`
    /// entry is not), whatever their type: what a `nodes` peer matches.
    public var ipAddresses: [IPAddress] {
        addresses.compactMap { IPAddress($0.address) }
    }
}

/// One `status.addresses[]` entry: `InternalIP`, `ExternalIP`, `Hostname`...
public struct NodeAddress: Hashable, Sendable {
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}
