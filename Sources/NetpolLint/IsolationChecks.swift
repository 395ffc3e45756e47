import NetpolEngine
import NetpolModel

/// Isolation as a whole: an allow-all rule beside a default deny (NP009), and
/// egress isolation that leaves DNS out (NP011).
extension Linter {
    /// NP009: a rule with neither peers nor ports allows every packet of its
    /// direction to the pods the policy selects, so a default deny of the
    /// namespace (podSelector {}, the direction isolated, no rules of it) no
    /// longer denies them anything.
    func allowAllFindings(_ subject: PolicySubject) -> [Finding] {
        var findings: [Finding] = []
        for direction in Direction.allCases {
            let allowAll = subject.effectiveRules(direction).filter(\.allowsEverything)
            guard !allowAll.isEmpty else { continue }
            let denies = defaultDenies(in: subject.namespace, direction).filter { $0.name != subject.policy.name }
            guard let deny = denies.first else { continue }
            let selector = subject.policy.spec.podSelector
            let whom = selector.isEmpty
                ? "every pod of \(subject.namespace)"
                : view.knowsPods(in: subject.namespace)
                    ? "the pods it selects (\(podList(view.pods(matching: selector, in: [subject.namespace]))))"
                    : "the pods it selects"
            let peers = direction == .ingress ? "every source" : "every destination"
            for rule in allowAll {
                findings.append(subject.finding(.allowAllCancelsDefaultDeny, rule.path,
                    "no \(direction.peersField) and no ports: allows \(peers) on every port, so default deny \(deny.namespace)/\(deny.name) denies \(whom) nothing"))
            }
        }
        return findings
    }

    /// Policies of `namespace` that select every pod and isolate `direction` with no rules of it.
    private func defaultDenies(in namespace: String, _ direction: Direction) -> [NetworkPolicy] {
        (view.policiesByNamespace[namespace] ?? []).filter { policy in
            policy.spec.podSelector.isEmpty && policy.isolatedDirections.contains(direction)
                && (direction == .ingress ? policy.spec.ingress.isEmpty : policy.spec.egress.isEmpty)
        }
    }

    /// NP011: pods isolated for egress that no rule lets reach port 53 (UDP or
    /// TCP) anywhere: they cannot resolve names. One finding per namespace, on
    /// the policy that isolates most of those pods. Where the input has no pod
    /// of the namespace, judged by selectors: an egress-isolating policy without
    /// DNS is reported unless a policy with DNS selects every pod it selects.
    func dnsFindings() -> [Finding] {
        let byNamespace = Dictionary(grouping: view.snapshot.policies.filter { $0.isolatedDirections.contains(.egress) }, by: \.namespace)
        var findings: [Finding] = []
        for namespace in byNamespace.keys.sorted() {
            let isolating = byNamespace[namespace] ?? []
            let withDNS = Set(isolating.filter(allowsDNS).map(\.name))
            if view.knowsPods(in: namespace) {
                findings += dnsFindings(isolating, withDNS: withDNS, pods: view.pods(in: namespace).filter { !$0.spec.hostNetwork })
            } else {
                for policy in isolating where !withDNS.contains(policy.name) {
                    let covered = isolating.contains { withDNS.contains($0.name) && SelectorConstraints(policy.spec.podSelector).implies(SelectorConstraints($0.spec.podSelector)) }
                    guard !covered else { continue }
                    findings.append(dnsFinding(policy, "the pods this policy isolates for egress"))
                }
            }
        }
        return findings
    }

    /// `withDNS` names the policies of `isolating` that allow DNS.
    private func dnsFindings(_ isolating: [NetworkPolicy], withDNS: Set<String>, pods: [Pod]) -> [Finding] {
        var lacking: [Pod] = []
        var isolatedBy: [String: Int] = [:]
        for pod in pods {
            let policies = isolating.filter { $0.spec.podSelector.matches(pod.labels) }
            guard !policies.isEmpty, !policies.contains(where: { withDNS.contains($0.name) }) else { continue }
            lacking.append(pod)
            for policy in policies { isolatedBy[policy.name, default: 0] += 1 }
        }
        guard let blamed = isolating.filter({ isolatedBy[$0.name] != nil }).max(by: { (isolatedBy[$0.name] ?? 0, $1.name) < (isolatedBy[$1.name] ?? 0, $0.name) })
        else { return [] }
        let byWhom = isolatedBy[blamed.name] == lacking.count ? "by this policy" : "by this policy and others"
        return [dnsFinding(blamed, "\(lacking.count) pod(s) isolated for egress \(byWhom) (\(podList(lacking)))")]
    }

    /// `pods` says which pods, as the subject of the sentence.
    private func dnsFinding(_ policy: NetworkPolicy, _ pods: String) -> Finding {
        let field = policy.spec.policyTypes.isEmpty ? FieldPath("spec", "egress") : FieldPath("spec", "policyTypes")
        let subject = PolicySubject(policy: policy, location: view.location(of: policy))
        return subject.finding(.egressWithoutDNS, field,
            "\(pods) may not reach port 53 (UDP or TCP) anywhere: no egress rule of a policy selecting them allows it, so they cannot resolve names")
    }

    /// Whether an egress rule of the policy allows UDP or TCP port 53 to anything:
    /// no ports, an entry covering 53, or a port name some pod of the input
    /// declares as 53.
    private func allowsDNS(_ policy: NetworkPolicy) -> Bool {
        policy.spec.egress.contains { rule in
            rule.ports.isEmpty || rule.ports.contains { port in
                [PortProtocol.udp, .tcp].contains { proto in
                    if case .string(let name) = port.port, port.effectiveProtocol == proto {
                        return view.dnsPortNames[proto]?.contains(name) ?? false
                    }
                    return port.admits(proto, 53)
                }
            }
        }
    }
}
