import Glibc
import NetpolEngine
import NetpolModel

/// Connection attempts counted one by one, for tests of what the node logs
/// about them: `probe` tries a silent pair again, which opens a second
/// connection; these never do.
extension Lab {
    /// One connection from `source` to `destination`:`port` over `family`
    /// (or the first family both have), tried once: true when it got through.
    public func attempt(
        from source: PodID, to destination: PodID, port: Int, protocol proto: PortProtocol = .tcp, family: IPAddress.Family? = nil
    ) throws -> Bool {
        let (from, address) = try endpoints(source, destination, family)
        return try Prober(timeout: probeTimeout).run([Prober.Probe(namespace: from, destination: address, port: port)], protocol: proto)[0]
    }

    /// Sends `count` TCP SYNs from `source` to `destination`:`port`, each from
    /// a new socket closed at once (a SYN flood of distinct connections);
    /// returns how many were sent.
    public func synFlood(from source: PodID, to destination: PodID, port: Int, count: Int, family: IPAddress.Family? = nil) throws -> Int {
        let (from, address) = try endpoints(source, destination, family)
        return try NetworkNamespace.run(in: from) { () throws -> Int in
            var sent = 0
            for _ in 0..<count {
                let socket = try Sockets.open(.tcp, address.family)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                let result = Sockets.withAddress(address, family: address.family, port: port) { connect(socket, $0, $1) }
                if result == 0 || errno == EINPROGRESS { sent += 1 }
                close(socket)
            }
            return sent
        }
    }

    /// The source pod's namespace and the destination's address of `family`.
    private func endpoints(_ source: PodID, _ destination: PodID, _ family: IPAddress.Family?) throws -> (String, IPAddress) {
        let from = try labPod(source), to = try labPod(destination)
        let families = Set(from.addresses.map(\.family))
        guard let address = to.addresses.first(where: { families.contains($0.family) && (family == nil || $0.family == family) }) else {
            throw LabError("\(source) and \(destination) share no address family \(family?.rawValue ?? "")")
        }
        return (from.namespace, address)
    }
}
