import NetpolModel

/// Who may open a connection to whom on one protocol and port: the truth table
/// of the upstream conformance tests.
public struct Matrix: Hashable, Sendable {
    public let `protocol`: PortProtocol
    public let port: IntOrString
    public let pods: [PodID]
    /// `allowed[i][j]`: may `pods[i]` open a connection to `pods[j]`?
    public let allowed: [[Bool]]

    public init(protocol: PortProtocol, port: IntOrString, pods: [PodID], allowed: [[Bool]]) {
        self.protocol = `protocol`
        self.port = port
        self.pods = pods
        self.allowed = allowed
    }
}

extension Engine {
    /// The full matrix over `matrixPods`. Each pair is judged over `family`, or
    /// when nil over the destination's first address family. A port name resolves
    /// per destination; a destination without it is unreachable (except from itself).
    ///
    /// Works on pod sets, not pair by pair: for each pod, the union of the peer
    /// sets of the rules that allow its port, so the cost is rules x pods plus
    /// one bit test per pair.
    public func matrix(port: IntOrString, protocol proto: PortProtocol = .tcp, family: IPAddress.Family? = nil) -> Matrix {
        let members = index.pods.indices.filter { !index.pods[$0].isHostNetwork && !index.pods[$0].addresses.isEmpty }
        let count = index.pods.count
        let ports: [Int?] = index.pods.map { pod in
            switch port {
            case .int(let number): return number
            case .string(let name): return pod.port(named: name, protocol: proto)
            }
        }
        let families = IPAddress.Family.allCases
        // Per egress rule, the destinations whose port it admits: independent of the source.
        let admitted: [[PodSet]] = index.policies.map { policy in
            policy.egress.map { rule in
                var set = PodSet(capacity: count)
                for destination in members {
                    if let port = ports[destination], rule.portMatch(proto, port, destination: index.pods[destination]) != nil {
                        set.insert(destination)
                    }
                }
                return set
            }
        }

        // Destinations' ingress: sources allowed per destination and family.
        var ingress: [[IPAddress.Family: PodSet]] = Array(repeating: [:], count: count)
        for destination in members {
            for family in families { ingress[destination][family] = allowedPeers(.ingress, of: destination, family: family, proto: proto, ports: ports, admitted: admitted) }
        }
        // Sources' egress: destinations allowed per source and family.
        var egress: [[IPAddress.Family: PodSet]] = Array(repeating: [:], count: count)
        for source in members {
            for family in families { egress[source][family] = allowedPeers(.egress, of: source, family: family, proto: proto, ports: ports, admitted: admitted) }
        }

        let allowed = members.map { source in
            members.map { destination -> Bool in
                if source == destination { return true }
                guard ports[destination] != nil,
                      let pairFamily = pairFamily(source, destination, wanted: family) else { return false }
                return egress[source][pairFamily]?.contains(destination) == true
                    && ingress[destination][pairFamily]?.contains(source) == true
            }
        }
        return Matrix(protocol: proto, port: port, pods: members.map { index.pods[$0].id }, allowed: allowed)
    }

    /// The pods `pod` may receive from (ingress) or send to (egress) on the matrix
    /// port; `admitted` holds each egress rule's destinations whose port it admits.
    private func allowedPeers(
        _ direction: Direction, of pod: Int, family: IPAddress.Family, proto: PortProtocol, ports: [Int?], admitted: [[PodSet]]
    ) -> PodSet {
        let count = index.pods.count
        let isolating = index.isolatingPolicies(of: pod, direction)
        if isolating.isEmpty { return .all(capacity: count) }
        var allowed = PodSet(capacity: count)
        for number in isolating {
            for rule in index.policies[number].rules(direction) {
                guard let peers = rule.peerPods[family] else { continue }
                switch direction {
                case .ingress:
                    // The port belongs to this pod, the destination.
                    guard let port = ports[pod], rule.portMatch(proto, port, destination: index.pods[pod]) != nil else { continue }
                    allowed.formUnion(peers)
                case .egress:
                    allowed.formUnion(peers.intersection(admitted[number][rule.index]))
                }
            }
        }
        return allowed
    }

    private func pairFamily(_ source: Int, _ destination: Int, wanted: IPAddress.Family?) -> IPAddress.Family? {
        let sourceFamilies = index.pods[source].families
        let destinationFamilies = index.pods[destination].families
        if let wanted {
            return sourceFamilies.contains(wanted) && destinationFamilies.contains(wanted) ? wanted : nil
        }
        return destinationFamilies.first { sourceFamilies.contains($0) }
    }
}
