/// ClusterNetworkPolicies and Nodes from a node tree.
///
/// A ClusterNetworkPolicy is read strictly, as NetworkPolicies are: a field the
/// CRD (experimental channel, with `nodes` and `domainNames` peers) does not
/// define is reported with its path; `status` is allowed and ignored. Ingress
/// peers know only `namespaces` and `pods`. What the API server would refuse in
/// how the policy was written, but the model cannot show (a required field left
/// out, `protocols: []`, a peer with no field), is noted in `writtenProblems`.
///
/// A Node is read, not authored: its metadata and `status.addresses`, and no
/// other field is looked at.
extension ObjectDecoder {
    func clusterNetworkPolicy(_ fields: ObjectReader) throws(ManifestError) -> ClusterNetworkPolicy {
        findings.unknownFields += fields.unknownFields(known: ["apiVersion", "kind", "metadata", "spec", "status"])
        var metadata = try metadata(fields, namespaced: false)
        metadata.namespace = ""
        guard let specReader = required("spec", in: fields) else {
            return ClusterNetworkPolicy(metadata: metadata, spec: ClusterNetworkPolicySpec(tier: PolicyTier(rawValue: ""), priority: 0, subject: ClusterPolicySubject()))
        }
        let spec = try strict(specReader, known: ["tier", "priority", "subject", "ingress", "egress"])
        return ClusterNetworkPolicy(
            metadata: metadata,
            spec: ClusterNetworkPolicySpec(
                tier: PolicyTier(rawValue: try required("tier", in: spec)?.string() ?? ""),
                priority: try required("priority", in: spec)?.int32() ?? 0,
                subject: try required("subject", in: spec).map(subject) ?? ClusterPolicySubject(),
                ingress: try spec.list("ingress") { reader throws(ManifestError) in
                    let rule = try strict(reader, known: ["name", "action", "from", "protocols"])
                    return ClusterPolicyIngressRule(
                        name: try rule.string("name"), action: try action(rule),
                        from: try required("from", in: rule)?.list { peer throws(ManifestError) in try self.peer(peer, egress: false) } ?? [],
                        protocols: try protocols(rule))
                },
                egress: try spec.list("egress") { reader throws(ManifestError) in
                    let rule = try strict(reader, known: ["name", "action", "to", "protocols"])
                    return ClusterPolicyEgressRule(
                        name: try rule.string("name"), action: try action(rule),
                        to: try required("to", in: rule)?.list { peer throws(ManifestError) in try self.peer(peer, egress: true) } ?? [],
                        protocols: try protocols(rule))
                }))
    }

    func node(_ fields: ObjectReader) throws(ManifestError) -> Node {
        var metadata = try metadata(fields, namespaced: false)
        metadata.namespace = ""
        let status = try fields.field("status")?.object()
        return Node(metadata: metadata, addresses: try status?.list("addresses") { reader throws(ManifestError) in
            let address = try reader.object()
            return NodeAddress(type: try address.string("type"), address: try address.string("address"))
        } ?? [])
    }

    // MARK: - Parts of a ClusterNetworkPolicy

    private func subject(_ reader: FieldReader) throws(ManifestError) -> ClusterPolicySubject {
        let fields = try strict(reader, known: ["namespaces", "pods"])
        return ClusterPolicySubject(
            namespaces: try fields.field("namespaces").map(labelSelector),
            pods: try fields.field("pods").map(namespacedPods))
    }

    private func namespacedPods(_ reader: FieldReader) throws(ManifestError) -> NamespacedPods {
        let fields = try strict(reader, known: ["namespaceSelector", "podSelector"])
        return NamespacedPods(
            namespaceSelector: try fields.field("namespaceSelector").map(labelSelector) ?? .everything,
            podSelector: try required("podSelector", in: fields).map(labelSelector) ?? .everything)
    }

    private func action(_ rule: ObjectReader) throws(ManifestError) -> ClusterPolicyAction {
        ClusterPolicyAction(rawValue: try required("action", in: rule)?.string() ?? "")
    }

    /// A peer; one with no field set is refused by the API server (`minProperties: 1`)
    /// but is what a newer CRD's peer looks like to netpol, so the model keeps it.
    private func peer(_ reader: FieldReader, egress: Bool) throws(ManifestError) -> ClusterPolicyPeer {
        let fields = try strict(reader, known: egress ? ["namespaces", "pods", "nodes", "networks", "domainNames"] : ["namespaces", "pods"])
        func strings(_ key: String) throws(ManifestError) -> [String]? {
            guard egress else { return nil }
            return try fields.field(key)?.list { item throws(ManifestError) in try item.string() }
        }
        let peer = ClusterPolicyPeer(
            namespaces: try fields.field("namespaces").map(labelSelector),
            pods: try fields.field("pods").map(namespacedPods),
            nodes: egress ? try fields.field("nodes").map(labelSelector) : nil,
            networks: try strings("networks"),
            domainNames: try strings("domainNames"))
        if peer.fieldCount == 0 {
            findings.writtenProblems += SchemaRules.properties(0, at: reader.path)
        }
        return peer
    }

    /// `protocols`, which may be left out but not written empty (`minItems: 1`).
    private func protocols(_ rule: ObjectReader) throws(ManifestError) -> [ClusterPolicyProtocol] {
        guard let reader = rule.field("protocols") else { return [] }
        let entries = try reader.list { entry throws(ManifestError) in
            let fields = try strict(entry, known: ["tcp", "udp", "sctp", "destinationNamedPort"])
            return ClusterPolicyProtocol(
                tcp: try fields.field("tcp").map(portMatch), udp: try fields.field("udp").map(portMatch),
                sctp: try fields.field("sctp").map(portMatch), destinationNamedPort: try fields.string("destinationNamedPort"))
        }
        if entries.isEmpty {
            findings.writtenProblems += SchemaRules.items(0, ClusterNetworkPolicyValidation.listBounds, at: reader.path)
        }
        return entries
    }

    private func portMatch(_ reader: FieldReader) throws(ManifestError) -> ProtocolPortMatch {
        let fields = try strict(reader, known: ["destinationPort"])
        return ProtocolPortMatch(destinationPort: try fields.field("destinationPort").map { reader throws(ManifestError) in
            let port = try strict(reader, known: ["number", "range"])
            return ClusterPolicyPort(
                number: try port.field("number")?.int32() ?? 0,
                range: try port.field("range").map { reader throws(ManifestError) in
                    let range = try strict(reader, known: ["start", "end"])
                    return PortRange(start: try required("start", in: range)?.int32() ?? 0, end: try required("end", in: range)?.int32() ?? 0)
                })
        })
    }

    /// The field, or nil with a `Required value` problem noted when it is absent or null.
    private func required(_ key: String, in fields: ObjectReader) -> FieldReader? {
        if let reader = fields.field(key) { return reader }
        findings.writtenProblems.append(FieldProblem(.required, fields.path.child(key)))
        return nil
    }
}

extension ClusterNetworkPolicy {
    /// The one API version netpol reads.
    static let apiVersion = "policy.networking.k8s.io/v1alpha2"
}
