import NetpolModel

/// Short constructors, so that a test reads like the YAML it stands for.
public func networkPolicy(
    _ name: String, in namespace: String, selecting podSelector: LabelSelector = .everything,
    types: [PolicyType] = [], ingress: [NetworkPolicyIngressRule] = [], egress: [NetworkPolicyEgressRule] = []
) -> NetworkPolicy {
    NetworkPolicy(
        metadata: ObjectMeta(name: name, namespace: namespace),
        spec: NetworkPolicySpec(podSelector: podSelector, ingress: ingress, egress: egress, policyTypes: types))
}

extension LabelSelector {
    /// `matchLabels` only.
    public static func labels(_ labels: [String: String]) -> LabelSelector {
        LabelSelector(matchLabels: labels)
    }

    /// One `matchExpressions` requirement.
    public static func expression(_ key: String, _ op: SelectorOperator, _ values: [String] = []) -> LabelSelector {
        LabelSelector(matchExpressions: [LabelSelectorRequirement(key: key, operator: op, values: values)])
    }
}

extension NetworkPolicyPeer {
    /// `podSelector` alone: pods of the policy's namespace.
    public static func pods(_ selector: LabelSelector) -> NetworkPolicyPeer {
        NetworkPolicyPeer(podSelector: selector)
    }

    /// `namespaceSelector` alone: every pod of the matching namespaces.
    public static func namespaces(_ selector: LabelSelector) -> NetworkPolicyPeer {
        NetworkPolicyPeer(namespaceSelector: selector)
    }

    /// Both selectors in one peer: their intersection.
    public static func pods(_ pods: LabelSelector, inNamespaces namespaces: LabelSelector) -> NetworkPolicyPeer {
        NetworkPolicyPeer(podSelector: pods, namespaceSelector: namespaces)
    }

    public static func block(_ cidr: String, except: [String] = []) -> NetworkPolicyPeer {
        NetworkPolicyPeer(ipBlock: IPBlock(cidr: cidr, except: except))
    }
}

extension NetworkPolicyPort {
    public static func tcp(_ port: Int) -> NetworkPolicyPort { NetworkPolicyPort(protocol: .tcp, port: .int(port)) }
    public static func udp(_ port: Int) -> NetworkPolicyPort { NetworkPolicyPort(protocol: .udp, port: .int(port)) }
    public static func sctp(_ port: Int) -> NetworkPolicyPort { NetworkPolicyPort(protocol: .sctp, port: .int(port)) }

    /// A named port; protocol left out means TCP.
    public static func named(_ name: String, _ proto: PortProtocol? = nil) -> NetworkPolicyPort {
        NetworkPolicyPort(protocol: proto, port: .string(name))
    }

    public static func range(_ first: Int, _ last: Int, _ proto: PortProtocol? = nil) -> NetworkPolicyPort {
        NetworkPolicyPort(protocol: proto, port: .int(first), endPort: last)
    }

    /// Every port of one protocol.
    public static func all(_ proto: PortProtocol) -> NetworkPolicyPort { NetworkPolicyPort(protocol: proto) }
}
