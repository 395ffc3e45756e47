/// Writes objects as multi-document YAML that `ManifestLoader` (and kubectl)
/// read back to the same objects. Every string is double-quoted, so no value
/// is ever retyped by YAML 1.1 (`"y"`, `"on"`, `"80"` stay strings).
public enum ManifestWriter {
    public static func yaml(_ objects: [KubeObject]) -> String {
        objects.map(document).joined(separator: "---\n")
    }

    static func document(_ object: KubeObject) -> String {
        var lines: [String] = []
        switch object {
        case .namespace(let namespace):
            lines = ["apiVersion: v1", "kind: Namespace"] + metadata(namespace.metadata, namespaced: false)
        case .pod(let pod):
            lines = ["apiVersion: v1", "kind: Pod"] + metadata(pod.metadata, namespaced: true)
            lines.append("spec:")
            if !pod.spec.nodeName.isEmpty { lines.append("  nodeName: \(quoted(pod.spec.nodeName))") }
            if pod.spec.hostNetwork { lines.append("  hostNetwork: true") }
            lines.append("  containers:" + (pod.spec.containers.isEmpty ? " []" : ""))
            for container in pod.spec.containers {
                lines.append("  - name: \(quoted(container.name))")
                guard !container.ports.isEmpty else { continue }
                lines.append("    ports:")
                for port in container.ports {
                    let name = port.name.isEmpty ? "" : "name: \(quoted(port.name)), "
                    lines.append("    - {\(name)containerPort: \(port.containerPort), protocol: \(quoted(port.protocol.rawValue))}")
                }
            }
            lines.append("status:")
            if !pod.status.phase.isEmpty { lines.append("  phase: \(quoted(pod.status.phase))") }
            if !pod.status.podIP.isEmpty { lines.append("  podIP: \(quoted(pod.status.podIP))") }
            if !pod.status.podIPs.isEmpty {
                lines.append("  podIPs: [" + pod.status.podIPs.map { "{ip: \(quoted($0))}" }.joined(separator: ", ") + "]")
            }
        case .networkPolicy(let policy):
            lines = ["apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy"] + metadata(policy.metadata, namespaced: true)
            lines.append("spec:")
            lines.append("  podSelector: " + selector(policy.spec.podSelector))
            if !policy.spec.policyTypes.isEmpty {
                lines.append("  policyTypes: [" + policy.spec.policyTypes.map { quoted($0.rawValue) }.joined(separator: ", ") + "]")
            }
            if !policy.spec.ingress.isEmpty {
                lines.append("  ingress:")
                for rule in policy.spec.ingress { lines += ruleLines(ports: rule.ports, peers: rule.from, peersKey: "from") }
            }
            if !policy.spec.egress.isEmpty {
                lines.append("  egress:")
                for rule in policy.spec.egress { lines += ruleLines(ports: rule.ports, peers: rule.to, peersKey: "to") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func metadata(_ meta: ObjectMeta, namespaced: Bool) -> [String] {
        var lines = ["metadata:", "  name: \(quoted(meta.name))"]
        if namespaced { lines.append("  namespace: \(quoted(meta.namespace))") }
        if !meta.labels.isEmpty { lines.append("  labels: " + map(meta.labels)) }
        if let deletion = meta.deletionTimestamp { lines.append("  deletionTimestamp: \(quoted(deletion))") }
        return lines
    }

    private static func ruleLines(ports: [NetworkPolicyPort], peers: [NetworkPolicyPeer], peersKey: String) -> [String] {
        var lines: [String] = []
        var first = true
        func add(_ text: String) {
            lines.append((first ? "  - " : "    ") + text)
            first = false
        }
        if !peers.isEmpty {
            add("\(peersKey):")
            for peer in peers { lines.append("    - " + self.peer(peer)) }
        }
        if !ports.isEmpty {
            add("ports:")
            for port in ports { lines.append("    - " + self.port(port)) }
        }
        if first { lines.append("  - {}") }
        return lines
    }

    private static func peer(_ peer: NetworkPolicyPeer) -> String {
        var fields: [String] = []
        if let pods = peer.podSelector { fields.append("podSelector: " + selector(pods)) }
        if let namespaces = peer.namespaceSelector { fields.append("namespaceSelector: " + selector(namespaces)) }
        if let block = peer.ipBlock {
            let except = block.except.isEmpty ? "" : ", except: [" + block.except.map(quoted).joined(separator: ", ") + "]"
            fields.append("ipBlock: {cidr: \(quoted(block.cidr))\(except)}")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private static func port(_ port: NetworkPolicyPort) -> String {
        var fields: [String] = []
        if let proto = port.protocol { fields.append("protocol: \(quoted(proto.rawValue))") }
        switch port.port {
        case .int(let number): fields.append("port: \(number)")
        case .string(let name): fields.append("port: \(quoted(name))")
        case nil: break
        }
        if let end = port.endPort { fields.append("endPort: \(end)") }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private static func selector(_ selector: LabelSelector) -> String {
        var fields: [String] = []
        if !selector.matchLabels.isEmpty { fields.append("matchLabels: " + map(selector.matchLabels)) }
        if !selector.matchExpressions.isEmpty {
            let items = selector.matchExpressions.map { requirement in
                "{key: \(quoted(requirement.key)), operator: \(quoted(requirement.operator.rawValue))"
                    + (requirement.values.isEmpty ? "" : ", values: [" + requirement.values.map(quoted).joined(separator: ", ") + "]") + "}"
            }
            fields.append("matchExpressions: [" + items.joined(separator: ", ") + "]")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private static func map(_ values: [String: String]) -> String {
        "{" + values.sorted { $0.key < $1.key }.map { "\(quoted($0.key)): \(quoted($0.value))" }.joined(separator: ", ") + "}"
    }

    private static func quoted(_ text: String) -> String { jsonQuoted(text) }
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
