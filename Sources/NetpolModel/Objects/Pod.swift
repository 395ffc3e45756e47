/// A `v1` Pod, reduced to what decides its network policy: where it runs, its
/// labels, its addresses and its named container ports.
public struct Pod: Hashable, Sendable {
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus

    public init(metadata: ObjectMeta, spec: PodSpec = PodSpec(), status: PodStatus = PodStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public var name: String { metadata.name }
    public var namespace: String { metadata.namespace }
    public var labels: [String: String] { metadata.labels }
}

public struct PodSpec: Hashable, Sendable {
    public var nodeName: String
    /// Host-network pods share the node's addresses: never policy targets, and as
    /// peers they match only ipBlock.
    public var hostNetwork: Bool
    public var containers: [Container]

    public init(nodeName: String = "", hostNetwork: Bool = false, containers: [Container] = []) {
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.containers = containers
    }
}

public struct Container: Hashable, Sendable {
    public var name: String
    public var ports: [ContainerPort]

    public init(name: String, ports: [ContainerPort] = []) {
        self.name = name
        self.ports = ports
    }
}

/// A declared container port; its `name` is what a policy's named port refers to.
public struct ContainerPort: Hashable, Sendable {
    public var name: String
    public var containerPort: Int
    /// TCP when the manifest leaves it out.
    public var `protocol`: PortProtocol

    public init(name: String = "", containerPort: Int, protocol: PortProtocol = .tcp) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }
}

public struct PodStatus: Hashable, Sendable {
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String
    public var podIP: String
    /// Every address of a dual-stack pod; the first equals `podIP`.
    public var podIPs: [String]

    public init(phase: String = "", podIP: String = "", podIPs: [String] = []) {
        self.phase = phase
        self.podIP = podIP
        self.podIPs = podIPs
    }

    /// `podIPs` when present, otherwise `podIP`, without empty entries or duplicates.
    public var addresses: [String] {
        var seen = Set<String>()
        return (podIPs + [podIP]).filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}
