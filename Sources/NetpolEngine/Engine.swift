import NetpolModel

/// Decides which connections NetworkPolicy allows in a snapshot, and why: the
/// single source of truth for the semantics in DESIGN.md. Pure; build one per
/// snapshot, then ask as many questions as needed.
public struct Engine: Sendable {
    package let index: PolicyIndex

    public init(snapshot: Snapshot) {
        index = PolicyIndex(snapshot)
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
        let notJudged = SideDecision(direction: .egress, pod: nil, outcome: .notApplicable("not judged"), isolatingPolicies: [], rules: [])

        if let source, source == destination {
            return Verdict(connection: connection, port: port, family: family,
                           exemption: "traffic from a pod to itself is always allowed",
                           egress: notJudged, ingress: SideDecision(direction: .ingress, pod: nil, outcome: .notApplicable("not judged"), isolatingPolicies: [], rules: []))
        }
        if let source, let destination, index.pods[source].isHostNetwork, !index.pods[destination].pod.spec.nodeName.isEmpty,
           index.pods[source].pod.spec.nodeName == index.pods[destination].pod.spec.nodeName {
            return Verdict(connection: connection, port: port, family: family,
                           exemption: "traffic from the node itself (a host-network pod on \(index.pods[source].pod.spec.nodeName)) to its own pods is always allowed",
                           egress: notJudged, ingress: SideDecision(direction: .ingress, pod: nil, outcome: .notApplicable("not judged"), isolatingPolicies: [], rules: []))
        }
        let egress = side(.egress, of: source, peer: destination, peerAddress: address(connection.destination, destination, family),
                          protocol: connection.protocol, port: port, portOwner: destination, family: family)
        let ingress = side(.ingress, of: destination, peer: source, peerAddress: address(connection.source, source, family),
                           protocol: connection.protocol, port: port, portOwner: destination, family: family)
        return Verdict(connection: connection, port: port, family: family, exemption: nil, egress: egress, ingress: ingress)
    }

    /// One side: `subject` is the pod whose policies apply (nil outside the cluster),
    /// `peer` the other end (a pod number, or an address).
    private func side(
        _ direction: Direction, of subject: Int?, peer: Int?, peerAddress: IPAddress?,
        protocol proto: PortProtocol, port: Int?, portOwner: Int?, family: IPAddress.Family?
    ) -> SideDecision {
        guard let subject else {
            return SideDecision(direction: direction, pod: nil, outcome: .notApplicable("outside the cluster: no policy applies"), isolatingPolicies: [], rules: [])
        }
        let pod = index.pods[subject]
        guard !pod.isHostNetwork else {
            return SideDecision(direction: direction, pod: pod.id, outcome: .notApplicable("on the host network: never selected by a policy"), isolatingPolicies: [], rules: [])
        }
        let isolating = index.isolatingPolicies(of: subject, direction)
        guard !isolating.isEmpty else {
            return SideDecision(direction: direction, pod: pod.id, outcome: .notIsolated, isolatingPolicies: [], rules: [])
        }
        var evaluations: [RuleEvaluation] = []
        for number in isolating {
            let policy = index.policies[number]
            for rule in policy.rules(direction) {
                let peerMatch: Match?
                if let peer, let family {
                    peerMatch = rule.peerMatch(pod: peer, family: family)
                } else if let peerAddress {
                    peerMatch = rule.peerMatch(address: peerAddress)
                } else {
                    peerMatch = rule.peers.isEmpty ? .any : nil
                }
                let portMatch = port.flatMap { rule.portMatch(proto, $0, destination: portOwner.map { index.pods[$0] }) }
                evaluations.append(RuleEvaluation(policy: policy.id, direction: direction, index: rule.index, peer: peerMatch, port: portMatch))
            }
        }
        return SideDecision(
            direction: direction, pod: pod.id,
            outcome: evaluations.contains(where: \.allows) ? .allowed : .denied,
            isolatingPolicies: isolating.map { index.policies[$0].id }, rules: evaluations)
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
