import NetpolEngine
import NetpolModel

/// NP008: a policy that another policy of its namespace makes redundant, so
/// that deleting it would change no verdict, whatever the pods and labels.
///
/// Policy P is redundant beside policy Q when all of these hold:
/// - Q's podSelector matches every label set P's matches (so Q selects every
///   pod P selects, for any pod);
/// - Q isolates every direction P isolates (policyTypes after defaulting);
/// - in each of those directions, every pair of one peer and one ports entry of
///   every P rule lies within a single Q rule: the peer within one of its peers,
///   the entry within one of its ports entries.
/// Peers compare by selectors (the namespace scope, then the podSelector; a
/// podSelector alone is scoped to the namespace by its name label), ipBlocks by
/// the addresses they cover; a rule listing no peers (or no ports) is only
/// within a rule listing none. Ports compare by protocol, then number range or
/// the same name. When P and Q are each redundant beside the other (equal
/// policies), only the later name is reported.
extension Linter {
    func redundancyFindings(_ subject: PolicySubject) -> [Finding] {
        let policy = subject.policy
        for other in view.policiesByNamespace[policy.namespace] ?? [] where other.name != policy.name {
            guard Self.covers(other, policy) else { continue }
            if Self.covers(policy, other), policy.name < other.name { continue }
            return [subject.finding(.redundantPolicy, FieldPath("spec"),
                "\(other.namespace)/\(other.name) selects every pod this one selects, isolates every direction it isolates and allows all it allows: deleting this one changes no verdict")]
        }
        return []
    }

    /// Whether `outer` makes `inner` redundant (see above).
    static func covers(_ outer: NetworkPolicy, _ inner: NetworkPolicy) -> Bool {
        guard SelectorConstraints(inner.spec.podSelector).implies(SelectorConstraints(outer.spec.podSelector)),
              inner.isolatedDirections.isSubset(of: outer.isolatedDirections)
        else { return false }
        let outerSubject = PolicySubject(policy: outer, location: "")
        let innerSubject = PolicySubject(policy: inner, location: "")
        return inner.isolatedDirections.allSatisfy { direction in
            let outerRules = outerSubject.effectiveRules(direction)
            return innerSubject.effectiveRules(direction).allSatisfy { rule in
                rule.pairs.allSatisfy { pair in
                    outerRules.contains { $0.contains(pair, outerHome: outer.namespace, innerHome: inner.namespace) }
                }
            }
        }
    }
}

extension RuleSubject {
    /// One peer and one ports entry of a rule; nil stands for "every" (the list is empty).
    struct Pair {
        var peer: NetworkPolicyPeer?
        var port: NetworkPolicyPort?
    }

    var pairs: [Pair] {
        let somePeers: [NetworkPolicyPeer?] = peers.isEmpty ? [nil] : peers
        let somePorts: [NetworkPolicyPort?] = ports.isEmpty ? [nil] : ports
        return somePeers.flatMap { peer in somePorts.map { Pair(peer: peer, port: $0) } }
    }

    func contains(_ pair: Pair, outerHome: String, innerHome: String) -> Bool {
        let peerFits: Bool
        if let peer = pair.peer {
            peerFits = peers.isEmpty || peers.contains { $0.contains(peer, home: outerHome, innerHome: innerHome) }
        } else {
            peerFits = peers.isEmpty
        }
        let portFits: Bool
        if let port = pair.port {
            portFits = ports.isEmpty || ports.contains { $0.contains(port) }
        } else {
            portFits = ports.isEmpty
        }
        return peerFits && portFits
    }
}

extension NetworkPolicyPeer {
    /// Whether every pod or address `other` matches, this peer matches too, for any pods.
    func contains(_ other: NetworkPolicyPeer, home: String, innerHome: String) -> Bool {
        if let block = ipBlock.flatMap(AddressBlockRanges.init) {
            guard let otherBlock = other.ipBlock.flatMap(AddressBlockRanges.init) else { return false }
            return otherBlock.isSubset(of: block)
        }
        guard other.ipBlock == nil else { return false }
        let pods = SelectorConstraints(podSelector ?? .everything)
        let otherPods = SelectorConstraints(other.podSelector ?? .everything)
        if otherPods.contradictedKey != nil { return true }
        return other.namespaceScope(home: innerHome).implies(namespaceScope(home: home)) && otherPods.implies(pods)
    }

    /// The namespaces the peer's pods come from, as a selector on namespace labels.
    func namespaceScope(home: String) -> SelectorConstraints {
        namespaceSelector.map(SelectorConstraints.init) ?? SelectorConstraints(key: Snapshot.namespaceNameLabel, value: home)
    }
}

extension NetworkPolicyPort {
    /// Whether every protocol and port `other` admits, this entry admits too.
    func contains(_ other: NetworkPolicyPort) -> Bool {
        guard effectiveProtocol == other.effectiveProtocol else { return false }
        switch (port, other.port) {
        case (nil, _): return true
        case (_, nil): return false
        case (.string(let name), .string(let otherName)): return name == otherName
        case (.int(let first), .int(let otherFirst)):
            let last = endPort ?? first
            return first <= otherFirst && (other.endPort ?? otherFirst) <= last
        default: return false
        }
    }
}
