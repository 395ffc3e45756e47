/// A `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicy: a cluster-scoped
/// policy in the Admin tier (before NetworkPolicy) or the Baseline tier (after
/// it), whose rules Accept, Deny or Pass in order. Every field of its spec, as
/// upstream's `apis/v1alpha2` defines it.
public struct ClusterNetworkPolicy: Hashable, Sendable {
    public var metadata: ObjectMeta
    public var spec: ClusterNetworkPolicySpec

    public init(metadata: ObjectMeta, spec: ClusterNetworkPolicySpec) {
        self.metadata = metadata
        self.spec = spec
    }

    public var name: String { metadata.name }
}

public struct ClusterNetworkPolicySpec: Hashable, Sendable {
    public var tier: PolicyTier
    /// 0-1000; lower is checked first within the tier.
    public var priority: Int
    public var subject: ClusterPolicySubject
    /// At most 25; the first rule that matches decides.
    public var ingress: [ClusterPolicyIngressRule]
    public var egress: [ClusterPolicyEgressRule]

    public init(
        tier: PolicyTier, priority: Int, subject: ClusterPolicySubject,
        ingress: [ClusterPolicyIngressRule] = [], egress: [ClusterPolicyEgressRule] = []
    ) {
        self.tier = tier
        self.priority = priority
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
    }
}

/// `spec.tier`: Admin or Baseline.
public struct PolicyTier: OpenEnum, Comparable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let admin = PolicyTier(rawValue: "Admin")
    public static let baseline = PolicyTier(rawValue: "Baseline")
    public static let supported: [PolicyTier] = [.admin, .baseline]

    /// Admin before Baseline: the order the tiers are evaluated in.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (supported.firstIndex(of: lhs) ?? supported.count, lhs.rawValue) < (supported.firstIndex(of: rhs) ?? supported.count, rhs.rawValue)
    }
}

/// A rule's `action`: Accept, Deny or Pass.
public struct ClusterPolicyAction: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Allowed for this direction: later tiers are skipped (the other direction still counts).
    public static let accept = ClusterPolicyAction(rawValue: "Accept")
    /// Dropped.
    public static let deny = ClusterPolicyAction(rawValue: "Deny")
    /// The rest of this tier is skipped; the next tier decides.
    public static let pass = ClusterPolicyAction(rawValue: "Pass")
    public static let supported: [ClusterPolicyAction] = [.accept, .deny, .pass]
}

/// `spec.subject`: exactly one of `namespaces` (every pod in them) or `pods`.
/// Host-network pods are never subjects.
public struct ClusterPolicySubject: Hashable, Sendable {
    public var namespaces: LabelSelector?
    public var pods: NamespacedPods?

    public init(namespaces: LabelSelector? = nil, pods: NamespacedPods? = nil) {
        self.namespaces = namespaces
        self.pods = pods
    }
}

/// Pods picked by `podSelector` in the namespaces `namespaceSelector` picks
/// (upstream's NamespacedPod; an absent namespaceSelector is `{}`, every namespace).
public struct NamespacedPods: Hashable, Sendable {
    public var namespaceSelector: LabelSelector
    public var podSelector: LabelSelector

    public init(namespaceSelector: LabelSelector = .everything, podSelector: LabelSelector) {
        self.namespaceSelector = namespaceSelector
        self.podSelector = podSelector
    }
}

/// One `spec.ingress[]` entry: `action` on traffic from any of `from` that
/// matches any of `protocols` (none: all traffic).
public struct ClusterPolicyIngressRule: Hashable, Sendable {
    /// Up to 100 characters; empty when not written.
    public var name: String
    public var action: ClusterPolicyAction
    public var from: [ClusterPolicyPeer]
    public var protocols: [ClusterPolicyProtocol]

    public init(name: String = "", action: ClusterPolicyAction, from: [ClusterPolicyPeer], protocols: [ClusterPolicyProtocol] = []) {
        self.name = name
        self.action = action
        self.from = from
        self.protocols = protocols
    }
}

/// One `spec.egress[]` entry: `action` on traffic to any of `to`.
public struct ClusterPolicyEgressRule: Hashable, Sendable {
    public var name: String
    public var action: ClusterPolicyAction
    public var to: [ClusterPolicyPeer]
    public var protocols: [ClusterPolicyProtocol]

    public init(name: String = "", action: ClusterPolicyAction, to: [ClusterPolicyPeer], protocols: [ClusterPolicyProtocol] = []) {
        self.name = name
        self.action = action
        self.to = to
        self.protocols = protocols
    }
}

/// A peer: exactly one field is set. Ingress peers have only `namespaces` and
/// `pods`; `nodes`, `networks` and `domainNames` are egress-only (validation
/// says so). A peer with none set, or one netpol does not enforce
/// (`domainNames`), is compiled fail-closed: an Accept matches nothing, a Deny
/// or Pass matches everything.
public struct ClusterPolicyPeer: Hashable, Sendable {
    /// Every pod of the namespaces it picks (host-network pods excluded).
    public var namespaces: LabelSelector?
    public var pods: NamespacedPods?
    /// Nodes by label: their `status.addresses` (experimental).
    public var nodes: LabelSelector?
    /// CIDRs, which match pod addresses as well.
    public var networks: [String]?
    /// Experimental, and not enforced by netpol.
    public var domainNames: [String]?

    public init(
        namespaces: LabelSelector? = nil, pods: NamespacedPods? = nil, nodes: LabelSelector? = nil,
        networks: [String]? = nil, domainNames: [String]? = nil
    ) {
        self.namespaces = namespaces
        self.pods = pods
        self.nodes = nodes
        self.networks = networks
        self.domainNames = domainNames
    }
}

/// One `protocols[]` entry: exactly one of `tcp`, `udp`, `sctp` (each with a
/// `destinationPort`) or `destinationNamedPort`, resolved on the destination pod.
public struct ClusterPolicyProtocol: Hashable, Sendable {
    public var tcp: ProtocolPortMatch?
    public var udp: ProtocolPortMatch?
    public var sctp: ProtocolPortMatch?
    /// Empty when not written.
    public var destinationNamedPort: String

    public init(tcp: ProtocolPortMatch? = nil, udp: ProtocolPortMatch? = nil, sctp: ProtocolPortMatch? = nil, destinationNamedPort: String = "") {
        self.tcp = tcp
        self.udp = udp
        self.sctp = sctp
        self.destinationNamedPort = destinationNamedPort
    }

    /// The protocol and its port match, for an entry naming a protocol; nil for a named port.
    public var protocolMatch: (PortProtocol, ProtocolPortMatch)? {
        if let tcp { return (.tcp, tcp) }
        if let udp { return (.udp, udp) }
        if let sctp { return (.sctp, sctp) }
        return nil
    }
}

/// `tcp:`/`udp:`/`sctp:`: at least `destinationPort` must be set (validation).
public struct ProtocolPortMatch: Hashable, Sendable {
    public var destinationPort: ClusterPolicyPort?

    public init(destinationPort: ClusterPolicyPort? = nil) {
        self.destinationPort = destinationPort
    }
}

/// `destinationPort`: exactly one of `number` or an inclusive `range`.
public struct ClusterPolicyPort: Hashable, Sendable {
    /// 0 when not written (the API's omitempty).
    public var number: Int
    public var range: PortRange?

    public init(number: Int = 0, range: PortRange? = nil) {
        self.number = number
        self.range = range
    }

    /// The ports it covers; nil when it names neither (invalid).
    public var ports: ClosedRange<Int>? {
        if let range { return range.start...max(range.start, range.end) }
        return number > 0 ? number...number : nil
    }
}

/// `range`: `start` to `end`, both included; `start < end`.
public struct PortRange: Hashable, Sendable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}
