import Glibc
import NetpolModel

/// Thin wrappers over the socket calls the lab needs, in terms of `IPAddress`.
enum Sockets {
    enum Kind: Sendable {
        case tcp, udp

        var type: Int32 { self == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue) }
    }

    static func domain(_ family: IPAddress.Family) -> Int32 {
        family == .ipv4 ? AF_INET : AF_INET6
    }

    /// A new non-blocking, close-on-exec socket.
    static func open(_ kind: Kind, _ family: IPAddress.Family) throws -> Int32 {
        let descriptor = socket(domain(family), kind.type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
        return descriptor
    }

    /// Calls `body` with a `sockaddr` for `address` (or the wildcard) and `port`.
    static func withAddress<T>(_ address: IPAddress?, family: IPAddress.Family, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        switch family {
        case .ipv4:
            var storage = sockaddr_in()
            storage.sin_family = sa_family_t(AF_INET)
            storage.sin_port = in_port_t(UInt16(port).bigEndian)
            if case .v4(let value)? = address { storage.sin_addr.s_addr = value.bigEndian }
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .ipv6:
            var storage = sockaddr_in6()
            storage.sin6_family = sa_family_t(AF_INET6)
            storage.sin6_port = in_port_t(UInt16(port).bigEndian)
            if case .v6(let value)? = address {
                withUnsafeMutableBytes(of: &storage.sin6_addr) { bytes in
                    for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: value >> UInt128(120 - 8 * index)) }
                }
            }
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    static func setOption(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The pending error of a socket (`SO_ERROR`), 0 when none.
    static func pendingError(_ descriptor: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }
}
