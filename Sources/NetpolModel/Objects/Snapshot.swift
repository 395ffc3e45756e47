/// Everything netpol knows about a cluster at one moment: its namespaces, pods
/// and network policies. Built from manifests or from the API; a pure value.
public struct Snapshot: Hashable, Sendable {
    /// The label the API server puts on every namespace (since Kubernetes 1.22),
    /// so that a namespaceSelector can pick one namespace by name.
    public static let namespaceNameLabel = "kubernetes.io/metadata.name"

    public private(set) var namespaces: [Namespace]
    public private(set) var pods: [Pod]
    public private(set) var policies: [NetworkPolicy]

    /// Builds a snapshot as the API server would hold it: a later object with the
    /// same kind, namespace and name replaces an earlier one; every namespace
    /// carries `kubernetes.io/metadata.name`; a namespace that pods or policies use
    /// but no manifest defines exists with just that label.
    public init(_ objects: [KubeObject]) {
        var namespaces: [String: Namespace] = [:]
        var pods: [String: Pod] = [:]
        var policies: [String: NetworkPolicy] = [:]
        for object in objects {
            switch object {
            case .namespace(let namespace): namespaces[namespace.name] = namespace
            case .pod(let pod): pods[pod.namespace + "/" + pod.name] = pod
            case .networkPolicy(let policy): policies[policy.namespace + "/" + policy.name] = policy
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
    }
}

extension Snapshot {
    /// The changes that turn `old` into this snapshot, as a store would report
    /// them: namespaces, then pods, then policies.
    public func changes(from old: Snapshot) -> [ClusterChange] {
        func changes<T: Equatable>(_ kind: String, _ before: [T], _ after: [T], key: (T) -> (String, String), object: (T) -> KubeObject) -> [ClusterChange] {
            let beforeByKey = Dictionary(before.map { (key($0).0 + "/" + key($0).1, $0) }, uniquingKeysWith: { $1 })
            let afterKeys = Set(after.map { key($0).0 + "/" + key($0).1 })
            let upserts = after.filter { beforeByKey[key($0).0 + "/" + key($0).1] != $0 }.map { ClusterChange.upsert(object($0)) }
            let deletes = before.filter { !afterKeys.contains(key($0).0 + "/" + key($0).1) }.map {
                ClusterChange.delete(ObjectReference(kind: kind, namespace: key($0).0, name: key($0).1))
            }
            return upserts + deletes
        }
        return changes("Namespace", old.namespaces, namespaces, key: { ("", $0.name) }, object: KubeObject.namespace)
            + changes("Pod", old.pods, pods, key: { ($0.namespace, $0.name) }, object: KubeObject.pod)
            + changes("NetworkPolicy", old.policies, policies, key: { ($0.namespace, $0.name) }, object: KubeObject.networkPolicy)
    }
}
