import NetpolEngine
import NetpolModel

/// Rules: ipBlocks that match nothing (NP006) or match pods (NP010), named
/// ports no destination declares (NP007), port 53 on TCP alone (NP012), and
/// rules policyTypes turns off or on unseen (NP013, NP014).
extension Linter {
    func ruleFindings(_ subject: PolicySubject) -> [Finding] {
        var findings = policyTypeFindings(subject)
        for rule in subject.rules {
            for (number, peer) in rule.peers.enumerated() {
                guard let ipBlock = peer.ipBlock, let block = AddressBlockRanges(ipBlock) else { continue }
                findings += blockFindings(subject, block, at: rule.peerPath(number).child("ipBlock"))
            }
            findings += namedPortFindings(subject, rule)
            findings += dnsProtocolFindings(subject, rule)
        }
        return findings
    }

    private func blockFindings(_ subject: PolicySubject, _ block: AddressBlockRanges, at path: FieldPath) -> [Finding] {
        if block.isEmpty {
            return [subject.finding(.emptyIPBlock, path.child("except"),
                "the except entries cover all of \(block.cidr): this peer matches no address")]
        }
        // `0.0.0.0/0` without exceptions means "anywhere" and says so.
        guard block.cidr.prefixLength > 0 || block.prefixes != [block.cidr] else { return [] }
        let covered = view.podsWithAddress(in: block)
        guard !covered.isEmpty else { return [] }
        let named = covered.prefix(3).map { "\($0.pod.namespace)/\($0.pod.name) (\($0.address))" }
        let more = covered.count > 3 ? " and \(covered.count - 3) more" : ""
        return [subject.finding(.ipBlockCoversPods, path.child("cidr"),
            "covers the addresses of pods \(named.joined(separator: ", "))\(more): it matches them too, whatever their labels; add their range to except if they are not meant")]
    }

    /// NP007: a port name no destination of the rule declares with that protocol.
    /// Destinations are the pods the policy selects (ingress) or those the rule's
    /// peers match (egress; every pod of the input when it lists none).
    private func namedPortFindings(_ subject: PolicySubject, _ rule: RuleSubject) -> [Finding] {
        guard rule.ports.contains(where: { if case .string = $0.port { true } else { false } }),
              let destinations = destinations(subject, rule), !destinations.isEmpty else { return [] }
        var findings: [Finding] = []
        for (number, port) in rule.ports.enumerated() {
            guard case .string(let name) = port.port else { continue }
            let proto = port.effectiveProtocol
            guard !destinations.contains(where: { $0.declares(name, proto) }) else { continue }
            var message = "none of the \(destinations.count) destination pods in the input (\(podList(destinations))) declares a container port named \(name) on \(proto): this entry matches nothing"
            if let other = destinations.first(where: { pod in PortProtocol.supported.contains { pod.declares(name, $0) } }),
               let otherProtocol = PortProtocol.supported.first(where: { other.declares(name, $0) }) {
                message += "; \(other.namespace)/\(other.name) declares it on \(otherProtocol)"
            }
            findings.append(subject.finding(.undeclaredNamedPort, rule.portPath(number).child("port"), message))
        }
        return findings
    }

    /// The pods a rule's packets go to, when the input shows them all; nil when it does not.
    private func destinations(_ subject: PolicySubject, _ rule: RuleSubject) -> [Pod]? {
        switch rule.direction {
        case .ingress:
            guard view.knowsPods(in: subject.namespace) else { return nil }
            return view.pods(matching: subject.policy.spec.podSelector, in: [subject.namespace])
        case .egress:
            if rule.peers.isEmpty { return view.allPods.filter { !$0.spec.hostNetwork } }
            var pods: [Pod] = []
            for peer in rule.peers {
                if let ipBlock = peer.ipBlock {
                    if let block = AddressBlockRanges(ipBlock) { pods += view.podsWithAddress(in: block).map(\.pod) }
                    continue
                }
                guard let scope = view.scope(of: peer, home: subject.namespace), scope.allSatisfy(view.knowsPods(in:)) else { return nil }
                pods += view.selectedPods(of: peer, home: subject.namespace)
            }
            var seen = Set<String>()
            return pods.filter { seen.insert($0.namespace + "/" + $0.name).inserted }
        }
    }

    /// NP012: port 53 with the protocol left out is TCP only; DNS queries go
    /// over UDP. Only when the same rule does not also allow UDP 53.
    private func dnsProtocolFindings(_ subject: PolicySubject, _ rule: RuleSubject) -> [Finding] {
        guard !rule.ports.contains(where: { $0.admits(.udp, 53) }) else { return [] }
        return rule.ports.enumerated().compactMap { number, port in
            guard port.protocol == nil, port.port != nil, port.admits(.tcp, 53) else { return nil }
            return subject.finding(.dnsPortWithoutUDP, rule.portPath(number),
                "port 53 without a protocol is TCP only, and DNS queries go over UDP: add an entry with protocol: UDP")
        }
    }

    /// NP013 and NP014.
    private func policyTypeFindings(_ subject: PolicySubject) -> [Finding] {
        let spec = subject.policy.spec
        if spec.policyTypes.isEmpty {
            guard spec.ingress.isEmpty, !spec.egress.isEmpty else { return [] }
            return [subject.finding(.implicitIngressIsolation, FieldPath("spec", "policyTypes"),
                "absent, so the API server sets [Ingress, Egress]: with no ingress rules, the selected pods are denied all ingress no other policy allows; write policyTypes: [Egress] if only egress is meant")]
        }
        var findings: [Finding] = []
        for direction in Direction.allCases where !subject.policy.isolatedDirections.contains(direction) {
            let count = direction == .ingress ? spec.ingress.count : spec.egress.count
            guard count > 0 else { continue }
            findings.append(subject.finding(.ignoredRules, FieldPath("spec", direction.rulesField),
                "policyTypes leaves out \(direction.rawValue), so these \(count) rule(s) are ignored: add \(direction.rawValue) to policyTypes"))
        }
        return findings
    }
}

extension NetworkPolicyPort {
    /// Whether this entry admits `proto`/`port` without looking at a pod (a named
    /// port admits no number here).
    func admits(_ proto: PortProtocol, _ number: Int) -> Bool {
        guard effectiveProtocol == proto else { return false }
        switch port {
        case nil: return true
        case .int(let first): return number == first || (endPort.map { (first...max(first, $0)).contains(number) } ?? false)
        case .string: return false
        }
    }
}

extension Pod {
    /// Whether a container declares a port called `name` on `proto`.
    func declares(_ name: String, _ proto: PortProtocol) -> Bool {
        port(named: name, proto) != nil
    }

    func port(named name: String, _ proto: PortProtocol) -> Int? {
        spec.containers.lazy.flatMap(\.ports).first { $0.name == name && $0.protocol == proto }?.containerPort
    }
}
