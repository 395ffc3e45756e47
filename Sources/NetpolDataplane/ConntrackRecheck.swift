import CNetpolSystem
import Glibc
import NetpolModel
import NetpolRules

/// `--established=recheck`: after the rules change, the connections the kernel
/// still tracks are judged again by the new plan, and the ones it would not
/// let open are deleted from the conntrack table. Their next packet then meets
/// the rules as a new connection and is dropped (only a SYN opens a TCP
/// connection under this option, so neither end can pick it up mid-stream).
/// Connections the plan still allows are never touched: no packet of theirs is
/// lost to the re-check.
public struct ConntrackRecheck: Sendable {
    /// The network namespace whose table is read (`ip netns` name); nil for the
    /// calling thread's own, the node's.
    public let namespace: String?

    public init(namespace: String?) {
        self.namespace = namespace
    }

    /// What one re-check did.
    public struct Outcome: Sendable, Equatable {
        /// Connections through the node that the plan judged.
        public var examined: Int
        /// Those it no longer allows, deleted.
        public var cut: [PlanConnection]
    }

    /// Judges every tracked connection forwarded through the node by `plan` and
    /// deletes the ones it denies.
    public func cutConnections(notAllowedBy plan: RulePlan) throws(DataplaneError) -> Outcome {
        let run: @Sendable () throws -> Outcome = { try Self.recheck(plan) }
        do {
            if let namespace { return try NamespaceThread.run(in: namespace, run) }
            return try run()
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.commandFailed, "re-checking established connections: \(error)")
        }
    }

    /// Runs in the namespace: dump, judge, delete.
    private static func recheck(_ plan: RulePlan) throws(DataplaneError) -> Outcome {
        var list: UnsafeMutablePointer<netpol_ct_flow>?
        let count = netpol_conntrack_dump(&list)
        guard count >= 0 else { throw failure("cannot list tracked connections") }
        defer { free(list) }
        let flows = UnsafeBufferPointer(start: list, count: count)
        let local = try localAddresses()
        var denied: [netpol_ct_flow] = []
        var cut: [PlanConnection] = []
        var examined = 0
        for flow in flows {
            guard let connection = connection(flow), !local.contains(connection.source), !local.contains(connection.destination) else { continue }
            examined += 1
            if !plan.allows(connection) {
                denied.append(flow)
                cut.append(connection)
            }
        }
        guard !denied.isEmpty else { return Outcome(examined: examined, cut: []) }
        guard netpol_conntrack_delete(denied, denied.count) >= 0 else { throw failure("cannot delete tracked connections") }
        return Outcome(examined: examined, cut: cut)
    }

    /// The connection as the forward hook judged its first packet: from the
    /// original source to the reply's source (the endpoint after DNAT), on the
    /// reply's source port. nil for a family other than IPv4 and IPv6.
    private static func connection(_ flow: netpol_ct_flow) -> PlanConnection? {
        let family: IPAddress.Family
        switch Int32(flow.family) {
        case AF_INET: family = .ipv4
        case AF_INET6: family = .ipv6
        default: return nil
        }
        let source = address(flow.original_source, family), destination = address(flow.reply_source, family)
        let proto: PortProtocol?
        switch Int(flow.protocol) {
        case IPPROTO_TCP: proto = .tcp
        case IPPROTO_UDP: proto = .udp
        case IPPROTO_SCTP: proto = .sctp
        default: proto = nil
        }
        return PlanConnection(source: source, destination: destination, protocol: proto, port: Int(flow.reply_source_port))
    }

    private static func address<Bytes>(_ bytes: Bytes, _ family: IPAddress.Family) -> IPAddress {
        withUnsafeBytes(of: bytes) { raw in
            let length = family == .ipv4 ? 4 : 16
            let bits = raw.prefix(length).reduce(UInt128(0)) { ($0 << 8) | UInt128($1) }
            return IPAddress(family: family, bits: bits)
        }
    }

    /// The node's own addresses: connections to or from them never cross the
    /// forward hook (kubelet's probes, pods calling the node), so the plan does
    /// not judge them.
    private static func localAddresses() throws(DataplaneError) -> Set<IPAddress> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { throw failure("cannot list the node's addresses") }
        defer { freeifaddrs(list) }
        var addresses: Set<IPAddress> = []
        var entry = list
        while let current = entry?.pointee {
            if let socketAddress = current.ifa_addr {
                switch Int32(socketAddress.pointee.sa_family) {
                case AF_INET:
                    socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        addresses.insert(.v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)))
                    }
                case AF_INET6:
                    socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        addresses.insert(address($0.pointee.sin6_addr, .ipv6))
                    }
                default: break
                }
            }
            entry = current.ifa_next
        }
        return addresses
    }

    private static func failure(_ what: String) -> DataplaneError {
        DataplaneError(errno == EPERM ? .notPermitted : .commandFailed, "\(what): \(String(cString: strerror(errno)))")
    }
}
