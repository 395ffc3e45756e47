import CNetpolSystem
import Glibc
import NetpolModel
import Synchronization

/// Reads the packets the kernel logs to one NFLOG group (nft `log group N`,
/// iptables `-j NFLOG --nflog-group N`) in the network namespace it was opened
/// in. One reader per group: the kernel hands a group to one socket.
public final class PacketLogReader: Sendable {
    /// One logged packet: the rule's log prefix, and the packet's ends.
    public struct Packet: Hashable, Sendable {
        public var prefix: String
        public var source: IPAddress
        public var destination: IPAddress
        /// The IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, ...).
        public var protocolNumber: Int
        /// Zero for a protocol without ports.
        public var sourcePort: Int
        public var destinationPort: Int

        public init(prefix: String, source: IPAddress, destination: IPAddress, protocolNumber: Int, sourcePort: Int, destinationPort: Int) {
            self.prefix = prefix
            self.source = source
            self.destination = destination
            self.protocolNumber = protocolNumber
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
        }

        /// TCP, UDP or SCTP; nil for any other protocol.
        public var `protocol`: PortProtocol? {
            switch protocolNumber {
            case Int(IPPROTO_TCP): return .tcp
            case Int(IPPROTO_UDP): return .udp
            case Int(IPPROTO_SCTP): return .sctp
            default: return nil
            }
        }
    }

    /// What one read brought: the packets, and how many log messages the
    /// kernel dropped since the last count because the socket was full.
    public struct Batch: Sendable {
        public var packets: [Packet]
        public var overruns: Int

        public init(packets: [Packet], overruns: Int) {
            self.packets = packets
            self.overruns = overruns
        }
    }

    public let group: UInt16
    private let descriptor: Int32
    /// The kernel's count of dropped messages the reader has reported so far.
    private let reportedDrops = Atomic(0)

    /// Binds NFLOG `group` in the calling thread's network namespace (use
    /// `NamespaceThread` for another); `receiveBuffer` bytes of socket buffer,
    /// 0 for the system's default.
    public init(group: UInt16, receiveBuffer: Int = 0) throws(DataplaneError) {
        let descriptor = netpol_nflog_open(group, Int32(clamping: receiveBuffer))
        guard descriptor >= 0 else {
            // The kernel answers EPERM both without CAP_NET_ADMIN and when another socket holds the group.
            let reason = errno == EPERM
                ? "not permitted (another process may be reading the group, or this one lacks CAP_NET_ADMIN)"
                : String(cString: strerror(errno))
            throw DataplaneError(errno == EPERM ? .notPermitted : .commandFailed, "cannot read NFLOG group \(group): \(reason)")
        }
        self.group = group
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Waits up to `timeout` for logged packets; an empty batch when none came.
    /// Call from one thread at a time.
    public func read(timeout: Duration, capacity: Int = 64) throws(DataplaneError) -> Batch {
        var records = [netpol_log_record](repeating: netpol_log_record(), count: capacity)
        var overruns = 0
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let count = records.withUnsafeMutableBufferPointer { buffer in
            netpol_nflog_read(descriptor, buffer.baseAddress, capacity, milliseconds, &overruns)
        }
        guard count >= 0 else {
            throw DataplaneError(.commandFailed, "cannot read NFLOG group \(group): \(String(cString: strerror(errno)))")
        }
        // The kernel says ENOBUFS once for a run of drops, however many messages
        // it lost: its own count, asked then and whenever the socket is quiet
        // (a run is over), says how many.
        let dropped = overruns > 0 || count == 0 ? newDrops(orElse: overruns) : 0
        return Batch(packets: records.prefix(count).map(Self.packet), overruns: dropped)
    }

    /// Messages the kernel dropped since the last report, by its own count;
    /// `reported` (the ENOBUFS seen) where it cannot tell.
    private func newDrops(orElse reported: Int) -> Int {
        let total = netpol_socket_drops(descriptor)
        guard total >= 0 else { return reported }
        // The kernel's count is 32 bits and wraps: the difference does too.
        let last = reportedDrops.exchange(total, ordering: .relaxed)
        return Int(UInt32(truncatingIfNeeded: total) &- UInt32(truncatingIfNeeded: last))
    }

    private static func packet(_ record: netpol_log_record) -> Packet {
        let family: IPAddress.Family = record.family == 6 ? .ipv6 : .ipv4
        let prefix = withUnsafeBytes(of: record.prefix) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return Packet(
            prefix: prefix, source: IPAddress(netlinkBytes: record.source, family), destination: IPAddress(netlinkBytes: record.destination, family),
            protocolNumber: Int(record.protocol), sourcePort: Int(record.source_port), destinationPort: Int(record.destination_port))
    }
}
