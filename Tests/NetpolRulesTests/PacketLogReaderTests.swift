import Foundation
import Glibc
import NetpolDataplane
import NetpolModel
import Testing

/// NFLOG read in-process: packets an nft `log group` rule logs in a fresh
/// network namespace arrive with their prefix and ends, and a full socket is
/// counted, not hidden.
@Suite("NFLOG packet log", .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct PacketLogReaderTests {
    private static let rules = """
        table inet netpol-log-test {
          chain output {
            type filter hook output priority 0; policy accept;
            udp dport 9999 log group 5 prefix "np:udp"
            tcp dport 9998 tcp flags syn log group 5 prefix "np:syn"
          }
        }
        """

    /// A namespace with loopback up and the logging rules, removed afterwards.
    private static func withNamespace(_ body: (String) throws -> Void) throws {
        let host = ProcessRunner()
        let name = "netpol-nflog-\(getpid())-\(UUID().uuidString.prefix(6))"
        try host.check(Command("ip", ["netns", "add", name]))
        defer { _ = try? host.run(Command("ip", ["netns", "delete", name])) }
        try host.check(Command("ip", ["-n", name, "link", "set", "lo", "up"]))
        try host.check(Command("ip", ["netns", "exec", name, "nft", "-f", "-"], input: rules))
        try body(name)
    }

    /// Sends one UDP datagram (or one TCP SYN, without waiting for an answer)
    /// to `address` on `port` from inside the calling thread's namespace.
    static func send(udp: Bool, to address: String, port: UInt16) {
        let six = address.contains(":")
        let fd = socket(six ? AF_INET6 : AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        func deliver<Address>(_ target: Address) {
            withUnsafePointer(to: target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    let length = socklen_t(MemoryLayout<Address>.size)
                    if udp { _ = sendto(fd, "x", 1, 0, $0, length) } else { _ = connect(fd, $0, length) }
                }
            }
        }
        if six {
            var target = sockaddr_in6()
            target.sin6_family = sa_family_t(AF_INET6)
            target.sin6_port = port.bigEndian
            inet_pton(AF_INET6, address, &target.sin6_addr)
            deliver(target)
        } else {
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &target.sin_addr)
            deliver(target)
        }
    }

    /// Reads until `count` packets came or two seconds passed.
    static func collect(_ reader: PacketLogReader, count: Int) throws -> [PacketLogReader.Packet] {
        var packets: [PacketLogReader.Packet] = []
        for _ in 0..<20 where packets.count < count {
            packets += try reader.read(timeout: .milliseconds(100)).packets
        }
        return packets
    }

    @Test func loggedPacketsArriveWithPrefixAndEnds() throws {
        try Self.withNamespace { name in
            let packets = try NamespaceThread.run(in: name) {
                let reader = try PacketLogReader(group: 5)
                Self.send(udp: true, to: "127.0.0.1", port: 9999)
                Self.send(udp: true, to: "::1", port: 9999)
                Self.send(udp: false, to: "127.0.0.1", port: 9998)
                Self.send(udp: true, to: "127.0.0.1", port: 9997)
                return try Self.collect(reader, count: 3)
            }
            #expect(packets.map(\.prefix) == ["np:udp", "np:udp", "np:syn"])
            #expect(packets.map(\.destination) == [IPAddress("127.0.0.1"), IPAddress("::1"), IPAddress("127.0.0.1")])
            #expect(packets.map(\.protocol) == [.udp, .udp, .tcp])
            #expect(packets.map(\.destinationPort) == [9999, 9999, 9998])
            #expect(packets.allSatisfy { $0.sourcePort > 0 && $0.source == $0.destination })
        }
    }

    /// Every message is either read or counted as lost: the count is the
    /// kernel's number of dropped messages, not the times it said ENOBUFS.
    @Test func aFullSocketIsCountedAndReadingGoesOn() throws {
        try Self.withNamespace { name in
            let (read, overruns, after) = try NamespaceThread.run(in: name) {
                let reader = try PacketLogReader(group: 5, receiveBuffer: 4096)
                for _ in 0..<2000 { Self.send(udp: true, to: "127.0.0.1", port: 9999) }
                var (read, overruns) = (0, 0)
                for _ in 0..<2200 {
                    let batch = try reader.read(timeout: .milliseconds(20))
                    read += batch.packets.count
                    overruns += batch.overruns
                    if batch.packets.isEmpty && batch.overruns == 0 { break }
                }
                Self.send(udp: true, to: "127.0.0.1", port: 9999)
                return (read, overruns, try Self.collect(reader, count: 1))
            }
            #expect(overruns > 1)
            #expect(read + overruns == 2000, "\(read) read, \(overruns) lost")
            #expect(after.map(\.prefix) == ["np:udp"])
        }
    }

    @Test func aGroupHasOneReader() throws {
        try Self.withNamespace { name in
            let error = try NamespaceThread.run(in: name) { () -> DataplaneError? in
                let first = try PacketLogReader(group: 5)
                defer { _ = first }
                do throws(DataplaneError) {
                    _ = try PacketLogReader(group: 5)
                    return nil
                } catch {
                    return error
                }
            }
            #expect(error?.code == .notPermitted)
            #expect(error?.message.contains("another process may be reading the group") == true)
        }
    }
}
