import NetpolModel

/// A pod by namespace and name, printed `namespace/name`.
public struct PodID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `namespace/name`; nil for any other shape.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(namespace: String(parts[0]), name: String(parts[1]))
    }

    public var description: String { "\(namespace)/\(name)" }

    public static func < (lhs: PodID, rhs: PodID) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// A NetworkPolicy by namespace and name, printed `namespace/name`.
public struct PolicyID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace)/\(name)" }

    public static func < (lhs: PolicyID, rhs: PolicyID) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// The two directions a policy can isolate, named as in `policyTypes`.
public enum Direction: String, Hashable, Sendable, CaseIterable {
    case ingress = "Ingress"
    case egress = "Egress"

    /// The spec field holding this direction's rules.
    public var rulesField: String { self == .ingress ? "ingress" : "egress" }

    /// The rule field holding its peers.
    public var peersField: String { self == .ingress ? "from" : "to" }
}

/// One end of a connection: a pod of the snapshot, or an address outside it.
public enum Endpoint: Hashable, Sendable, CustomStringConvertible {
    case pod(PodID)
    case address(IPAddress)

    public var description: String {
        switch self {
        case .pod(let id): return id.description
        case .address(let address): return address.description
        }
    }
}

/// A connection attempt: who opens it, to whom, on which protocol and port.
public struct Connection: Hashable, Sendable {
    public var source: Endpoint
    public var destination: Endpoint
    public var `protocol`: PortProtocol
    /// A number, or a name resolved against the destination pod's container ports.
    public var port: IntOrString
    /// The address family the connection uses; nil means the destination's first address.
    public var family: IPAddress.Family?

    public init(from source: Endpoint, to destination: Endpoint, protocol: PortProtocol = .tcp, port: IntOrString, family: IPAddress.Family? = nil) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.port = port
        self.family = family
    }
}
