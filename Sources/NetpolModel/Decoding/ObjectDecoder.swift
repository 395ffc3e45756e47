/// Decodes the objects netpol uses from a document's node tree: Namespaces, Pods,
/// Nodes, `networking.k8s.io/v1` NetworkPolicies and `policy.networking.k8s.io/v1alpha2`
/// ClusterNetworkPolicies, alone or inside a `List` (what `kubectl get -o yaml`
/// prints). Other kinds are skipped.
///
/// Policies are decoded strictly, as `kubectl apply` does by default: a field
/// the API does not have is reported, because a misspelt `podSelector` would
/// otherwise silently select every pod.
struct ObjectDecoder {
    /// A decoded object with the fields strict decoding did not recognise and
    /// the scalars YAML retyped (paths relative to the object).
    struct Decoded {
        var object: KubeObject
        var unknownFields: [FieldPath]
        var retypedScalars: [RetypedScalar]
        /// What the manifest wrote that the API server refuses but the object
        /// cannot show (a required field left out, an empty `protocols` list).
        var writtenProblems: [FieldProblem]
        /// Path of the object inside its document: root, or `items[N]`.
        var pathInDocument: FieldPath
    }

    /// Collects what the readers below find while they walk the object.
    let findings = DecodingFindings()

    /// Every object of interest in one document, in document order. A List item
    /// that fails to decode is one failure; the other items are still returned.
    static func objects(in root: ManifestNode) -> [Result<Decoded, ManifestError>] {
        objects(in: FieldReader(node: root, path: .root), at: .root)
    }

    private static func objects(in reader: FieldReader, at location: FieldPath) -> [Result<Decoded, ManifestError>] {
        do throws(ManifestError) {
            let fields = try reader.object()
            let kind = try fields.string("kind")
            if kind == "List" || (kind.hasSuffix("List") && fields.field("items") != nil) {
                return try (fields.field("items")?.list() ?? []).flatMap { item in
                    objects(in: FieldReader(node: item.node, path: .root), at: location.appending(item.path))
                }
            }
            guard var decoded = try decodeObject(kind: kind, apiVersion: try fields.string("apiVersion"), fields: fields) else { return [] }
            decoded.pathInDocument = location
            return [.success(decoded)]
        } catch var failure {
            failure.path = location.appending(failure.path ?? .root)
            return [.failure(failure)]
        }
    }

    static func decodeObject(kind: String, apiVersion: String, fields: ObjectReader) throws(ManifestError) -> Decoded? {
        let metadata = try? fields.field("metadata")?.object()
        let written = (try? metadata?.string("namespace")) ?? ""
        let reference = ObjectReference(
            kind: kind,
            namespace: clusterScopedKinds.contains(kind) ? "" : written.isEmpty ? "default" : written,
            name: (try? metadata?.string("name")) ?? "")
        let decoder = ObjectDecoder()
        let fields = fields.noting(into: decoder.findings)
        do throws(ManifestError) {
            let object: KubeObject
            switch (kind, apiVersion) {
            case ("Namespace", "v1"):
                object = .namespace(try decoder.namespace(fields))
            case ("Pod", "v1"):
                object = .pod(try decoder.pod(fields))
            case ("NetworkPolicy", "networking.k8s.io/v1"):
                object = .networkPolicy(try decoder.networkPolicy(fields))
            case ("NetworkPolicy", let version) where version.hasPrefix("networking.k8s.io/") || version.hasPrefix("extensions/"):
                throw ManifestError(.unsupportedVersion, "\(goQuoted(version)) is not read by netpol; use networking.k8s.io/v1", path: FieldPath("apiVersion"))
            case ("ClusterNetworkPolicy", ClusterNetworkPolicy.apiVersion):
                object = .clusterNetworkPolicy(try decoder.clusterNetworkPolicy(fields))
            case ("ClusterNetworkPolicy", let version) where version.hasPrefix("policy.networking.k8s.io/"):
                throw ManifestError(.unsupportedVersion, "\(goQuoted(version)) is not read by netpol; use \(ClusterNetworkPolicy.apiVersion)", path: FieldPath("apiVersion"))
            case ("AdminNetworkPolicy", let version), ("BaselineAdminNetworkPolicy", let version):
                guard version.hasPrefix("policy.networking.k8s.io/") else { return nil }
                throw ManifestError(
                    .unsupportedVersion,
                    "\(kind) (\(version)) is not read by netpol; ClusterNetworkPolicy (\(ClusterNetworkPolicy.apiVersion)) replaces it, with tier \(kind == "AdminNetworkPolicy" ? "Admin" : "Baseline")",
                    path: FieldPath("kind"))
            case ("Node", "v1"):
                object = .node(try decoder.node(fields))
            case ("Namespace", _), ("Pod", _), ("Node", _):
                throw ManifestError(.unsupportedVersion, "\(goQuoted(apiVersion)) is not read by netpol; use v1", path: FieldPath("apiVersion"))
            default:
                return nil
            }
            return Decoded(
                object: object, unknownFields: decoder.findings.unknownFields,
                retypedScalars: decoder.findings.retypedScalars, writtenProblems: decoder.findings.writtenProblems,
                pathInDocument: .root)
        } catch var failure {
            failure.object = reference
            throw failure
        }
    }

    /// Kinds without a namespace: one written on them is dropped, as the API server drops it.
    private static let clusterScopedKinds: Set<String> = ["Namespace", "Node", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]

    // MARK: - Kinds

    func metadata(_ fields: ObjectReader, namespaced: Bool) throws(ManifestError) -> ObjectMeta {
        guard let reader = fields.field("metadata") else {
            return ObjectMeta(name: "", namespace: namespaced ? "default" : "")
        }
        let meta = try reader.object()
        let namespace = try meta.string("namespace")
        return ObjectMeta(
            name: try meta.string("name"),
            namespace: namespaced ? (namespace.isEmpty ? "default" : namespace) : namespace,
            labels: try meta.stringMap("labels"),
            annotations: try meta.stringMap("annotations"),
            generateName: try meta.string("generateName"),
            deletionTimestamp: try meta.optionalString("deletionTimestamp"),
            resourceVersion: try meta.string("resourceVersion"),
            uid: try meta.string("uid"))
    }

    private func namespace(_ fields: ObjectReader) throws(ManifestError) -> Namespace {
        Namespace(metadata: try metadata(fields, namespaced: false))
    }

    private func pod(_ fields: ObjectReader) throws(ManifestError) -> Pod {
        let spec = try fields.field("spec")?.object()
        let status = try fields.field("status")?.object()
        return Pod(
            metadata: try metadata(fields, namespaced: true),
            spec: PodSpec(
                nodeName: try spec?.string("nodeName") ?? "",
                hostNetwork: try spec?.field("hostNetwork")?.bool() ?? false,
                containers: try spec?.list("containers", container) ?? []),
            status: PodStatus(
                phase: try status?.string("phase") ?? "",
                podIP: try status?.string("podIP") ?? "",
                podIPs: try status?.list("podIPs") { item throws(ManifestError) in try item.object().string("ip") } ?? []))
    }

    private func container(_ reader: FieldReader) throws(ManifestError) -> Container {
        let fields = try reader.object()
        return Container(name: try fields.string("name"), ports: try fields.list("ports", containerPort))
    }

    private func containerPort(_ reader: FieldReader) throws(ManifestError) -> ContainerPort {
        let fields = try reader.object()
        guard let number = try fields.field("containerPort")?.int32() else {
            throw ManifestError(.decoding, "missing required field \"containerPort\"", path: reader.path, line: reader.node.line)
        }
        return ContainerPort(
            name: try fields.string("name"),
            containerPort: number,
            protocol: try fields.optionalString("protocol").map(PortProtocol.init(rawValue:)) ?? .tcp)
    }

    private func networkPolicy(_ fields: ObjectReader) throws(ManifestError) -> NetworkPolicy {
        let metadata = try metadata(fields, namespaced: true)
        guard let specReader = fields.field("spec") else {
            return NetworkPolicy(metadata: metadata, spec: NetworkPolicySpec())
        }
        let spec = try strict(specReader, known: ["podSelector", "ingress", "egress", "policyTypes"])
        return NetworkPolicy(
            metadata: metadata,
            spec: NetworkPolicySpec(
                podSelector: try spec.field("podSelector").map(labelSelector) ?? .everything,
                ingress: try spec.list("ingress") { reader throws(ManifestError) in
                    let rule = try strict(reader, known: ["ports", "from"])
                    return NetworkPolicyIngressRule(ports: try rule.list("ports", port), from: try rule.list("from", peer))
                },
                egress: try spec.list("egress") { reader throws(ManifestError) in
                    let rule = try strict(reader, known: ["ports", "to"])
                    return NetworkPolicyEgressRule(ports: try rule.list("ports", port), to: try rule.list("to", peer))
                },
                policyTypes: try spec.list("policyTypes") { reader throws(ManifestError) in PolicyType(rawValue: try reader.string()) }))
    }

    private func peer(_ reader: FieldReader) throws(ManifestError) -> NetworkPolicyPeer {
        let fields = try strict(reader, known: ["podSelector", "namespaceSelector", "ipBlock"])
        return NetworkPolicyPeer(
            podSelector: try fields.field("podSelector").map(labelSelector),
            namespaceSelector: try fields.field("namespaceSelector").map(labelSelector),
            ipBlock: try fields.field("ipBlock").map { reader throws(ManifestError) in
                let block = try strict(reader, known: ["cidr", "except"])
                return IPBlock(cidr: try block.string("cidr"), except: try block.list("except") { item throws(ManifestError) in try item.string() })
            })
    }

    private func port(_ reader: FieldReader) throws(ManifestError) -> NetworkPolicyPort {
        let fields = try strict(reader, known: ["protocol", "port", "endPort"])
        return NetworkPolicyPort(
            protocol: try fields.optionalString("protocol").map(PortProtocol.init(rawValue:)),
            port: try fields.field("port")?.intOrString(),
            endPort: try fields.field("endPort")?.int32())
    }

    func labelSelector(_ reader: FieldReader) throws(ManifestError) -> LabelSelector {
        let fields = try strict(reader, known: ["matchLabels", "matchExpressions"])
        return LabelSelector(
            matchLabels: try fields.stringMap("matchLabels"),
            matchExpressions: try fields.list("matchExpressions") { reader throws(ManifestError) in
                let requirement = try strict(reader, known: ["key", "operator", "values"])
                return LabelSelectorRequirement(
                    key: try requirement.string("key"),
                    operator: SelectorOperator(rawValue: try requirement.string("operator")),
                    values: try requirement.list("values") { item throws(ManifestError) in try item.string() })
            })
    }

    /// Reads an object and records the keys it has beyond `known`.
    func strict(_ reader: FieldReader, known: Set<String>) throws(ManifestError) -> ObjectReader {
        let fields = try reader.object()
        findings.unknownFields += fields.unknownFields(known: known)
        return fields
    }
}
