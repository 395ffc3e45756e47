import Foundation
import Glibc
import NetpolModel

/// Opens real connections between lab pods and reports which got through.
///
/// All probes of a batch run at once: sockets are created in each source pod's
/// namespace, connected without blocking, and polled together until each has
/// an answer or the timeout passes. A TCP handshake or a refusal (a reset from
/// the destination) means the packets passed the filter; so does a UDP echo or
/// a port-unreachable reply. Silence until the timeout means dropped.
struct Prober {
    struct Probe: Sendable {
        /// The source pod's namespace.
        var namespace: String
        var destination: IPAddress
        var port: Int
    }

    var timeout: Duration = .milliseconds(1500)

    func run(_ probes: [Probe], protocol proto: PortProtocol) throws -> [Bool] {
        let kind: Sockets.Kind = proto == .udp ? .udp : .tcp
        var sockets = Array(repeating: Int32(-1), count: probes.count)
        defer { for socket in sockets where socket >= 0 { close(socket) } }
        // One thread per source namespace creates and starts its probes.
        let bySource = Dictionary(grouping: probes.indices, by: { probes[$0].namespace })
        for (namespace, indices) in bySource {
            let batch = indices.map { probes[$0] }
            let opened = try NetworkNamespace.run(in: namespace) { () throws -> [Int32] in
                try batch.map { probe in try Self.start(probe, kind) }
            }
            for (index, socket) in zip(indices, opened) { sockets[index] = socket }
        }
        return wait(for: sockets, kind)
    }

    /// A socket connecting (TCP) or sending a datagram (UDP) to the probe's
    /// destination; -1 when the attempt failed at once (no route): not reached.
    private static func start(_ probe: Probe, _ kind: Sockets.Kind) throws -> Int32 {
        let socket = try Sockets.open(kind, probe.destination.family)
        let result = Sockets.withAddress(probe.destination, family: probe.destination.family, port: probe.port) { connect(socket, $0, $1) }
        if result != 0 && errno != EINPROGRESS && errno != ECONNREFUSED {
            close(socket)
            return -1
        }
        if kind == .udp { _ = "netpol-probe".withCString { send(socket, $0, 12, 0) } }
        return socket
    }

    private func wait(for sockets: [Int32], _ kind: Sockets.Kind) -> [Bool] {
        var reached = Array(repeating: false, count: sockets.count)
        var pending = Set(sockets.indices.filter { sockets[$0] >= 0 })
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 64)
        while !pending.isEmpty, ContinuousClock.now < deadline {
            let order = Array(pending)
            var descriptors = order.map { pollfd(fd: sockets[$0], events: Int16(kind == .tcp ? POLLOUT : POLLIN), revents: 0) }
            let remaining = deadline - ContinuousClock.now
            let milliseconds = Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&descriptors, nfds_t(descriptors.count), milliseconds) > 0 else { continue }
            for (position, entry) in descriptors.enumerated() where entry.revents != 0 {
                let index = order[position]
                pending.remove(index)
                switch kind {
                case .tcp:
                    let error = Sockets.pendingError(entry.fd)
                    reached[index] = error == 0 || error == ECONNREFUSED
                case .udp:
                    let received = recv(entry.fd, &buffer, buffer.count, 0)
                    reached[index] = received > 0 || (received < 0 && errno == ECONNREFUSED)
                }
            }
        }
        return reached
    }
}
