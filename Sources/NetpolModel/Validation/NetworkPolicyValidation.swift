/// `ValidateNetworkPolicy` of the API server (networking.k8s.io/v1), check for
/// check and message for message, with two deliberate differences, both noted
/// where they happen: `endPort` below `port` names endPort's own value, and a
/// repeated policy type is reported.
enum NetworkPolicyValidation {
    static func problems(_ policy: NetworkPolicy) -> [FieldProblem] {
        CommonValidation.objectMeta(policy.metadata, namespaced: true, nameRule: NameRules.dns1123Subdomain)
            + spec(policy.spec, at: FieldPath("spec"))
    }

    static func spec(_ spec: NetworkPolicySpec, at path: FieldPath) -> [FieldProblem] {
        var problems = CommonValidation.labelSelector(spec.podSelector, at: path.child("podSelector"))
        for rule in rules(of: spec, at: path) {
            for (index, port) in rule.ports.enumerated() {
                problems += self.port(port, at: rule.path.child("ports").index(index))
            }
            for (index, peer) in rule.peers.enumerated() {
                problems += self.peer(peer, at: rule.path.child(rule.peersKey).index(index))
            }
        }
        problems += policyTypes(spec.policyTypes, at: path.child("policyTypes"))
        return problems
    }

    /// Ingress and egress rules seen alike: their path, ports and peers.
    private struct RuleView {
        var path: FieldPath
        var ports: [NetworkPolicyPort]
        var peers: [NetworkPolicyPeer]
        /// `from` or `to`.
        var peersKey: String
    }

    private static func rules(of spec: NetworkPolicySpec, at path: FieldPath) -> [RuleView] {
        spec.ingress.enumerated().map { RuleView(path: path.child("ingress").index($0), ports: $1.ports, peers: $1.from, peersKey: "from") }
            + spec.egress.enumerated().map { RuleView(path: path.child("egress").index($0), ports: $1.ports, peers: $1.to, peersKey: "to") }
    }

    private static func policyTypes(_ types: [PolicyType], at path: FieldPath) -> [FieldProblem] {
        guard types.count <= PolicyType.supported.count else {
            return [FieldProblem(.invalid, path, value: .list(goType: "networking.PolicyType", types.map(\.rawValue)),
                                 "may not specify more than two policyTypes")]
        }
        var problems: [FieldProblem] = []
        var seen = Set<PolicyType>()
        for (index, type) in types.enumerated() {
            if !PolicyType.supported.contains(type) {
                problems.append(FieldProblem(.unsupported, path.index(index), value: .string(type.rawValue),
                                             supportedValues(PolicyType.supported)))
            } else if !seen.insert(type).inserted {
                // The API server accepts [Ingress, Ingress]; it is always a mistake.
                problems.append(FieldProblem(.duplicate, path.index(index), value: .string(type.rawValue)))
            }
        }
        return problems
    }

    /// `ValidateNetworkPolicyPort`.
    static func port(_ port: NetworkPolicyPort, at path: FieldPath) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let proto = port.protocol, !PortProtocol.supported.contains(proto) {
            problems.append(FieldProblem(.unsupported, path.child("protocol"), value: .string(proto.rawValue),
                                         supportedValues(PortProtocol.supported)))
        }
        switch port.port {
        case .int(let number):
            problems += NameRules.portNumber(number).map { FieldProblem(.invalid, path.child("port"), value: .int(number), $0) }
            if let endPort = port.endPort {
                if endPort < number {
                    // The API server prints `port`'s value here; endPort's is what needs fixing.
                    problems.append(FieldProblem(.invalid, path.child("endPort"), value: .int(endPort), "must be greater than or equal to `port`"))
                }
                problems += NameRules.portNumber(endPort).map { FieldProblem(.invalid, path.child("endPort"), value: .int(endPort), $0) }
            }
        case .string(let name):
            if let endPort = port.endPort {
                problems.append(FieldProblem(.invalid, path.child("endPort"), value: .int(endPort), "may not be specified when `port` is non-numeric"))
            }
            problems += NameRules.portName(name).map { FieldProblem(.invalid, path.child("port"), value: .string(name), $0) }
        case nil:
            if let endPort = port.endPort {
                problems.append(FieldProblem(.invalid, path.child("endPort"), value: .int(endPort), "may not be specified when `port` is not specified"))
            }
        }
        return problems
    }

    /// `ValidateNetworkPolicyPeer`.
    static func peer(_ peer: NetworkPolicyPeer, at path: FieldPath) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        var count = 0
        if let selector = peer.podSelector {
            count += 1
            problems += CommonValidation.labelSelector(selector, at: path.child("podSelector"))
        }
        if let selector = peer.namespaceSelector {
            count += 1
            problems += CommonValidation.labelSelector(selector, at: path.child("namespaceSelector"))
        }
        if let block = peer.ipBlock {
            count += 1
            problems += ipBlock(block, at: path.child("ipBlock"))
        }
        if count == 0 {
            problems.append(FieldProblem(.required, path, "must specify a peer"))
        } else if count > 1, peer.ipBlock != nil {
            problems.append(FieldProblem(.forbidden, path, "may not specify both ipBlock and another peer"))
        }
        return problems
    }

    /// `ValidateIPBlock`: a CIDR, and each `except` a strict subset of it.
    static func ipBlock(_ block: IPBlock, at path: FieldPath) -> [FieldProblem] {
        guard !block.cidr.isEmpty else { return [FieldProblem(.required, path.child("cidr"))] }
        guard let cidr = CIDR(block.cidr) else { return [invalidCIDR(block.cidr, at: path.child("cidr"))] }
        var problems: [FieldProblem] = []
        for (index, text) in block.except.enumerated() {
            let exceptPath = path.child("except").index(index)
            guard let except = CIDR(text) else {
                problems.append(invalidCIDR(text, at: exceptPath))
                continue
            }
            if !cidr.contains(except.network) || cidr.prefixLength >= except.prefixLength {
                problems.append(FieldProblem(.invalid, exceptPath, value: .string(text), "must be a strict subset of `cidr`"))
            }
        }
        return problems
    }

    private static func invalidCIDR(_ text: String, at path: FieldPath) -> FieldProblem {
        FieldProblem(.invalid, path, value: .string(text), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
    }

    /// Go's `NotSupported` detail: `supported values: "TCP", "UDP", "SCTP"`.
    static func supportedValues<T: OpenEnum>(_ values: [T]) -> String {
        "supported values: " + values.map { goQuoted($0.rawValue) }.joined(separator: ", ")
    }

    /// What the API server warns about without rejecting (`GetWarningsForCIDR`):
    /// bits set beyond the prefix, and leading zeros; and a `netpol.io/mode`
    /// netpol does not know. Printed as `PATH: MESSAGE`.
    static func warnings(_ policy: NetworkPolicy) -> [String] {
        var warnings = modeWarning(policy)
        for rule in rules(of: policy.spec, at: FieldPath("spec")) {
            for (index, peer) in rule.peers.enumerated() {
                guard let block = peer.ipBlock else { continue }
                let path = rule.path.child(rule.peersKey).index(index).child("ipBlock")
                warnings += cidrWarning(block.cidr, at: path.child("cidr"))
                for (exceptIndex, except) in block.except.enumerated() {
                    warnings += cidrWarning(except, at: path.child("except").index(exceptIndex))
                }
            }
        }
        return warnings
    }

    /// A `netpol.io/mode` other than `audit` or `enforce` (a typo such as
    /// `Audit`): the policy is enforced, failing closed, which may not be what
    /// was meant.
    private static func modeWarning(_ policy: NetworkPolicy) -> [String] {
        guard let value = policy.metadata.annotations[NetworkPolicy.modeAnnotation],
              PolicyMode(rawValue: value) == nil
        else { return [] }
        let path = FieldPath("metadata", "annotations").key(NetworkPolicy.modeAnnotation)
        let supported = PolicyMode.allCases.map { goQuoted($0.rawValue) }.joined(separator: ", ")
        return ["\(path): Unsupported value: \(goQuoted(value)): supported values: \(supported): the policy is enforced"]
    }

    static func cidrWarning(_ text: String, at path: FieldPath) -> [String] {
        guard let written = CIDR.parse(text, strict: false) else { return [] }
        let network = CIDR(network: written.address, prefixLength: written.prefixLength)
        if written.address != network.network {
            let single = "\(written.address)/\(written.address.family.bitCount)"
            return ["\(path): CIDR value \(goQuoted(text)) is ambiguous in this context (should be \(goQuoted(network.description)) or \(goQuoted(single))?)"]
        }
        if CIDR.parse(text, strict: true) == nil {
            return ["\(path): non-standard CIDR value \(goQuoted(text)) will be considered invalid in a future Kubernetes release: use \(goQuoted(network.description))"]
        }
        return []
    }
}
