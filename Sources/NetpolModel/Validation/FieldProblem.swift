/// One thing wrong with one field of an object, in the API server's terms
/// (`k8s.io/apimachinery/pkg/util/validation/field.Error`).
///
/// `description` prints exactly what the API server prints, for example
/// `spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive`.
public struct FieldProblem: Hashable, Sendable, CustomStringConvertible {
    /// The API server's error types, with the words it prints for them.
    public enum Kind: String, Sendable {
        case required = "Required value"
        case invalid = "Invalid value"
        case unsupported = "Unsupported value"
        case forbidden = "Forbidden"
        case duplicate = "Duplicate value"
        case tooLong = "Too long"
        case tooMany = "Too many"
        case unknownField = "Unknown field"
    }

    /// The offending value as the API server formats it: numbers bare, strings quoted.
    public enum Value: Hashable, Sendable, CustomStringConvertible {
        case int(Int)
        case string(String)
        /// A list printed as Go's `%#v` prints it, e.g. `[]networking.PolicyType{"Ingress"}`.
        case list(goType: String, [String])

        public var description: String {
            switch self {
            case .int(let number): return String(number)
            case .string(let text): return goQuoted(text)
            case .list(let goType, let items): return "[]\(goType){" + items.map(goQuoted).joined(separator: ", ") + "}"
            }
        }
    }

    public let kind: Kind
    public let path: FieldPath
    public let value: Value?
    public let detail: String

    public init(_ kind: Kind, _ path: FieldPath, value: Value? = nil, _ detail: String = "") {
        self.kind = kind
        self.path = path
        self.value = value
        self.detail = detail
    }

    /// The message without the field path: `Invalid value: 0: must be between 1 and 65535, inclusive`.
    public var body: String {
        var text = kind.rawValue
        switch kind {
        case .invalid, .unsupported, .duplicate, .tooMany:
            if let value { text += ": \(value)" }
        case .required, .forbidden, .tooLong, .unknownField:
            break
        }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    public var description: String { "\(path): \(body)" }
}

/// Quotes a string the way Go's `%q` does, so values print as the API server prints them.
func goQuoted(_ text: String) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\t": quoted += "\\t"
        case "\r": quoted += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                quoted += "\\x" + hex(scalar.value, width: 2)
            } else if scalar.properties.generalCategory == .format || scalar.properties.generalCategory == .unassigned {
                quoted += scalar.value > 0xffff ? "\\U" + hex(scalar.value, width: 8) : "\\u" + hex(scalar.value, width: 4)
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
    }
    return quoted + "\""
}

private func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
