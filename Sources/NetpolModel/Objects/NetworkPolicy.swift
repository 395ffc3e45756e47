/// A `networking.k8s.io/v1` NetworkPolicy, every field of its spec.
public struct NetworkPolicy: Hashable, Sendable {
    public var metadata: ObjectMeta
    public var spec: NetworkPolicySpec

    public init(metadata: ObjectMeta, spec: NetworkPolicySpec) {
        self.metadata = metadata
        self.spec = spec
    }

    public var name: String { metadata.name }
    public var namespace: String { metadata.namespace }
}

public struct NetworkPolicySpec: Hashable, Sendable {
    /// The pods of the policy's namespace that the policy applies to; `{}` is all of them.
    public var podSelector: LabelSelector
    public var ingress: [NetworkPolicyIngressRule]
    public var egress: [NetworkPolicyEgressRule]
    /// As written; empty means the API server's default (see `effectivePolicyTypes`).
    public var policyTypes: [PolicyType]

    public init(
        podSelector: LabelSelector = .everything, ingress: [NetworkPolicyIngressRule] = [],
        egress: [NetworkPolicyEgressRule] = [], policyTypes: [PolicyType] = []
    ) {
        self.podSelector = podSelector
        self.ingress = ingress
        self.egress = egress
        self.policyTypes = policyTypes
    }

    /// `policyTypes` after the API server's defaulting: when absent, Ingress, plus
    /// Egress if the policy has any egress rules.
    public var effectivePolicyTypes: [PolicyType] {
        if !policyTypes.isEmpty { return policyTypes }
        return egress.isEmpty ? [.ingress] : [.ingress, .egress]
    }
}

/// One `spec.ingress[]` entry: traffic from any of `from` to any of `ports`.
/// An empty `from` allows every source; empty `ports` allows every port.
public struct NetworkPolicyIngressRule: Hashable, Sendable {
    public var ports: [NetworkPolicyPort]
    public var from: [NetworkPolicyPeer]

    public init(ports: [NetworkPolicyPort] = [], from: [NetworkPolicyPeer] = []) {
        self.ports = ports
        self.from = from
    }
}

/// One `spec.egress[]` entry: traffic to any of `to` on any of `ports`.
public struct NetworkPolicyEgressRule: Hashable, Sendable {
    public var ports: [NetworkPolicyPort]
    public var to: [NetworkPolicyPeer]

    public init(ports: [NetworkPolicyPort] = [], to: [NetworkPolicyPeer] = []) {
        self.ports = ports
        self.to = to
    }
}

/// A peer: pods by selector (in the policy's namespace, in selected namespaces, or
/// both intersected), or addresses by CIDR.
public struct NetworkPolicyPeer: Hashable, Sendable {
    public var podSelector: LabelSelector?
    public var namespaceSelector: LabelSelector?
    public var ipBlock: IPBlock?

    public init(podSelector: LabelSelector? = nil, namespaceSelector: LabelSelector? = nil, ipBlock: IPBlock? = nil) {
        self.podSelector = podSelector
        self.namespaceSelector = namespaceSelector
        self.ipBlock = ipBlock
    }
}

/// `ipBlock`: the addresses of `cidr` minus those of each `except` entry.
public struct IPBlock: Hashable, Sendable {
    public var cidr: String
    public var except: [String]

    public init(cidr: String, except: [String] = []) {
        self.cidr = cidr
        self.except = except
    }
}

/// A port, a port range (`port`..`endPort`) or a named port, on one protocol.
public struct NetworkPolicyPort: Hashable, Sendable {
    /// nil means TCP.
    public var `protocol`: PortProtocol?
    /// nil means every port of the protocol.
    public var port: IntOrString?
    public var endPort: Int?

    public init(protocol: PortProtocol? = nil, port: IntOrString? = nil, endPort: Int? = nil) {
        self.protocol = `protocol`
        self.port = port
        self.endPort = endPort
    }

    public var effectiveProtocol: PortProtocol { self.protocol ?? .tcp }
}

/// How netpol treats a NetworkPolicy, from its `netpol.io/mode` annotation:
/// enforced, or audited (evaluated and logged, never deciding traffic), as
/// Calico's StagedNetworkPolicy and Cilium's policy-audit-mode do.
public enum PolicyMode: String, Sendable, CaseIterable {
    case enforce
    case audit
}

extension NetworkPolicy {
    /// The annotation that chooses the policy's `PolicyMode`.
    public static let modeAnnotation = "netpol.io/mode"

    /// `audit` only when the annotation says exactly `audit`; absent, `enforce`
    /// or any other value (a typo such as `Audit`, which validation warns
    /// about) is `enforce`: a mistake must never open traffic.
    public var mode: PolicyMode {
        metadata.annotations[Self.modeAnnotation] == PolicyMode.audit.rawValue ? .audit : .enforce
    }

    /// Whether the policy is audited: evaluated, never enforced.
    public var isAudited: Bool { mode == .audit }
}
