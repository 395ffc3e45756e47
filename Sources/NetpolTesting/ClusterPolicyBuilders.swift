import NetpolModel

/// Short constructors for ClusterNetworkPolicies, so that a case reads like the
/// YAML it stands for (the NetworkPolicy ones are in PolicyBuilders.swift).
public func clusterPolicy(
    _ name: String, tier: PolicyTier, priority: Int, subject: ClusterPolicySubject,
    ingress: [ClusterPolicyIngressRule] = [], egress: [ClusterPolicyEgressRule] = []
) -> ClusterNetworkPolicy {
    ClusterNetworkPolicy(
        metadata: ObjectMeta(name: name),
        spec: ClusterNetworkPolicySpec(tier: tier, priority: priority, subject: subject, ingress: ingress, egress: egress))
}

extension ClusterPolicySubject {
    /// `subject.namespaces`: every pod of the namespaces `selector` picks.
    public static func inNamespaces(_ selector: LabelSelector) -> ClusterPolicySubject {
        ClusterPolicySubject(namespaces: selector)
    }

    /// `subject.pods`: pods `pods` picks in the namespaces `namespaces` picks.
    public static func pods(_ pods: LabelSelector, inNamespaces namespaces: LabelSelector = .everything) -> ClusterPolicySubject {
        ClusterPolicySubject(pods: NamespacedPods(namespaceSelector: namespaces, podSelector: pods))
    }
}

extension ClusterPolicyPeer {
    /// A `namespaces` peer: every pod of the namespaces `selector` picks.
    public static func inNamespaces(_ selector: LabelSelector) -> ClusterPolicyPeer {
        ClusterPolicyPeer(namespaces: selector)
    }

    /// A `pods` peer: pods `pods` picks in the namespaces `namespaces` picks.
    public static func pods(_ pods: LabelSelector, inNamespaces namespaces: LabelSelector = .everything) -> ClusterPolicyPeer {
        ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: namespaces, podSelector: pods))
    }

    /// A `networks` peer (egress only).
    public static func cidrs(_ cidrs: String...) -> ClusterPolicyPeer {
        ClusterPolicyPeer(networks: cidrs)
    }

    /// A `nodes` peer (egress only): the addresses of the nodes `selector` picks.
    public static func nodesLabelled(_ selector: LabelSelector) -> ClusterPolicyPeer {
        ClusterPolicyPeer(nodes: selector)
    }

    /// A `domainNames` peer (egress only), which netpol does not enforce.
    public static func domains(_ names: String...) -> ClusterPolicyPeer {
        ClusterPolicyPeer(domainNames: names)
    }
}

extension ClusterPolicyProtocol {
    public static func tcp(_ port: Int) -> ClusterPolicyProtocol { ClusterPolicyProtocol(tcp: .port(port)) }
    public static func udp(_ port: Int) -> ClusterPolicyProtocol { ClusterPolicyProtocol(udp: .port(port)) }
    public static func sctp(_ port: Int) -> ClusterPolicyProtocol { ClusterPolicyProtocol(sctp: .port(port)) }

    /// An inclusive `range` of ports on `proto`.
    public static func range(_ proto: PortProtocol, _ ports: ClosedRange<Int>) -> ClusterPolicyProtocol {
        let match = ProtocolPortMatch(destinationPort: ClusterPolicyPort(range: PortRange(start: ports.lowerBound, end: ports.upperBound)))
        switch proto {
        case .udp: return ClusterPolicyProtocol(udp: match)
        case .sctp: return ClusterPolicyProtocol(sctp: match)
        default: return ClusterPolicyProtocol(tcp: match)
        }
    }

    /// `destinationNamedPort`, resolved on the destination pod.
    public static func named(_ name: String) -> ClusterPolicyProtocol { ClusterPolicyProtocol(destinationNamedPort: name) }
}

extension ProtocolPortMatch {
    /// `destinationPort.number`.
    public static func port(_ number: Int) -> ProtocolPortMatch {
        ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: number))
    }
}
