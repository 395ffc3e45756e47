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
        /// Those it no longer allows.
        public var cut: [PlanConnection]
        /// Their entries the kernel deleted (one that ended meanwhile is not counted).
        public var deleted: Int
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

    /// Reads the conntrack table once and judges nothing: at start, so that a
    /// node without ctnetlink (`nf_conntrack_netlink`) or the right to use it
    /// is found before the first change needs it.
    public func checkReadable() throws(DataplaneError) {
        _ = try cutConnections(notAllowedBy: RulePlan(node: "", sets: [], chains: [], bindings: []))
    }

    /// Runs in the namespace: judge each tracked connection as the kernel
    /// lists it, then delete the denied ones.
    private static func recheck(_ plan: RulePlan) throws(DataplaneError) -> Outcome {
        let judge = Judge(plan: ConnectionJudge(plan), local: try localAddresses())
        var denied: UnsafeMutablePointer<netpol_ct_flow>?
        var deniedCount = 0
        let examined = netpol_conntrack_judge({ flow, context in
            guard let flow, let context else { return -1 }
            return Unmanaged<Judge>.fromOpaque(context).takeUnretainedValue().judge(flow.pointee)
        }, Unmanaged.passUnretained(judge).toOpaque(), &denied, &deniedCount)
        defer { free(denied) }
        guard examined >= 0 else { throw failure("cannot list tracked connections") }
        let deleted = deniedCount == 0 ? 0 : netpol_conntrack_delete(denied, deniedCount)
        guard deleted >= 0 else { throw failure("cannot delete tracked connections") }
        return Outcome(examined: examined, cut: judge.cut, deleted: deleted)
    }

    /// The plan and the node's addresses, handed through C to judge each flow.
    private final class Judge {
        let plan: ConnectionJudge
        let local: Set<IPAddress>
        private(set) var cut: [PlanConnection] = []

        init(plan: ConnectionJudge, local: Set<IPAddress>) {
            self.plan = plan
            self.local = local
        }

        /// 1 allowed, 0 denied (and kept to be cut), -1 not through the forward hook.
        func judge(_ flow: netpol_ct_flow) -> Int32 {
            guard let connection = ConntrackRecheck.connection(flow), !local.contains(connection.source), !local.contains(connection.destination) else {
                return -1
            }
            if plan.allows(connection) { return 1 }
            cut.append(connection)
            return 0
        }
    }

    /// The connection as the forward hook judged its first packet: from the
    /// original source to the reply's source (the endpoint after DNAT), on the
    /// reply's source port. nil for a family other than IPv4 and IPv6.
    fileprivate static func connection(_ flow: netpol_ct_flow) -> PlanConnection? {
        let family: IPAddress.Family
        switch Int32(flow.family) {
        case AF_INET: family = .ipv4
        case AF_INET6: family = .ipv6
        default: return nil
        }
        let source = IPAddress(netlinkBytes: flow.original_source, family), destination = IPAddress(netlinkBytes: flow.reply_source, family)
        let proto: PortProtocol?
        switch Int(flow.protocol) {
        case IPPROTO_TCP: proto = .tcp
        case IPPROTO_UDP: proto = .udp
        case IPPROTO_SCTP: proto = .sctp
        default: proto = nil
        }
        return PlanConnection(source: source, destination: destination, protocol: proto, port: Int(flow.reply_source_port))
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
                    addresses.insert(socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        IPAddress.v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
                    })
                case AF_INET6:
                    addresses.insert(socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        IPAddress(netlinkBytes: $0.pointee.sin6_addr, .ipv6)
                    })
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

extension IPAddress {
    /// An address from 16 bytes in network order (a netlink tuple, a log
    /// record, an `in6_addr`), of which IPv4 uses the first 4.
    init<Bytes>(netlinkBytes bytes: Bytes, _ family: Family) {
        let bits = withUnsafeBytes(of: bytes) { raw in
            raw.prefix(family == .ipv4 ? 4 : 16).reduce(UInt128(0)) { ($0 << 8) | UInt128($1) }
        }
        self.init(family: family, bits: bits)
    }
}
