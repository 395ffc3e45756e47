import NetpolModel

extension Verdict {
    /// The verdict and its reasons as a few lines a person reads at a glance:
    /// which policies isolate each side, which rule allowed the connection, or
    /// for each rule of the isolating policies what did not match.
    public var explanation: String {
        var lines = [headline]
        if let exemption {
            lines.append("  \(exemption)")
            return lines.joined(separator: "\n")
        }
        if port == nil, case .string(let name) = connection.port {
            lines.append("  \(connection.destination) has no \(connection.protocol) container port named \(name): nothing can reach it on that port")
        }
        if family == nil {
            lines.append("  \(connection.source) and \(connection.destination) share no address family (a pod without an IP, or a terminating pod, has none)")
        }
        lines += sideLines(egress, endpoint: connection.source, other: connection.destination)
        lines += sideLines(ingress, endpoint: connection.destination, other: connection.source)
        return lines.joined(separator: "\n")
    }

    private var headline: String {
        var text = "\(connection.source) -> \(connection.destination), \(connection.protocol) port \(connection.port)"
        if case .string = connection.port, let port { text += " (\(port))" }
        if let family { text += " over \(family.rawValue)" }
        return text + ": " + (allowed ? "ALLOWED" : "DENIED")
    }

    private func sideLines(_ side: SideDecision, endpoint: Endpoint, other: Endpoint) -> [String] {
        let title = side.direction == .egress ? "Egress from \(endpoint)" : "Ingress to \(endpoint)"
        switch side.outcome {
        case .notApplicable(let reason):
            return ["\(title): not restricted (\(reason))"]
        case .notIsolated:
            let namespace = side.pod?.namespace ?? ""
            return ["\(title): not isolated (no NetworkPolicy in \(namespace) selects it for \(side.direction.rawValue.lowercased()))"]
        case .allowed:
            return ["\(title): allowed", "  isolated by: " + side.isolatingPolicies.map(\.description).joined(separator: ", ")]
                + side.allowingRules.map { "  allowed by \($0.policy) \($0.path) (\($0.matchDescription))" }
        case .denied:
            var lines = ["\(title): DENIED", "  isolated by: " + side.isolatingPolicies.map(\.description).joined(separator: ", ")]
            for policy in side.isolatingPolicies {
                let rules = side.rules.filter { $0.policy == policy }
                if rules.isEmpty {
                    lines.append("  \(policy) has no \(side.direction.rawValue.lowercased()) rules: it only denies")
                }
                for rule in rules {
                    lines.append("  \(policy) \(rule.path): \(rule.missReason(other: other, port: connection.port, proto: connection.protocol))")
                }
            }
            return lines
        }
    }
}

extension RuleEvaluation {
    /// Why this rule does not allow the connection, and what of it did match.
    func missReason(other: Endpoint, port: IntOrString, proto: PortProtocol) -> String {
        let peerMiss = "no \(direction.peersField) entry matches \(other)"
        let portMiss = "no ports entry matches \(proto)/\(port)"
        switch (peer, self.port) {
        case (nil, nil): return "\(peerMiss), and \(portMiss)"
        case (nil, let match?): return "\(peerMiss) (the port would match: \(describe(match, field: "ports", all: "all ports")))"
        case (let match?, nil): return "\(portMiss) (the peer would match: \(describe(match, field: direction.peersField, all: "all peers")))"
        case (_?, _?): return "allows"
        }
    }
}
