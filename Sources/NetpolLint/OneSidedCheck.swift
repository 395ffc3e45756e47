import NetpolEngine
import NetpolModel

/// NP017: a rule whose every connection the other end refuses today. An egress
/// rule to pods that are isolated for ingress and admit none of the pods the
/// policy selects on its ports (or an ingress rule from pods isolated for
/// egress that may send them none) lets nothing through: the other half of the
/// allow was forgotten. Judged by the engine, pair by pair, on the pods of the
/// input; only for rules that name their peers by selectors and their ports one
/// by one (no ipBlock, no range, no "every port"), and never past
/// `pairLimit` pairs, where it says nothing.
extension Linter {
    static let pairLimit = 20_000

    func oneSidedFindings(_ subject: PolicySubject) -> [Finding] {
        guard view.knowsPods(in: subject.namespace) else { return [] }
        let selected = withAddress(view.pods(matching: subject.policy.spec.podSelector, in: [subject.namespace]))
        guard !selected.isEmpty else { return [] }
        var findings: [Finding] = []
        for direction in Direction.allCases {
            for rule in subject.effectiveRules(direction) {
                let pairsPerPeerPod = selected.count * rule.ports.count
                guard !rule.ports.isEmpty, rule.ports.allSatisfy(\.isSinglePort),
                      let others = peers(of: rule, subject, limit: Self.pairLimit / max(1, pairsPerPeerPod)), !others.isEmpty,
                      let passes = anyConnectionPasses(rule, selected: selected, others: others), !passes
                else { continue }
                let message = direction == .egress
                    ? "its destinations (\(podList(others))) are isolated for ingress and admit none of the pods this policy selects on these ports: the rule lets no connection through; allow it on their side too"
                    : "its sources (\(podList(others))) are isolated for egress and may send nothing to the pods this policy selects on these ports: the rule lets no connection through; allow it on their side too"
                findings.append(subject.finding(.oneSidedRule, rule.path, message))
            }
        }
        return findings
    }

    /// The pods a rule's peers pick, when every peer is a selector, the input
    /// shows their namespaces' pods, and they are no more than `limit`.
    private func peers(of rule: RuleSubject, _ subject: PolicySubject, limit: Int) -> [Pod]? {
        guard !rule.peers.isEmpty else { return nil }
        var pods: [Pod] = []
        for peer in rule.peers {
            guard peer.ipBlock == nil, let scope = view.scope(of: peer, home: subject.namespace), scope.allSatisfy(view.knowsPods(in:)) else { return nil }
            pods += view.selectedPods(of: peer, home: subject.namespace)
            guard pods.count <= limit else { return nil }
        }
        var seen = Set<String>()
        return withAddress(pods).filter { seen.insert($0.namespace + "/" + $0.name).inserted }
    }

    /// Whether some connection this rule allows on its own side also passes the
    /// other side; nil when there are too many pairs to judge, or none (a pod
    /// alone with itself, a port name no destination declares).
    private func anyConnectionPasses(_ rule: RuleSubject, selected: [Pod], others: [Pod]) -> Bool? {
        var judged = 0
        for port in rule.ports {
            guard let number = port.port else { continue }
            for mine in selected {
                for other in others where other.namespace != mine.namespace || other.name != mine.name {
                    let (source, destination) = rule.direction == .egress ? (mine, other) : (other, mine)
                    let verdict = engine.verdict(for: Connection(
                        from: .pod(PodID(namespace: source.namespace, name: source.name)),
                        to: .pod(PodID(namespace: destination.namespace, name: destination.name)),
                        protocol: port.effectiveProtocol, port: number))
                    // A named port the destination lacks is no connection of this rule.
                    guard verdict.port != nil else { continue }
                    judged += 1
                    let otherSide = rule.direction == .egress ? verdict.ingress : verdict.egress
                    if otherSide.allows { return true }
                }
            }
        }
        return judged > 0 ? false : nil
    }

    private func withAddress(_ pods: [Pod]) -> [Pod] {
        pods.filter { !$0.status.addresses.isEmpty }
    }
}

extension NetworkPolicyPort {
    /// One port by number or name: no range, not every port.
    var isSinglePort: Bool { port != nil && endPort == nil }
}
