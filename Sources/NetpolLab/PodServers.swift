import Foundation
import Glibc
import NetpolModel
import Synchronization

/// Servers for every lab pod: a TCP listener and a UDP echo socket on each
/// declared container port, on every address of the pod. One thread serves
/// them all: it accepts and closes TCP connections and echoes UDP datagrams.
final class PodServers: Sendable {
    private let sockets: [(descriptor: Int32, kind: Sockets.Kind)]
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens the sockets inside each pod's namespace, then starts serving.
    /// - Parameter pods: namespace name and (protocol, port) pairs per pod; SCTP is skipped.
    init(pods: [(namespace: String, families: [IPAddress.Family], ports: [(PortProtocol, Int)])]) throws {
        var sockets: [(Int32, Sockets.Kind)] = []
        for pod in pods {
            let ports = pod.ports
            let families = pod.families
            sockets += try NetworkNamespace.run(in: pod.namespace) { () throws -> [SendableSocket] in
                var opened: [SendableSocket] = []
                for (proto, port) in ports {
                    let kind: Sockets.Kind
                    switch proto {
                    case .tcp: kind = .tcp
                    case .udp: kind = .udp
                    default: continue
                    }
                    for family in families {
                        opened.append(SendableSocket(descriptor: try Self.listen(kind, family, port), kind: kind))
                    }
                }
                return opened
            }.map { ($0.descriptor, $0.kind) }
        }
        self.sockets = sockets
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Stops serving and closes every socket.
    func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        finished.wait()
        for socket in sockets { close(socket.descriptor) }
    }

    private static func listen(_ kind: Sockets.Kind, _ family: IPAddress.Family, _ port: Int) throws -> Int32 {
        let descriptor = try Sockets.open(kind, family)
        Sockets.setOption(descriptor, SOL_SOCKET, SO_REUSEADDR, 1)
        if family == .ipv6 { Sockets.setOption(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        let bound = Sockets.withAddress(nil, family: family, port: port) { bind(descriptor, $0, $1) }
        guard bound == 0, kind == .udp || Glibc.listen(descriptor, 512) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw LabError("cannot serve \(kind) port \(port): \(reason)")
        }
        return descriptor
    }

    private func serve() {
        defer { finished.signal() }
        var descriptors = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        while !stopping.load(ordering: .relaxed) {
            guard poll(&descriptors, nfds_t(descriptors.count), 50) > 0 else { continue }
            for (index, entry) in descriptors.enumerated() where entry.revents & Int16(POLLIN) != 0 {
                switch sockets[index].kind {
                case .tcp:
                    let connection = accept(entry.fd, nil, nil)
                    if connection >= 0 { close(connection) }
                case .udp:
                    var peer = sockaddr_storage()
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let received = withUnsafeMutablePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(entry.fd, &buffer, buffer.count, 0, $0, &length) }
                    }
                    if received > 0 {
                        _ = withUnsafePointer(to: &peer) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(entry.fd, buffer, received, 0, $0, length) }
                        }
                    }
                }
                descriptors[index].revents = 0
            }
        }
    }
}

/// A socket descriptor handed out of a namespace thread.
struct SendableSocket: Sendable {
    let descriptor: Int32
    let kind: Sockets.Kind
}
