/// `intstr.IntOrString`: a port given by number or by name.
public enum IntOrString: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case string(String)

    public var description: String {
        switch self {
        case .int(let number): return String(number)
        case .string(let name): return name
        }
    }
}
