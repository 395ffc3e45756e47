/// The part of `metadata` that netpol uses (`meta/v1.ObjectMeta`).
public struct ObjectMeta: Hashable, Sendable {
    public var name: String
    public var generateName: String
    /// Empty for cluster-scoped objects; for namespaced objects read from a manifest
    /// without one, `default`, as `kubectl apply` would place them.
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// Set once the object is being deleted; a terminating pod contributes no addresses.
    public var deletionTimestamp: String?
    public var resourceVersion: String
    public var uid: String

    public init(
        name: String, namespace: String = "", labels: [String: String] = [:],
        annotations: [String: String] = [:], generateName: String = "",
        deletionTimestamp: String? = nil, resourceVersion: String = "", uid: String = ""
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.deletionTimestamp = deletionTimestamp
        self.resourceVersion = resourceVersion
        self.uid = uid
    }
}
