import NetpolEngine
import NetpolModel

/// A connection as a node's rules see its first packet: after any DNAT (the
/// destination is the endpoint), before any SNAT.
public struct PlanConnection: Hashable, Sendable, CustomStringConvertible {
    public var source: IPAddress
    public var destination: IPAddress
    /// nil for a protocol without ports (ICMP): only rules for every protocol match it.
    public var `protocol`: PortProtocol?
    public var port: Int

    public init(source: IPAddress, destination: IPAddress, protocol: PortProtocol?, port: Int) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.port = port
    }

    public var description: String {
        "\(source) -> \(destination) " + (`protocol`.map { "\($0.rawValue)/\(port)" } ?? "other protocol")
    }
}

extension RulePlan {
    /// Whether this node's rules let `connection` open: see `ConnectionJudge`.
    public func allows(_ connection: PlanConnection) -> Bool {
        ConnectionJudge(self).allows(connection)
    }
}

/// Judges connections as one node's rules judge their first packet: the
/// pod-range guards, then the source's egress chain and the destination's
/// ingress chain where those are local pods bound to one. Binary searches over
/// the sorted plan; only the guards are worked out, once, for the many
/// connections of an established re-check (`--established=recheck`).
public struct ConnectionJudge: Sendable {
    public let plan: RulePlan
    private let guards: [PodRangeGuard]

    public init(_ plan: RulePlan) {
        self.plan = plan
        guards = plan.podRangeGuards
    }

    public func allows(_ connection: PlanConnection) -> Bool {
        for rangeGuard in guards {
            for end in [connection.source, connection.destination] where end.family == rangeGuard.family {
                if rangeGuard.ranges.contains(where: { $0.contains(end) }) && !plan.holds(rangeGuard.knownPods, .address(end)) { return false }
            }
        }
        if let chain = plan.chain(bound: .egress, connection.source), !plan.walk(connection, from: chain, other: connection.destination).allowed { return false }
        if let chain = plan.chain(bound: .ingress, connection.destination), !plan.walk(connection, from: chain, other: connection.source).allowed { return false }
        return true
    }
}

extension RulePlan {
    /// The chain `address` is bound to in `direction`, if a local pod holds it.
    package func chain(bound direction: Direction, _ address: IPAddress) -> PlanChain? {
        let index = bindings.insertionIndex { ($0.direction.rawValue, $0.address) < (direction.rawValue, address) }
        guard index < bindings.count, bindings[index].direction == direction, bindings[index].address == address else { return nil }
        return chain(named: bindings[index].chain)
    }

    /// Whether `chain` (and the chains it goes on to) lets the connection
    /// through: the first rule that matches decides, else the chain's end; and
    /// whether it passed an audit layer's end on the way. A chain that goes to
    /// one the plan lacks drops, as nft would refuse it.
    package func walk(_ connection: PlanConnection, from chain: PlanChain, other: IPAddress) -> (allowed: Bool, reachedAuditPoint: Bool) {
        var current = chain
        var reachedAuditPoint = false
        for _ in 0...chains.count {
            let matched = current.rules.first { $0.matches(connection, other: other, in: self) }
            if matched == nil && !current.auditedBy.isEmpty { reachedAuditPoint = true }
            switch matched?.action ?? current.end {
            case .allow: return (true, reachedAuditPoint)
            case .deny: return (false, reachedAuditPoint)
            case .goto(let name):
                guard let next = self.chain(named: name) else { return (false, reachedAuditPoint) }
                current = next
            }
        }
        return (false, reachedAuditPoint)
    }

    /// Whether the set called `name` holds `element` (for a prefix set: a prefix containing its address).
    fileprivate func holds(_ name: String, _ element: AddressSet.Element) -> Bool {
        let index = sets.insertionIndex { $0.name < name }
        guard index < sets.count, sets[index].name == name else { return false }
        let set = sets[index]
        if set.kind == .prefixes, case .address(let address) = element {
            return set.elements.contains { if case .prefix(let cidr) = $0 { return cidr.contains(address) } else { return false } }
        }
        let position = set.elements.insertionIndex { $0 < element }
        return position < set.elements.count && set.elements[position] == element
    }
}

extension PlanRule {
    /// Whether the rule matches: the other end's address (source for ingress,
    /// destination for egress), then the protocol and port.
    fileprivate func matches(_ connection: PlanConnection, other: IPAddress, in plan: RulePlan) -> Bool {
        switch peer {
        case .any: break
        case .set(let name, let family):
            guard other.family == family, plan.holds(name, .address(other)) else { return false }
        case .services(let name, let family):
            guard other.family == family, let proto = connection.protocol,
                  plan.holds(name, .service(other, proto, connection.port)) else { return false }
        }
        guard let ports else { return true }
        return ports.protocol == connection.protocol && (ports.ranges.isEmpty || ports.ranges.contains { $0.contains(connection.port) })
    }
}
