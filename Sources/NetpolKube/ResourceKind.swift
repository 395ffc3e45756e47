/// One of the three collections netpol watches, cluster-wide.
public struct ResourceKind: Hashable, Sendable, CustomStringConvertible {
    /// `Pod`, `Namespace`, `NetworkPolicy`: the kind of the list's items.
    public let kind: String
    public let apiVersion: String
    /// The collection's path on the API server.
    public let path: String

    public static let namespaces = ResourceKind(kind: "Namespace", apiVersion: "v1", path: "/api/v1/namespaces")
    public static let pods = ResourceKind(kind: "Pod", apiVersion: "v1", path: "/api/v1/pods")
    public static let networkPolicies = ResourceKind(
        kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1", path: "/apis/networking.k8s.io/v1/networkpolicies")

    public static let all: [ResourceKind] = [.namespaces, .pods, .networkPolicies]

    public var description: String { kind }
}
