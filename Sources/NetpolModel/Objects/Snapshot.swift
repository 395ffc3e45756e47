/// Everything netpol knows about a cluster at one moment: its namespaces, pods,
/// network policies, cluster network policies and nodes. Built from manifests or
/// from the API; a pure value.
public struct Snapshot: Hashable, Sendable {
    /// The label the API server puts on every namespace (since Kubernetes 1.22),
    /// so that a namespaceSelector can pick one namespace by name.
    public static let namespaceNameLabel = "kubernetes.io/metadata.name"

    public private(set) var namespaces: [Namespace]
    public private(set) var pods: [Pod]
    public private(set) var policies: [NetworkPolicy]
    /// Sorted by name.
    public private(set) var clusterPolicies: [ClusterNetworkPolicy]
    /// Sorted by name; only `nodes` peers of cluster policies use them.
    public private(set) var nodes: [Node]

    /// Builds a snapshot as the API server would hold it: a later object with the
    /// same kind, namespace and name replaces an earlier one; every namespace
    /// carries `kubernetes.io/metadata.name`; a namespace that pods or policies use
    /// but no manifest defines exists with just that label.
    public init(_ objects: [KubeObject]) {
        var namespaces: [String: Namespace] = [:]
        var pods: [String: Pod] = [:]
        var policies: [String: NetworkPolicy] = [:]
        var clusterPolicies: [String: ClusterNetworkPolicy] = [:]
        var nodes: [String: Node] = [:]
        for object in objects {
            switch object {
            case .namespace(let namespace): namespaces[namespace.name] = namespace
            case .pod(let pod): pods[pod.namespace + "/" + pod.name] = pod
            case .networkPolicy(let policy): policies[policy.namespace + "/" + policy.name] = policy
            case .clusterNetworkPolicy(let policy): clusterPolicies[policy.name] = policy
            case .node(let node): nodes[node.name] = node
            }
        }
        for name in Set(pods.values.map(\.namespace)).union(policies.values.map(\.namespace)) where namespaces[name] == nil {
            namespaces[name] = Namespace(metadata: ObjectMeta(name: name))
        }
        for name in namespaces.keys {
            namespaces[name]?.metadata.labels[Self.namespaceNameLabel] = name
        }
        self.namespaces = namespaces.values.sorted { $0.name < $1.name }
        self.pods = pods.values.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.policies = policies.values.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.clusterPolicies = clusterPolicies.values.sorted { $0.name < $1.name }
        self.nodes = nodes.values.sorted { $0.name < $1.name }
    }
}

extension Snapshot {
    /// The changes that turn `old` into this snapshot, as a store would report
    /// them: namespaces, nodes, then pods, then policies.
    public func changes(from old: Snapshot) -> [ClusterChange] {
        Self.changes("Namespace", old.namespaces, namespaces, KubeObject.namespace)
            + Self.changes("Node", old.nodes, nodes, KubeObject.node)
            + Self.changes("Pod", old.pods, pods, KubeObject.pod)
            + Self.changes("NetworkPolicy", old.policies, policies, KubeObject.networkPolicy)
            + Self.changes("ClusterNetworkPolicy", old.clusterPolicies, clusterPolicies, KubeObject.clusterNetworkPolicy)
    }

    /// Upserts for objects new or different in `after`, deletes for those gone.
    private static func changes<T: Equatable>(_ kind: String, _ before: [T], _ after: [T], _ object: (T) -> KubeObject) -> [ClusterChange] {
        func reference(_ value: T) -> ObjectReference {
            let metadata = object(value).metadata
            return ObjectReference(kind: kind, namespace: metadata.namespace, name: metadata.name)
        }
        let beforeByReference = Dictionary(before.map { (reference($0), $0) }, uniquingKeysWith: { $1 })
        let afterReferences = Set(after.map(reference))
        return after.filter { beforeByReference[reference($0)] != $0 }.map { .upsert(object($0)) }
            + before.map(reference).filter { !afterReferences.contains($0) }.map(ClusterChange.delete)
    }
}
