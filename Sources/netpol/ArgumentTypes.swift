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
}
