/// The API server's checks of a `policy.networking.k8s.io/v1alpha2`
/// ClusterNetworkPolicy: metadata as for any cluster-scoped object, then its
/// CRD's OpenAPI schema (the experimental channel, which adds the `nodes` and
/// `domainNames` peers), then its CEL rules, in the API server's words.
///
/// The CRD does not check label selectors: their problems are warnings here.
/// What the model cannot show (a required field left out, `protocols: []`, a
/// peer with no field) is found while decoding (`LoadedObject.writtenProblems`).
enum ClusterNetworkPolicyValidation {
    static let priorities = 0...1000
    static let maxRules = 25
    /// `from`, `to`, `protocols`, `networks` and `domainNames`: 1 to 25 items.
    static let listBounds = 1...25
    static let maxRuleNameLength = 100
    static let maxCIDRLength = 43
    static let ports = 1...65535
    static let domainNamePattern = #"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$"#

    static func problems(_ policy: ClusterNetworkPolicy) -> [FieldProblem] {
        CommonValidation.objectMeta(policy.metadata, namespaced: false, nameRule: NameRules.dns1123Subdomain)
            + schemaProblems(policy.spec) + ruleProblems(policy.spec)
    }

    // MARK: - OpenAPI schema

    private static func schemaProblems(_ spec: ClusterNetworkPolicySpec) -> [FieldProblem] {
        let path = FieldPath("spec")
        var problems = SchemaRules.oneOf(spec.tier, PolicyTier.supported, at: path.child("tier"))
        problems += SchemaRules.range(spec.priority, priorities, at: path.child("priority"))
        let subject = spec.subject
        problems += SchemaRules.properties([subject.namespaces != nil, subject.pods != nil].count { $0 }, at: path.child("subject"))
        problems += SchemaRules.items(spec.ingress.count, 0...maxRules, at: path.child("ingress"))
        problems += SchemaRules.items(spec.egress.count, 0...maxRules, at: path.child("egress"))
        for rule in ClusterPolicyRuleView.rules(of: spec) {
            problems += SchemaRules.maxLength(rule.name, maxRuleNameLength, at: rule.path.child("name"))
            problems += SchemaRules.oneOf(rule.action, ClusterPolicyAction.supported, at: rule.path.child("action"))
            problems += SchemaRules.items(rule.peers.count, listBounds, at: rule.peersPath)
            for (index, peer) in rule.peers.enumerated() {
                problems += self.peer(peer, egress: rule.isEgress, at: rule.peersPath.index(index))
            }
            problems += SchemaRules.items(rule.protocols.count, 0...listBounds.upperBound, at: rule.path.child("protocols"))
            for (index, entry) in rule.protocols.enumerated() {
                problems += self.protocol(entry, at: rule.path.child("protocols").index(index))
            }
        }
        return problems
    }

    /// A peer with no field is not refused here: to netpol it is a newer CRD's
    /// peer, enforced fail-closed (see `warnings`); a manifest that writes one
    /// is refused while decoding.
    private static func peer(_ peer: ClusterPolicyPeer, egress: Bool, at path: FieldPath) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !egress {
            let egressOnly = [("nodes", peer.nodes != nil), ("networks", peer.networks != nil), ("domainNames", peer.domainNames != nil)]
            problems += egressOnly.filter(\.1).map { FieldProblem(.unknownField, path.child($0.0), "not a field of ClusterNetworkPolicy") }
        }
        if peer.fieldCount > 1 {
            problems += SchemaRules.properties(peer.fieldCount, at: path)
        }
        if let networks = peer.networks {
            let networksPath = path.child("networks")
            problems += SchemaRules.items(networks.count, listBounds, at: networksPath)
            for (index, network) in networks.enumerated() {
                problems += SchemaRules.maxLength(network, maxCIDRLength, at: networksPath.index(index))
            }
            problems += SchemaRules.uniqueItems(networks, at: networksPath)
        }
        if let names = peer.domainNames {
            let namesPath = path.child("domainNames")
            problems += SchemaRules.items(names.count, listBounds, at: namesPath)
            for (index, name) in names.enumerated() {
                problems += SchemaRules.pattern(name, matches: isDomainName(name), domainNamePattern, at: namesPath.index(index))
            }
            problems += SchemaRules.uniqueItems(names, at: namesPath)
        }
        return problems
    }

    private static func `protocol`(_ entry: ClusterPolicyProtocol, at path: FieldPath) -> [FieldProblem] {
        let matches = [("tcp", entry.tcp), ("udp", entry.udp), ("sctp", entry.sctp)].compactMap { key, match in match.map { (key, $0) } }
        var problems = SchemaRules.properties(matches.count + (entry.destinationNamedPort.isEmpty ? 0 : 1), at: path)
        for (key, match) in matches {
            guard let port = match.destinationPort else {
                problems += SchemaRules.properties(0, at: path.child(key))
                continue
            }
            let portPath = path.child(key).child("destinationPort")
            problems += SchemaRules.properties((port.number != 0 ? 1 : 0) + (port.range != nil ? 1 : 0), at: portPath)
            if port.number != 0 {
                problems += SchemaRules.range(port.number, ports, at: portPath.child("number"))
            }
            if let range = port.range {
                problems += SchemaRules.range(range.start, ports, at: portPath.child("range").child("start"))
                problems += SchemaRules.range(range.end, ports, at: portPath.child("range").child("end"))
            }
        }
        return problems
    }

    // MARK: - CEL rules

    static let namedPortRuleMessage = "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"
    static let rangeRuleMessage = "Start port must be less than End port"
    static let cidrRuleMessage = "Invalid CIDR format provided"

    /// The CRD's `x-kubernetes-validations`. The API server skips them while
    /// the schema refuses something that blocks them; netpol checks them all at
    /// once, except a rule whose own input the schema refused.
    private static func ruleProblems(_ spec: ClusterNetworkPolicySpec) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        for rule in ClusterPolicyRuleView.rules(of: spec) {
            for (index, peer) in rule.peers.enumerated() {
                for (networkIndex, network) in (peer.networks ?? []).enumerated()
                where network.unicodeScalars.count <= maxCIDRLength && !isCIDR(network) {
                    let path = rule.peersPath.index(index).child("networks").index(networkIndex)
                    problems.append(SchemaRules.rule(cidrRuleMessage, at: path, value: .string(network)))
                }
            }
            for (index, entry) in rule.protocols.enumerated() {
                for (key, match) in [("tcp", entry.tcp), ("udp", entry.udp), ("sctp", entry.sctp)] {
                    // 0 is also what a left-out start or end reads as: that is refused as required.
                    guard let range = match?.destinationPort?.range, range.start != 0, range.end != 0, range.start >= range.end else { continue }
                    let path = rule.path.child("protocols").index(index).child(key).child("destinationPort").child("range")
                    problems.append(SchemaRules.rule(rangeRuleMessage, at: path))
                }
            }
            let addressPeer = rule.peers.contains { $0.nodes != nil || $0.networks != nil || $0.domainNames != nil }
            if rule.isEgress, addressPeer, rule.protocols.contains(where: { !$0.destinationNamedPort.isEmpty }) {
                problems.append(SchemaRules.rule(namedPortRuleMessage, at: rule.path))
            }
        }
        return problems
    }

    /// CEL's `isCIDR`, as Kubernetes defines it: Go's `netip.ParsePrefix` (no
    /// leading zeros, no zone), and no IPv4-mapped IPv6 address. Bits beyond the
    /// prefix are allowed (`warnings` points them out).
    static func isCIDR(_ text: String) -> Bool {
        guard let parsed = CIDR.parse(text, strict: true) else { return false }
        let address = parsed.address
        return !(address.family == .ipv6 && address.bits >> 32 == 0xffff)
    }

    /// The `DomainName` pattern; `A-z` is the CRD's own range, which also lets
    /// `[`, `\`, `]`, `^`, `_` and a backquote through where it is used.
    static func isDomainName(_ name: String) -> Bool {
        name.wholeMatch(of: #/(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?/#) != nil
    }

    // MARK: - Warnings

    /// What the API server accepts but netpol cannot enforce as written: a
    /// `domainNames` peer, a peer with no field netpol knows (both fail closed),
    /// selectors that are not valid label selectors, ambiguous CIDRs.
    static func warnings(_ policy: ClusterNetworkPolicy) -> [String] {
        let spec = policy.spec
        var warnings: [String] = []
        if let namespaces = spec.subject.namespaces {
            warnings += selectorWarnings(namespaces, at: FieldPath("spec", "subject", "namespaces"))
        }
        if let pods = spec.subject.pods {
            warnings += podsWarnings(pods, at: FieldPath("spec", "subject", "pods"))
        }
        for rule in ClusterPolicyRuleView.rules(of: spec) {
            for (index, peer) in rule.peers.enumerated() {
                let path = rule.peersPath.index(index)
                if peer.fieldCount == 0 {
                    warnings.append("\(path): sets no peer field netpol knows (one of a newer CRD?): netpol cannot enforce it and fails closed: \(failClosed(rule.action))")
                }
                if peer.domainNames != nil {
                    warnings.append("\(path.child("domainNames")): not enforced by netpol, which fails closed: \(failClosed(rule.action))")
                }
                if let namespaces = peer.namespaces {
                    warnings += selectorWarnings(namespaces, at: path.child("namespaces"))
                }
                if let pods = peer.pods {
                    warnings += podsWarnings(pods, at: path.child("pods"))
                }
                if let nodes = peer.nodes {
                    warnings += selectorWarnings(nodes, at: path.child("nodes"))
                }
                for (networkIndex, network) in (peer.networks ?? []).enumerated() where isCIDR(network) {
                    warnings += NetworkPolicyValidation.cidrWarning(network, at: path.child("networks").index(networkIndex))
                }
            }
        }
        return warnings
    }

    private static func failClosed(_ action: ClusterPolicyAction) -> String {
        action == .accept ? "this Accept rule matches no traffic" : "this \(action) rule matches all traffic"
    }

    private static func podsWarnings(_ pods: NamespacedPods, at path: FieldPath) -> [String] {
        selectorWarnings(pods.namespaceSelector, at: path.child("namespaceSelector")) + selectorWarnings(pods.podSelector, at: path.child("podSelector"))
    }

    private static func selectorWarnings(_ selector: LabelSelector, at path: FieldPath) -> [String] {
        CommonValidation.labelSelector(selector, at: path).map {
            "\($0) (the API server does not check the selectors of a ClusterNetworkPolicy; this one is not a valid label selector)"
        }
    }
}

/// One rule of either direction, as validation walks it.
struct ClusterPolicyRuleView {
    var path: FieldPath
    var isEgress: Bool
    var name: String
    var action: ClusterPolicyAction
    var peers: [ClusterPolicyPeer]
    var protocols: [ClusterPolicyProtocol]

    /// `from` or `to`.
    var peersPath: FieldPath { path.child(isEgress ? "to" : "from") }

    /// Ingress rules, then egress rules.
    static func rules(of spec: ClusterNetworkPolicySpec) -> [ClusterPolicyRuleView] {
        let ingress = spec.ingress.enumerated().map { index, rule in
            ClusterPolicyRuleView(path: FieldPath("spec", "ingress").index(index), isEgress: false, name: rule.name, action: rule.action, peers: rule.from, protocols: rule.protocols)
        }
        let egress = spec.egress.enumerated().map { index, rule in
            ClusterPolicyRuleView(path: FieldPath("spec", "egress").index(index), isEgress: true, name: rule.name, action: rule.action, peers: rule.to, protocols: rule.protocols)
        }
        return ingress + egress
    }
}

extension ClusterPolicyPeer {
    /// How many of its fields are set: exactly one in a valid peer; none when
    /// it was written with a field netpol does not know.
    public var fieldCount: Int {
        [namespaces != nil, pods != nil, nodes != nil, networks != nil, domainNames != nil].count { $0 }
    }
}
