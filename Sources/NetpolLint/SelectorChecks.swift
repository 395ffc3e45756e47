import NetpolEngine
import NetpolModel

/// Selectors: those that can never match (NP004), those that match nothing in
/// the input (NP001, NP002, NP003), the `name` label that namespaces do not
/// carry (NP005), and the shapes that select more than they seem to (NP015,
/// NP016).
extension Linter {
    func selectorFindings(_ subject: PolicySubject) -> [Finding] {
        var findings = targetFindings(subject)
        for rule in subject.rules {
            for (number, peer) in rule.peers.enumerated() {
                findings += peerFindings(subject, peer, at: rule.peerPath(number))
            }
            findings += splitPeerFindings(subject, rule)
        }
        return findings
    }

    /// NP004 or NP001 on `spec.podSelector`.
    private func targetFindings(_ subject: PolicySubject) -> [Finding] {
        let path = FieldPath("spec", "podSelector")
        let selector = subject.policy.spec.podSelector
        if let key = SelectorConstraints(selector).contradictedKey {
            return [subject.finding(.selectorContradicts, path, contradiction(key))]
        }
        guard view.knowsPods(in: subject.namespace), view.pods(matching: selector, in: [subject.namespace]).isEmpty else { return [] }
        let hostNetwork = view.pods(in: subject.namespace).filter { $0.spec.hostNetwork && selector.matches($0.labels) }
        if !hostNetwork.isEmpty {
            return [subject.finding(.podSelectorSelectsNothing, path,
                "selects only host-network pods (\(podList(hostNetwork))), which NetworkPolicy never applies to")]
        }
        return [subject.finding(.podSelectorSelectsNothing, path,
            "selects none of the \(view.pods(in: subject.namespace).count) pods of namespace \(subject.namespace) in the input: the policy applies to nothing")]
    }

    private func peerFindings(_ subject: PolicySubject, _ peer: NetworkPolicyPeer, at path: FieldPath) -> [Finding] {
        var findings: [Finding] = []
        var contradicted = false
        for (field, selector) in [("namespaceSelector", peer.namespaceSelector), ("podSelector", peer.podSelector)] {
            guard let selector, let key = SelectorConstraints(selector).contradictedKey else { continue }
            findings.append(subject.finding(.selectorContradicts, path.child(field), contradiction(key) + ": this peer matches no pod"))
            contradicted = true
        }
        if let namespaceSelector = peer.namespaceSelector {
            if namespaceSelector.isEmpty {
                let what = peer.podSelector.map { $0.isEmpty ? "every pod" : "the pods its podSelector picks" } ?? "every pod"
                findings.append(subject.finding(.everyNamespace, path.child("namespaceSelector"),
                    "namespaceSelector {} matches every namespace: this peer is \(what) of the cluster, not only of \(subject.namespace)"))
            } else if let finding = nameLabelFinding(subject, namespaceSelector, at: path.child("namespaceSelector")) {
                findings.append(finding)
                contradicted = true
            } else if !contradicted, !view.definedNamespaces.isEmpty, view.namespaces(matching: namespaceSelector).isEmpty {
                findings.append(subject.finding(.namespaceSelectorSelectsNothing, path.child("namespaceSelector"),
                    "selects none of the namespaces of the input (\(nameList(view.namespaceNames))): this peer matches no pod"))
                contradicted = true
            }
        }
        if !contradicted, peer.podSelector != nil, let scope = view.scope(of: peer, home: subject.namespace),
           !scope.isEmpty, scope.allSatisfy(view.knowsPods(in:)), view.selectedPods(of: peer, home: subject.namespace).isEmpty {
            let namespaces = scope.count == 1 ? "namespace \(scope.first ?? "")" : "namespaces \(nameList(scope.sorted()))"
            findings.append(subject.finding(.peerSelectsNoPod, path.child("podSelector"),
                "selects none of the pods of \(namespaces) in the input: this peer matches no pod"))
        }
        return findings
    }

    /// NP005: `namespaceSelector: {matchLabels: {name: shop}}` where namespace
    /// `shop`, as the input defines it, has no `name` label. The API server labels
    /// every namespace `kubernetes.io/metadata.name`, not `name`.
    private func nameLabelFinding(_ subject: PolicySubject, _ selector: LabelSelector, at path: FieldPath) -> Finding? {
        guard let value = selector.matchLabels["name"], view.definedNamespaces.contains(value),
              let labels = view.labels(ofNamespace: value), labels["name"] == nil
        else { return nil }
        return subject.finding(.namespaceNameLabel, path.child("matchLabels"),
            "namespace \(value) has no label `name`; select it by `\(Snapshot.namespaceNameLabel): \(value)`, which every namespace carries")
    }

    /// NP016: one peer with only a namespaceSelector and another with only a
    /// podSelector. They are ORed: every pod of those namespaces, or those pods
    /// of the policy's own namespace; the intersection needs both in one peer.
    private func splitPeerFindings(_ subject: PolicySubject, _ rule: RuleSubject) -> [Finding] {
        guard let namespaceOnly = rule.peers.firstIndex(where: { $0.namespaceSelector != nil && $0.podSelector == nil && $0.ipBlock == nil }),
              let podOnly = rule.peers.firstIndex(where: { $0.podSelector != nil && $0.namespaceSelector == nil })
        else { return [] }
        let field = rule.direction.peersField
        return [subject.finding(.splitPeer, rule.path.child(field),
            "\(field)[\(namespaceOnly)] (namespaceSelector) and \(field)[\(podOnly)] (podSelector) are two peers, ORed: every pod of those namespaces is matched; for pods matching both, put both selectors in one peer")]
    }

    private func contradiction(_ key: String) -> String {
        "no labels can satisfy its requirements on key `\(key)`"
    }
}
