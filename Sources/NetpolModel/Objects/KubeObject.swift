/// One object netpol understands, as read from a manifest or the API.
public enum KubeObject: Hashable, Sendable {
    case namespace(Namespace)
    case pod(Pod)
    case networkPolicy(NetworkPolicy)
    case clusterNetworkPolicy(ClusterNetworkPolicy)
    case node(Node)

    public var kind: String {
        switch self {
        case .namespace: return "Namespace"
        case .pod: return "Pod"
        case .networkPolicy: return "NetworkPolicy"
        case .clusterNetworkPolicy: return "ClusterNetworkPolicy"
        case .node: return "Node"
        }
    }

    public var metadata: ObjectMeta {
        switch self {
        case .namespace(let namespace): return namespace.metadata
        case .pod(let pod): return pod.metadata
        case .networkPolicy(let policy): return policy.metadata
        case .clusterNetworkPolicy(let policy): return policy.metadata
        case .node(let node): return node.metadata
        }
    }

    /// `Kind namespace/name`, or `Kind name` for a cluster-scoped object: how messages name it.
    public var reference: String {
        ObjectReference(kind: kind, namespace: metadata.namespace, name: metadata.name).description
    }
}

/// Names an object in messages: `NetworkPolicy prod/web`, `Namespace prod`.
public struct ObjectReference: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        let shownName = name.isEmpty ? "(unnamed)" : name
        return namespace.isEmpty ? "\(kind) \(shownName)" : "\(kind) \(namespace)/\(shownName)"
    }
}

/// A change to the cluster: an object added or changed, or one gone.
public enum ClusterChange: Hashable, Sendable {
    case upsert(KubeObject)
    /// The object is gone; its kind, namespace and name say which.
    case delete(ObjectReference)
}
