/// Writes objects as YAML or JSON that `ManifestLoader` (and kubectl, and the
/// API decoder) read back to the same objects. Each object is built once as a
/// value tree and rendered either way; every string is double-quoted, so no
/// value is ever retyped by YAML 1.1 (`"y"`, `"on"`, `"80"` stay strings).
public enum ManifestWriter {
    /// Multi-document YAML, block style with short values inline.
    public static func yaml(_ objects: [KubeObject]) -> String {
        objects.map { WrittenValue.object($0).yamlDocument() }.joined(separator: "---\n")
    }

    /// One object as one line of JSON, as the API server sends it.
    public static func json(_ object: KubeObject) -> String {
        WrittenValue.object(object).json
    }

    /// Every object in one `kind: List`, an item a line, in the shape of
    /// `kubectl get -A -o json`.
    public static func jsonList(_ objects: [KubeObject]) -> String {
        "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"metadata\": {\"resourceVersion\": \"\"}, \"items\": [\n"
            + objects.map(json).joined(separator: ",\n") + "\n]}\n"
    }
}

/// A JSON value with ordered keys: what an object is written as.
indirect enum WrittenValue {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([WrittenValue])
    case map([(String, WrittenValue)])

    /// Compact JSON, which is also YAML flow style.
    var json: String {
        switch self {
        case .string(let text): return jsonQuoted(text)
        case .int(let number): return String(number)
        case .bool(let flag): return String(flag)
        case .list(let items): return "[" + items.map(\.json).joined(separator: ",") + "]"
        case .map(let fields): return "{" + fields.map { jsonQuoted($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    /// Values this short (as JSON) stay on their key's line.
    private static let inlineWidth = 72

    func yamlDocument() -> String {
        guard case .map(let fields) = self else { return json + "\n" }
        return fields.map { Self.yamlField($0.0, $0.1, indent: "") }.joined()
    }

    private static func yamlField(_ key: String, _ value: WrittenValue, indent: String) -> String {
        let flow = value.json
        let label = key.allSatisfy({ $0.isLetter || $0.isNumber }) ? key : jsonQuoted(key)
        switch value {
        case .list(let items) where flow.count > inlineWidth:
            return indent + label + ":\n" + items.map { yamlItem($0, indent: indent) }.joined()
        case .map(let fields) where flow.count > inlineWidth:
            return indent + label + ":\n" + fields.map { yamlField($0.0, $0.1, indent: indent + "  ") }.joined()
        default:
            return indent + label + ": " + flow + "\n"
        }
    }

    private static func yamlItem(_ value: WrittenValue, indent: String) -> String {
        guard case .map(let fields) = value, value.json.count > inlineWidth, !fields.isEmpty else {
            return indent + "- " + value.json + "\n"
        }
        let body = fields.map { yamlField($0.0, $0.1, indent: indent + "  ") }.joined()
        return indent + "- " + body.dropFirst(indent.count + 2)
    }
}

extension WrittenValue {
    static func object(_ object: KubeObject) -> WrittenValue {
        switch object {
        case .namespace(let namespace):
            return .map([("apiVersion", .string("v1")), ("kind", .string("Namespace")), ("metadata", metadata(namespace.metadata, namespaced: false))])
        case .pod(let pod):
            var spec: [(String, WrittenValue)] = []
            if !pod.spec.nodeName.isEmpty { spec.append(("nodeName", .string(pod.spec.nodeName))) }
            if pod.spec.hostNetwork { spec.append(("hostNetwork", .bool(true))) }
            spec.append(("containers", .list(pod.spec.containers.map { container in
                var fields: [(String, WrittenValue)] = [("name", .string(container.name))]
                if !container.ports.isEmpty {
                    fields.append(("ports", .list(container.ports.map { port in
                        var entry: [(String, WrittenValue)] = []
                        if !port.name.isEmpty { entry.append(("name", .string(port.name))) }
                        entry += [("containerPort", .int(port.containerPort)), ("protocol", .string(port.protocol.rawValue))]
                        return .map(entry)
                    })))
                }
                return .map(fields)
            })))
            var status: [(String, WrittenValue)] = []
            if !pod.status.phase.isEmpty { status.append(("phase", .string(pod.status.phase))) }
            if !pod.status.podIP.isEmpty { status.append(("podIP", .string(pod.status.podIP))) }
            if !pod.status.podIPs.isEmpty {
                status.append(("podIPs", .list(pod.status.podIPs.map { .map([("ip", .string($0))]) })))
            }
            return .map([
                ("apiVersion", .string("v1")), ("kind", .string("Pod")), ("metadata", metadata(pod.metadata, namespaced: true)),
                ("spec", .map(spec)), ("status", .map(status)),
            ])
        case .networkPolicy(let policy):
            var spec: [(String, WrittenValue)] = [("podSelector", selector(policy.spec.podSelector))]
            if !policy.spec.policyTypes.isEmpty {
                spec.append(("policyTypes", .list(policy.spec.policyTypes.map { .string($0.rawValue) })))
            }
            if !policy.spec.ingress.isEmpty {
                spec.append(("ingress", .list(policy.spec.ingress.map { rule(ports: $0.ports, peers: $0.from, peersKey: "from") })))
            }
            if !policy.spec.egress.isEmpty {
                spec.append(("egress", .list(policy.spec.egress.map { rule(ports: $0.ports, peers: $0.to, peersKey: "to") })))
            }
            return .map([
                ("apiVersion", .string("networking.k8s.io/v1")), ("kind", .string("NetworkPolicy")),
                ("metadata", metadata(policy.metadata, namespaced: true)), ("spec", .map(spec)),
            ])
        case .clusterNetworkPolicy(let policy):
            return clusterNetworkPolicy(policy)
        case .node(let node):
            var fields: [(String, WrittenValue)] = [("apiVersion", .string("v1")), ("kind", .string("Node")), ("metadata", metadata(node.metadata, namespaced: false))]
            if !node.addresses.isEmpty {
                fields.append(("status", .map([("addresses", .list(node.addresses.map {
                    .map([("type", .string($0.type)), ("address", .string($0.address))])
                }))])))
            }
            return .map(fields)
        }
    }

    private static func clusterNetworkPolicy(_ policy: ClusterNetworkPolicy) -> WrittenValue {
        var subject: [(String, WrittenValue)] = []
        if let namespaces = policy.spec.subject.namespaces { subject.append(("namespaces", selector(namespaces))) }
        if let pods = policy.spec.subject.pods { subject.append(("pods", namespacedPods(pods))) }
        var spec: [(String, WrittenValue)] = [
            ("tier", .string(policy.spec.tier.rawValue)), ("priority", .int(policy.spec.priority)), ("subject", .map(subject)),
        ]
        if !policy.spec.ingress.isEmpty {
            spec.append(("ingress", .list(policy.spec.ingress.map { clusterRule(name: $0.name, action: $0.action, peersKey: "from", peers: $0.from, protocols: $0.protocols) })))
        }
        if !policy.spec.egress.isEmpty {
            spec.append(("egress", .list(policy.spec.egress.map { clusterRule(name: $0.name, action: $0.action, peersKey: "to", peers: $0.to, protocols: $0.protocols) })))
        }
        return .map([
            ("apiVersion", .string("policy.networking.k8s.io/v1alpha2")), ("kind", .string("ClusterNetworkPolicy")),
            ("metadata", metadata(policy.metadata, namespaced: false)), ("spec", .map(spec)),
        ])
    }

    private static func clusterRule(
        name: String, action: ClusterPolicyAction, peersKey: String, peers: [ClusterPolicyPeer], protocols: [ClusterPolicyProtocol]
    ) -> WrittenValue {
        var fields: [(String, WrittenValue)] = []
        if !name.isEmpty { fields.append(("name", .string(name))) }
        fields.append(("action", .string(action.rawValue)))
        fields.append((peersKey, .list(peers.map(clusterPeer))))
        if !protocols.isEmpty { fields.append(("protocols", .list(protocols.map(clusterProtocol)))) }
        return .map(fields)
    }

    private static func clusterPeer(_ peer: ClusterPolicyPeer) -> WrittenValue {
        var fields: [(String, WrittenValue)] = []
        if let namespaces = peer.namespaces { fields.append(("namespaces", selector(namespaces))) }
        if let pods = peer.pods { fields.append(("pods", namespacedPods(pods))) }
        if let nodes = peer.nodes { fields.append(("nodes", selector(nodes))) }
        if let networks = peer.networks { fields.append(("networks", .list(networks.map { .string($0) }))) }
        if let domains = peer.domainNames { fields.append(("domainNames", .list(domains.map { .string($0) }))) }
        return .map(fields)
    }

    private static func clusterProtocol(_ entry: ClusterPolicyProtocol) -> WrittenValue {
        func portMatch(_ match: ProtocolPortMatch) -> WrittenValue {
            guard let port = match.destinationPort else { return .map([]) }
            var fields: [(String, WrittenValue)] = []
            if port.number != 0 { fields.append(("number", .int(port.number))) }
            if let range = port.range { fields.append(("range", .map([("start", .int(range.start)), ("end", .int(range.end))]))) }
            return .map([("destinationPort", .map(fields))])
        }
        var fields: [(String, WrittenValue)] = []
        if let tcp = entry.tcp { fields.append(("tcp", portMatch(tcp))) }
        if let udp = entry.udp { fields.append(("udp", portMatch(udp))) }
        if let sctp = entry.sctp { fields.append(("sctp", portMatch(sctp))) }
        if !entry.destinationNamedPort.isEmpty { fields.append(("destinationNamedPort", .string(entry.destinationNamedPort))) }
        return .map(fields)
    }

    private static func namespacedPods(_ pods: NamespacedPods) -> WrittenValue {
        .map([("namespaceSelector", selector(pods.namespaceSelector)), ("podSelector", selector(pods.podSelector))])
    }

    private static func metadata(_ meta: ObjectMeta, namespaced: Bool) -> WrittenValue {
        var fields: [(String, WrittenValue)] = [("name", .string(meta.name))]
        if namespaced { fields.append(("namespace", .string(meta.namespace))) }
        if !meta.uid.isEmpty { fields.append(("uid", .string(meta.uid))) }
        if !meta.resourceVersion.isEmpty { fields.append(("resourceVersion", .string(meta.resourceVersion))) }
        if !meta.labels.isEmpty { fields.append(("labels", stringMap(meta.labels))) }
        if !meta.annotations.isEmpty { fields.append(("annotations", stringMap(meta.annotations))) }
        if let deletion = meta.deletionTimestamp { fields.append(("deletionTimestamp", .string(deletion))) }
        return .map(fields)
    }

    private static func rule(ports: [NetworkPolicyPort], peers: [NetworkPolicyPeer], peersKey: String) -> WrittenValue {
        var fields: [(String, WrittenValue)] = []
        if !peers.isEmpty { fields.append((peersKey, .list(peers.map(peer)))) }
        if !ports.isEmpty { fields.append(("ports", .list(ports.map(port)))) }
        return .map(fields)
    }

    private static func peer(_ peer: NetworkPolicyPeer) -> WrittenValue {
        var fields: [(String, WrittenValue)] = []
        if let pods = peer.podSelector { fields.append(("podSelector", selector(pods))) }
        if let namespaces = peer.namespaceSelector { fields.append(("namespaceSelector", selector(namespaces))) }
        if let block = peer.ipBlock {
            var ipBlock: [(String, WrittenValue)] = [("cidr", .string(block.cidr))]
            if !block.except.isEmpty { ipBlock.append(("except", .list(block.except.map { .string($0) }))) }
            fields.append(("ipBlock", .map(ipBlock)))
        }
        return .map(fields)
    }

    private static func port(_ port: NetworkPolicyPort) -> WrittenValue {
        var fields: [(String, WrittenValue)] = []
        if let proto = port.protocol { fields.append(("protocol", .string(proto.rawValue))) }
        switch port.port {
        case .int(let number): fields.append(("port", .int(number)))
        case .string(let name): fields.append(("port", .string(name)))
        case nil: break
        }
        if let end = port.endPort { fields.append(("endPort", .int(end))) }
        return .map(fields)
    }

    private static func selector(_ selector: LabelSelector) -> WrittenValue {
        var fields: [(String, WrittenValue)] = []
        if !selector.matchLabels.isEmpty { fields.append(("matchLabels", stringMap(selector.matchLabels))) }
        if !selector.matchExpressions.isEmpty {
            fields.append(("matchExpressions", .list(selector.matchExpressions.map { requirement in
                var entry: [(String, WrittenValue)] = [("key", .string(requirement.key)), ("operator", .string(requirement.operator.rawValue))]
                if !requirement.values.isEmpty { entry.append(("values", .list(requirement.values.map { .string($0) }))) }
                return .map(entry)
            })))
        }
        return .map(fields)
    }

    private static func stringMap(_ values: [String: String]) -> WrittenValue {
        .map(values.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }
}

/// `text` as a JSON string literal; also a valid YAML double-quoted scalar.
public func jsonQuoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
