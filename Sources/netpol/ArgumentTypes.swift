import ArgumentParser
import NetpolModel

extension PortProtocol: ExpressibleByArgument {
    /// TCP, UDP or SCTP, in any case.
    public init?(argument: String) {
        let value = PortProtocol(rawValue: argument.uppercased())
        guard PortProtocol.supported.contains(value) else { return nil }
        self = value
    }

    public static var allValueStrings: [String] { supported.map(\.rawValue) }
}

extension IPAddress.Family: ExpressibleByArgument {
    /// ipv4 or ipv6, in any case.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "ipv4", "4": self = .ipv4
        case "ipv6", "6": self = .ipv6
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["ipv4", "ipv6"] }
}

extension CIDR: ExpressibleByArgument {
    /// `10.244.1.0/24`, `fd00:10:244:1::/64`.
    public init?(argument: String) {
        self.init(argument)
    }
}

/// A port on the command line: a number from 1 to 65535, or a container port name.
struct PortArgument: ExpressibleByArgument {
    let value: IntOrString

    init?(argument: String) {
        if let number = Int(argument) {
            guard (1...65535).contains(number) else { return nil }
            value = .int(number)
        } else {
            guard !argument.isEmpty, argument.utf8.count <= 15 else { return nil }
            value = .string(argument)
        }
    }

    var defaultValueDescription: String { value.description }

    /// Reads `argument` as `init?(argument:)` does, and says what is wrong when it
    /// cannot: the parser would only say that the value is invalid.
    static func parse(_ argument: String) throws -> PortArgument {
        guard let port = PortArgument(argument: argument) else {
            throw ValidationError(Int(argument) == nil
                ? "a port name has 1 to 15 characters"
                : "a port number must be from 1 to 65535")
        }
        return port
    }
}

/// A duration on the command line, as Kubernetes writes them: `250ms`, `30s`, `5m`, `1h`.
struct DurationArgument: ExpressibleByArgument {
    let value: Duration
    private let text: String

    /// `off` and `0` are zero: for intervals, never.
    init?(argument: String) {
        if argument == "off" || argument == "0" {
            value = .zero
            text = argument
            return
        }
        let units: [(suffix: String, nanoseconds: Double)] = [("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        guard let unit = units.first(where: { argument.hasSuffix($0.suffix) && Double(argument.dropLast($0.suffix.count)) != nil }),
              let number = Double(argument.dropLast(unit.suffix.count)), number >= 0, number < 1e6
        else { return nil }
        value = .nanoseconds(Int64(number * unit.nanoseconds))
        text = argument
    }

    var defaultValueDescription: String { text }
}

/// `HOST:PORT` to listen on; `[::1]:9714` for IPv6.
struct ListenAddress: ExpressibleByArgument {
    let host: String
    let port: Int
    private let text: String

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
              (0...65535).contains(port)
        else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
        text = argument
    }

    var defaultValueDescription: String { text }
}
