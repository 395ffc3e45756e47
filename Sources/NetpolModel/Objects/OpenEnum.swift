/// A string-typed enumeration as Kubernetes defines them (`type Protocol string`):
/// the known values are constants, and any other string still decodes so that
/// validation can name it instead of the decoder rejecting the whole object.
public protocol OpenEnum: RawRepresentable, Hashable, Sendable, CustomStringConvertible where RawValue == String {
    init(rawValue: String)
}

extension OpenEnum {
    public var description: String { rawValue }
}

/// `protocol` of a port: TCP, UDP or SCTP (`core/v1.Protocol`).
public struct PortProtocol: OpenEnum, Comparable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let tcp = PortProtocol(rawValue: "TCP")
    public static let udp = PortProtocol(rawValue: "UDP")
    public static let sctp = PortProtocol(rawValue: "SCTP")
    public static let supported: [PortProtocol] = [.tcp, .udp, .sctp]

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An entry of `spec.policyTypes`: Ingress or Egress.
public struct PolicyType: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let ingress = PolicyType(rawValue: "Ingress")
    public static let egress = PolicyType(rawValue: "Egress")
    public static let supported: [PolicyType] = [.ingress, .egress]
}

/// `operator` of a label selector requirement.
public struct SelectorOperator: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let `in` = SelectorOperator(rawValue: "In")
    public static let notIn = SelectorOperator(rawValue: "NotIn")
    public static let exists = SelectorOperator(rawValue: "Exists")
    public static let doesNotExist = SelectorOperator(rawValue: "DoesNotExist")
}
