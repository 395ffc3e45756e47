import Foundation
import Glibc
import NetpolEngine
import NetpolModel

/// Load between two lab pods, for datapath benchmarks: how many TCP connections
/// per second one client opens, and how many bytes per second one connection
/// carries. Both loops are bounded by `duration`.
extension Lab {
    /// New TCP connections per second from `source` to `destination`:`port`, one
    /// at a time, each closed with a reset so no TIME_WAIT state piles up.
    public func connectionRate(from source: PodID, to destination: PodID, port: Int, duration: Duration) throws -> Double {
        let (from, _, address) = try path(from: source, to: destination)
        return try NetworkNamespace.run(in: from.namespace) { () throws -> Double in
            let clock = ContinuousClock()
            let start = clock.now
            var completed = 0
            while clock.now - start < duration {
                let socket = try Sockets.open(.tcp, address.family)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                _ = Sockets.withAddress(address, family: address.family, port: port) { connect(socket, $0, $1) }
                var entry = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                if poll(&entry, 1, 1000) > 0, Sockets.pendingError(socket) == 0 { completed += 1 }
                close(socket)
            }
            return Double(completed) / (clock.now - start).seconds
        }
    }

    /// Bytes per second over one TCP connection from `source` to a sink started
    /// on `destination`:`port` for the measurement.
    public func throughput(from source: PodID, to destination: PodID, port: Int, duration: Duration) throws -> Double {
        let (from, to, address) = try path(from: source, to: destination)
        let listener = try NetworkNamespace.run(in: to.namespace) { () throws -> Int32 in
            let socket = try Sockets.open(.tcp, address.family)
            Sockets.setOption(socket, SOL_SOCKET, SO_REUSEADDR, 1)
            guard Sockets.withAddress(nil, family: address.family, port: port, { bind(socket, $0, $1) }) == 0, listen(socket, 4) == 0 else {
                close(socket)
                throw LabError("cannot listen on port \(port) in \(destination): \(String(cString: strerror(errno)))")
            }
            return socket
        }
        defer { close(listener) }
        // The sink: accept one connection and read until it closes.
        let drained = DispatchSemaphore(value: 0)
        Thread {
            defer { drained.signal() }
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 5000) > 0 else { return }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) & ~O_NONBLOCK)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while recv(connection, &buffer, buffer.count, 0) > 0 {}
        }.start()
        let rate = try NetworkNamespace.run(in: from.namespace) { () throws -> Double in
            let socket = try Sockets.open(.tcp, address.family)
            defer { close(socket) }
            _ = Sockets.withAddress(address, family: address.family, port: port) { connect(socket, $0, $1) }
            var entry = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            guard poll(&entry, 1, 2000) > 0, Sockets.pendingError(socket) == 0 else { throw LabError("no connection to the sink") }
            _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) & ~O_NONBLOCK)
            let chunk = [UInt8](repeating: 0x6e, count: 1 << 18)
            let clock = ContinuousClock()
            let start = clock.now
            var sent = 0
            while clock.now - start < duration {
                let written = send(socket, chunk, chunk.count, Int32(MSG_NOSIGNAL))
                guard written > 0 else { break }
                sent += written
            }
            return Double(sent) / (clock.now - start).seconds
        }
        drained.wait()
        return rate
    }
}

extension Lab {
    /// Opens `count` UDP flows (at most 12,000) from `source` to
    /// `destination`:`port`: one datagram from each of `count` source ports
    /// from 20,000, so that the node tracks `count` connections (for 30 s, the
    /// kernel's UDP timeout).
    public func openUDPFlows(from source: PodID, to destination: PodID, port: Int, count: Int) throws {
        guard (0...12_000).contains(count) else { throw LabError("at most 12,000 UDP flows (one source port each), not \(count)") }
        let (from, _, address) = try path(from: source, to: destination)
        try NetworkNamespace.run(in: from.namespace) { () throws in
            for index in 0..<count {
                // In bursts the veth queues take without dropping.
                if index % 256 == 255 { usleep(2_000) }
                let socket = try Sockets.open(.udp, address.family)
                defer { close(socket) }
                // A port of its own, below the ephemeral range: a closed socket's port would come back.
                guard Sockets.withAddress(nil, family: address.family, port: 20_000 + index, { bind(socket, $0, $1) }) == 0 else {
                    throw LabError("cannot bind UDP port \(20_000 + index) in \(source): \(String(cString: strerror(errno)))")
                }
                let message: [UInt8] = [0x6e]
                _ = Sockets.withAddress(address, family: address.family, port: port) { sendto(socket, message, 1, 0, $0, $1) }
            }
        }
    }
}

extension Duration {
    /// This duration in seconds, fractional.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
