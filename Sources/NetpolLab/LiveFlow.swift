import Foundation
import Glibc
import NetpolEngine
import NetpolModel
import Synchronization

/// One long-lived flow between two lab pods: a TCP connection, or a UDP
/// socket pair, that carries a numbered message every `interval` and waits for
/// its echo. For tests of what a rule change does to connections already open:
/// whether they go on, stop, or lose a packet on the way.
public final class LiveFlow: Sendable {
    /// What the flow saw so far.
    public struct Record: Sendable, CustomStringConvertible {
        /// Messages whose echo came back, in order.
        public var echoed = 0
        /// Messages whose echo did not come back within the wait.
        public var lost = 0
        /// When the last echo came back.
        public var lastEcho: ContinuousClock.Instant?
        /// TCP segments the sender had to send again (`tcpi_total_retrans`): a
        /// packet dropped on the way, even one TCP recovered from. 0 for UDP.
        public var retransmissions = 0

        public var description: String { "\(echoed) echoed, \(lost) lost, \(retransmissions) retransmitted" }
    }

    public let name: String
    private let state = Mutex(Record())
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens the flow from `source` to an echo server started for it on
    /// `destination`:`port` (a port the pod's own servers do not use) and
    /// starts sending. Throws when the first exchange does not come back: the
    /// flow must be allowed when it starts.
    public init(lab: Lab, from source: PodID, to destination: PodID, port: Int, protocol proto: PortProtocol,
                interval: Duration = .milliseconds(20), wait: Duration = .milliseconds(500)) throws {
        guard proto == .tcp || proto == .udp else { throw LabError("a live flow is TCP or UDP, not \(proto.rawValue)") }
        let kind: Sockets.Kind = proto == .tcp ? .tcp : .udp
        name = "\(proto.rawValue) \(source) -> \(destination):\(port)"
        let (from, to, address) = try lab.path(from: source, to: destination)
        let listener = try NetworkNamespace.run(in: to.namespace) { () throws -> Int32 in
            let socket = try Sockets.open(kind, address.family)
            Sockets.setOption(socket, SOL_SOCKET, SO_REUSEADDR, 1)
            guard Sockets.withAddress(nil, family: address.family, port: port, { bind(socket, $0, $1) }) == 0,
                  kind == .udp || listen(socket, 1) == 0 else {
                close(socket)
                throw LabError("cannot listen on \(proto.rawValue) port \(port) in \(destination): \(String(cString: strerror(errno)))")
            }
            return socket
        }
        let client = try NetworkNamespace.run(in: from.namespace) { () throws -> Int32 in
            let socket = try Sockets.open(kind, address.family)
            _ = Sockets.withAddress(address, family: address.family, port: port) { connect(socket, $0, $1) }
            var entry = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            guard poll(&entry, 1, 2000) > 0, Sockets.pendingError(socket) == 0 else {
                close(socket)
                throw LabError("cannot open \(proto.rawValue) to \(destination):\(port)")
            }
            return socket
        }
        Thread { [self] in echo(listener, kind: kind) }.start()
        guard Self.exchange(client, sequence: 0, wait: .seconds(2)) else {
            stopping.store(true, ordering: .relaxed)
            close(client)
            throw LabError("the live flow \(name) did not carry its first message")
        }
        let isTCP = kind == .tcp
        Thread { [self] in
            defer {
                close(client)
                finished.signal()
            }
            var sequence: UInt64 = 1
            while !stopping.load(ordering: .relaxed) {
                let came = Self.exchange(client, sequence: sequence, wait: wait)
                let retransmissions = isTCP ? Self.retransmissions(client) : 0
                state.withLock { record in
                    if came { record.echoed += 1; record.lastEcho = .now } else { record.lost += 1 }
                    record.retransmissions = retransmissions
                }
                sequence += 1
                Thread.sleep(forTimeInterval: interval.seconds)
            }
        }.start()
    }

    /// What the flow saw so far.
    public var record: Record { state.withLock { $0 } }

    /// Stops sending and the echo server; returns what the flow saw. Its
    /// threads hold the flow: stop it, or they run until the process ends.
    @discardableResult
    public func stop() -> Record {
        if !stopping.exchange(true, ordering: .relaxed) { finished.wait() }
        return record
    }

    /// Sends message `sequence` and waits for its echo; older echoes that
    /// arrive late are skipped.
    private static func exchange(_ socket: Int32, sequence: UInt64, wait: Duration) -> Bool {
        var message = sequence.bigEndian
        guard send(socket, &message, 8, Int32(MSG_NOSIGNAL)) == 8 else { return false }
        let deadline = ContinuousClock.now + wait
        var pending: [UInt8] = []
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, (ContinuousClock.now.duration(to: deadline)).seconds * 1000))
            guard poll(&entry, 1, left) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let received = recv(socket, &buffer, buffer.count, 0)
            guard received > 0 else { return false }
            pending += buffer[..<received]
            while pending.count >= 8 {
                let echoed = pending.prefix(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
                pending.removeFirst(8)
                if echoed == sequence { return true }
            }
        }
        return false
    }

    private static func retransmissions(_ socket: Int32) -> Int {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(socket, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return 0 }
        return Int(info.tcpi_total_retrans)
    }

    /// Echoes everything that comes in on `listener` (a TCP listener: its one
    /// connection) until told to stop.
    private func echo(_ listener: Int32, kind: Sockets.Kind) {
        var socket = kind == .udp ? listener : -1
        defer {
            if socket != listener && socket >= 0 { close(socket) }
            close(listener)
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .relaxed) {
            var entry = pollfd(fd: socket >= 0 ? socket : listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) > 0 else { continue }
            if socket < 0 {
                socket = accept(listener, nil, nil)
                continue
            }
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket, &buffer, buffer.count, 0, $0, &length) }
            }
            if received == 0 && kind == .tcp { return }
            guard received > 0 else { continue }
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    kind == .udp ? sendto(socket, buffer, received, 0, $0, length) : send(socket, buffer, received, Int32(MSG_NOSIGNAL))
                }
            }
        }
    }
}
