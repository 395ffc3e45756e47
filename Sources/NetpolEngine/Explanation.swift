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

    /// - Parameter audited: policies to mark `(audited)` where the side lists them.
    fileprivate func sideLines(_ side: SideDecision, endpoint: Endpoint, other: Endpoint, audited: Set<PolicyID> = []) -> [String] {
        let title = side.direction == .egress ? "Egress from \(endpoint)" : "Ingress to \(endpoint)"
        let tierLines = side.admin.map { $0.lines(other: other) } ?? []
        switch side.decidedBy {
        case .nothing:
            guard case .notApplicable(let reason) = side.outcome else { return [] }
            return ["\(title): not restricted (\(reason))"]
        case .adminTier(let match), .baselineTier(let match):
            let verdict = side.allows ? "allowed" : "DENIED"
            let context = match.tier == .admin
                ? "NetworkPolicy and the Baseline tier are skipped"
                : "no NetworkPolicy in \(side.pod?.namespace ?? "") selects it for \(side.direction.rawValue.lowercased())"
            return ["\(title): \(verdict) by the \(match.tier) tier"] + tierLines
                + (side.baseline.map { $0.lines(other: other) } ?? []) + ["  \(context)"]
        case .networkPolicy:
            return networkPolicyLines(side, title: title, other: other, tierLines: tierLines, audited: audited)
        case .defaultAllow:
            let namespace = side.pod?.namespace ?? ""
            return ["\(title): not isolated (no NetworkPolicy in \(namespace) selects it for \(side.direction.rawValue.lowercased()))"]
                + tierLines + (side.baseline.map { $0.lines(other: other) } ?? [])
        }
    }

    private func networkPolicyLines(_ side: SideDecision, title: String, other: Endpoint, tierLines: [String], audited: Set<PolicyID>) -> [String] {
        let isolatedBy = "  isolated by: " + side.isolatingPolicies.map { $0.description + (audited.contains($0) ? " (audited)" : "") }.joined(separator: ", ")
        if side.allows {
            return ["\(title): allowed", isolatedBy] + tierLines
                + side.allowingRules.map { "  allowed by \($0.policy) \($0.path) (\($0.matchDescription))" }
        }
        var lines = ["\(title): DENIED", isolatedBy] + tierLines
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

extension AuditedVerdict {
    /// The `audit:` block `netpol explain` prints after the enforced verdict:
    /// what the connection would be with the audited policies enforced, which
    /// of them would decide, and the sides that would change, as
    /// `Verdict.explanation` lays them out.
    public var explanation: String {
        var lines = ["audit: " + (wouldBe.allowed ? "ALLOWED" : "DENIED") + " if the audited policies were enforced, decided by "
            + decidingPolicies.map(\.description).joined(separator: ", ")]
        let connection = wouldBe.connection
        if enforced.egress.allows != wouldBe.egress.allows {
            lines += wouldBe.sideLines(wouldBe.egress, endpoint: connection.source, other: connection.destination, audited: auditedPolicies).map { "  " + $0 }
        }
        if enforced.ingress.allows != wouldBe.ingress.allows {
            lines += wouldBe.sideLines(wouldBe.ingress, endpoint: connection.destination, other: connection.source, audited: auditedPolicies).map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}

extension TierEvaluation {
    /// The tier's policies for the side, and the rule that matched first (or none).
    func lines(other: Endpoint) -> [String] {
        var lines = ["  \(tier) tier: " + policies.map { "\($0.name) (priority \($0.priority))" }.joined(separator: ", ")]
        guard let match else {
            lines.append("    no rule matches \(other): the next layer decides")
            return lines
        }
        let name = match.name.isEmpty ? "" : " \"\(match.name)\""
        let protocols: String
        switch match.protocolEntry {
        case .any: protocols = "all traffic"
        case .entry(let index): protocols = "protocols[\(index)]"
        }
        let effect: String
        switch match.action {
        case .accept: effect = match.direction == .egress ? "Accept (the destination's ingress still decides)" : "Accept"
        case .pass: effect = match.tier == .admin ? "Pass (on to NetworkPolicy)" : "Pass (on to the default: allowed)"
        default: effect = match.action.rawValue
        }
        lines.append("    \(match.policy.name) \(match.path)\(name) matches (\(match.direction.peersField)[\(match.peer)], \(protocols)): \(effect)")
        if !match.tiedWith.isEmpty {
            lines.append("    \(([match.policy.name] + match.tiedWith).sorted().joined(separator: ", ")) share priority \(match.policy.priority): upstream leaves their order undefined; netpol checks them by name")
        }
        return lines
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
