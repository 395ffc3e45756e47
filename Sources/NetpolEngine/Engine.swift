import NetpolModel

/// Decides which connections NetworkPolicy allows in a snapshot, and why: the
/// single source of truth for the semantics in DESIGN.md. Pure; build one per
/// snapshot, then ask as many questions as needed.
public struct Engine: Sendable {
    package let index: PolicyIndex

    /// - Parameter inForce: which NetworkPolicies decide: by default what the
    ///   kernel enforces; `.auditedEnforced` answers what the audited policies
    ///   (`netpol.io/mode: audit`) would do if they were enforced.
    public init(snapshot: Snapshot, inForce: PoliciesInForce = .enforced) {
        index = PolicyIndex(snapshot, inForce: inForce)
    }

    /// Which NetworkPolicies this engine lets decide.
    public var inForce: PoliciesInForce { index.inForce }

    /// Whether some NetworkPolicy of the snapshot is audited.
    public var hasAuditedPolicies: Bool {
        index.policies.contains { $0.policy.isAudited }
    }

    /// The pods a matrix covers: those with an address that are not on the host
    /// network, sorted by namespace then name.
    public var matrixPods: [PodID] {
        index.pods.filter { !$0.isHostNetwork && !$0.addresses.isEmpty }.map(\.id)
    }

    /// Reads `namespace/pod` or an IP address. An address that belongs to a pod of
    /// the snapshot is that pod.
    public func endpoint(_ text: String) throws(EngineError) -> Endpoint {
        if let id = PodID(text) {
            guard index.podNumbers[id] != nil else { throw EngineError(.unknownPod, "no pod \(id) in the input") }
            return .pod(id)
        }
        guard let address = IPAddress(text) else {
            throw EngineError(.badEndpoint, "\(text) is neither NAMESPACE/POD nor an IP address")
        }
        if let number = index.podsByAddress[address] { return .pod(index.pods[number].id) }
        return .address(address)
    }

    // MARK: - Verdicts

    public func verdict(for connection: Connection) -> Verdict {
        let source = pod(connection.source)
        let destination = pod(connection.destination)
        let port = resolve(connection.port, connection.protocol, on: destination)
        let family = self.family(connection, source: source, destination: destination)

        if let source, source == destination {
            return exempt(connection, port: port, family: family, because: "traffic from a pod to itself is always allowed")
        }
        if let source, let destination, index.pods[source].isHostNetwork, !index.pods[destination].pod.spec.nodeName.isEmpty,
           index.pods[source].pod.spec.nodeName == index.pods[destination].pod.spec.nodeName {
            return exempt(connection, port: port, family: family,
                          because: "traffic from the node itself (a host-network pod on \(index.pods[source].pod.spec.nodeName)) to its own pods is always allowed")
        }
        let egress = side(.egress, of: source, peer: Peer(pod: destination, address: address(connection.destination, destination, family)),
                          protocol: connection.protocol, port: port, portOwner: destination, family: family)
        let ingress = side(.ingress, of: destination, peer: Peer(pod: source, address: address(connection.source, source, family)),
                           protocol: connection.protocol, port: port, portOwner: destination, family: family)
        return Verdict(connection: connection, port: port, family: family, exemption: nil, egress: egress, ingress: ingress)
    }

    private func exempt(_ connection: Connection, port: Int?, family: IPAddress.Family?, because reason: String) -> Verdict {
        Verdict(connection: connection, port: port, family: family, exemption: reason,
                egress: SideDecision(direction: .egress, pod: nil, outcome: .notApplicable("not judged"), decidedBy: .nothing),
                ingress: SideDecision(direction: .ingress, pod: nil, outcome: .notApplicable("not judged"), decidedBy: .nothing))
    }

    /// The other end of a side: a pod of the snapshot, and the address it uses.
    private struct Peer {
        var pod: Int?
        var address: IPAddress?

        /// Which entry of a rule admits this end: asked by pod when it is one and
        /// the connection has a family, else by address; nil when neither can be asked.
        func match<Entry>(family: IPAddress.Family?, byPod: (Int, IPAddress.Family) -> Entry?, byAddress: (IPAddress) -> Entry?) -> Entry? {
            if let pod, let family { return byPod(pod, family) }
            if let address { return byAddress(address) }
            return nil
        }
    }

    /// One side: `subject` is the pod whose policies apply (nil outside the
    /// cluster). The Admin tier, then NetworkPolicy, then the Baseline tier,
    /// then the default; the first to decide gives the outcome.
    private func side(
        _ direction: Direction, of subject: Int?, peer: Peer,
        protocol proto: PortProtocol, port: Int?, portOwner: Int?, family: IPAddress.Family?
    ) -> SideDecision {
        guard let subject else {
            return SideDecision(direction: direction, pod: nil, outcome: .notApplicable("outside the cluster: no policy applies"), decidedBy: .nothing)
        }
        let pod = index.pods[subject]
        guard !pod.isHostNetwork else {
            return SideDecision(direction: direction, pod: pod.id, outcome: .notApplicable("on the host network: never selected by a policy"), decidedBy: .nothing)
        }
        let destination = portOwner.map { index.pods[$0] }
        let admin = tier(.admin, direction, of: subject, peer: peer, protocol: proto, port: port, destination: destination, family: family)
        if let match = admin?.match, match.action != .pass {
            return SideDecision(direction: direction, pod: pod.id, outcome: match.action == .accept ? .allowed : .denied,
                                decidedBy: .adminTier(match), admin: admin)
        }
        let isolating = index.isolatingPolicies(of: subject, direction)
        if !isolating.isEmpty {
            var evaluations: [RuleEvaluation] = []
            for number in isolating {
                let policy = index.policies[number]
                for rule in policy.rules(direction) {
                    let peerMatch = peer.match(family: family, byPod: rule.peerMatch(pod:family:), byAddress: rule.peerMatch(address:))
                        ?? (rule.peers.isEmpty ? .any : nil)
                    let portMatch = port.flatMap { rule.portMatch(proto, $0, destination: destination) }
                    evaluations.append(RuleEvaluation(policy: policy.id, direction: direction, index: rule.index, peer: peerMatch, port: portMatch))
                }
            }
            return SideDecision(
                direction: direction, pod: pod.id, outcome: evaluations.contains(where: \.allows) ? .allowed : .denied, decidedBy: .networkPolicy,
                admin: admin, isolatingPolicies: isolating.map { index.policies[$0].id }, rules: evaluations)
        }
        let baseline = tier(.baseline, direction, of: subject, peer: peer, protocol: proto, port: port, destination: destination, family: family)
        if let match = baseline?.match, match.action != .pass {
            return SideDecision(direction: direction, pod: pod.id, outcome: match.action == .accept ? .allowed : .denied,
                                decidedBy: .baselineTier(match), admin: admin, baseline: baseline)
        }
        return SideDecision(direction: direction, pod: pod.id, outcome: .notIsolated, decidedBy: .defaultAllow, admin: admin, baseline: baseline)
    }

    /// The first rule of `tier`'s policies for the pod that matches; nil when
    /// the tier has no policy with rules for the pod in this direction.
    private func tier(
        _ tier: PolicyTier, _ direction: Direction, of subject: Int, peer: Peer,
        protocol proto: PortProtocol, port: Int?, destination: IndexedPod?, family: IPAddress.Family?
    ) -> TierEvaluation? {
        let numbers = index.clusterPolicies(of: subject, tier, direction)
        guard !numbers.isEmpty else { return nil }
        let policies = numbers.map { index.clusterPolicies[$0] }
        for policy in policies {
            for rule in policy.rules(direction) {
                let peerMatch = peer.match(family: family, byPod: rule.peerMatch(pod:family:), byAddress: rule.peerMatch(address:))
                guard let peerMatch, let protocolMatch = port.flatMap({ rule.protocolMatch(proto, $0, destination: destination) }) else { continue }
                let tied = policies.filter { $0.policy.name != policy.policy.name && $0.policy.spec.priority == policy.policy.spec.priority }
                let match = ClusterRuleMatch(
                    policy: policy.reference, direction: direction, index: rule.index, name: rule.name, action: rule.action,
                    peer: peerMatch, protocolEntry: protocolMatch, tiedWith: tied.map(\.policy.name))
                return TierEvaluation(tier: tier, policies: policies.map(\.reference), match: match)
            }
        }
        return TierEvaluation(tier: tier, policies: policies.map(\.reference), match: nil)
    }

    private func pod(_ endpoint: Endpoint) -> Int? {
        switch endpoint {
        case .pod(let id): return index.podNumbers[id]
        case .address(let address): return index.podsByAddress[address]
        }
    }

    /// The address an endpoint uses for `family`: its own, or the pod's.
    private func address(_ endpoint: Endpoint, _ pod: Int?, _ family: IPAddress.Family?) -> IPAddress? {
        if case .address(let address) = endpoint { return address }
        guard let pod, let family else { return nil }
        return index.pods[pod].address(family)
    }

    private func family(_ connection: Connection, source: Int?, destination: Int?) -> IPAddress.Family? {
        let sourceFamilies = families(connection.source, source)
        let destinationFamilies = families(connection.destination, destination)
        if let wanted = connection.family {
            return sourceFamilies.contains(wanted) && destinationFamilies.contains(wanted) ? wanted : nil
        }
        return destinationFamilies.first { sourceFamilies.contains($0) }
    }

    private func families(_ endpoint: Endpoint, _ pod: Int?) -> [IPAddress.Family] {
        if case .address(let address) = endpoint { return [address.family] }
        return pod.map { index.pods[$0].families } ?? []
    }

    /// A port number, or a name looked up on the destination pod.
    private func resolve(_ port: IntOrString, _ proto: PortProtocol, on destination: Int?) -> Int? {
        switch port {
        case .int(let number): return number
        case .string(let name): return destination.flatMap { index.pods[$0].port(named: name, protocol: proto) }
        }
    }
}

/// Why the engine could not answer: the one error type of NetpolEngine.
public struct EngineError: NetpolError {
    public enum Code: Hashable, Sendable {
        case unknownPod
        case badEndpoint
    }

    public let code: Code
    public let message: String
    public var location: String? { nil }
    public var cause: (any Error)? { nil }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
