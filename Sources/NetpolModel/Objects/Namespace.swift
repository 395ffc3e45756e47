/// A `v1` Namespace: netpol needs only its name and labels.
public struct Namespace: Hashable, Sendable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) {
        self.metadata = metadata
    }

    public var name: String { metadata.name }
    public var labels: [String: String] { metadata.labels }
}
