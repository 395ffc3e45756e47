/// One of the collections netpol watches, cluster-wide.
public struct ResourceKind: Hashable, Sendable, CustomStringConvertible {
    /// `Pod`, `Namespace`, `NetworkPolicy`...: the kind of the list's items.
    public let kind: String
    public let apiVersion: String
    /// The collection's path on the API server.
    public let path: String
    /// Served only while its CustomResourceDefinition is installed: a list
    /// answered 404 means "not installed", not a failure.
    public let isCustom: Bool

    public init(kind: String, apiVersion: String, path: String, isCustom: Bool = false) {
        self.kind = kind
        self.apiVersion = apiVersion
        self.path = path
        self.isCustom = isCustom
    }

    public static let namespaces = ResourceKind(kind: "Namespace", apiVersion: "v1", path: "/api/v1/namespaces")
    public static let pods = ResourceKind(kind: "Pod", apiVersion: "v1", path: "/api/v1/pods")
    public static let networkPolicies = ResourceKind(
        kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1", path: "/apis/networking.k8s.io/v1/networkpolicies")
    /// Needs the CRD of kubernetes-sigs/network-policy-api v0.2 or later.
    public static let clusterNetworkPolicies = ResourceKind(
        kind: "ClusterNetworkPolicy", apiVersion: "policy.networking.k8s.io/v1alpha2",
        path: "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies", isCustom: true)
    /// Read for the `nodes` peers of ClusterNetworkPolicies.
    public static let nodes = ResourceKind(kind: "Node", apiVersion: "v1", path: "/api/v1/nodes")

    /// What NetworkPolicy enforcement needs, always watched.
    public static let all: [ResourceKind] = [.namespaces, .pods, .networkPolicies]

    public var description: String { kind }
}
