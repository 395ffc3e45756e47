import Yams

/// One node of a parsed YAML or JSON document, with its types resolved the way
/// Kubernetes resolves them (YAML 1.1 through `sigs.k8s.io/yaml`: `yes` and `on`
/// are booleans, `0x1F` is a number, quoted text is always a string).
struct ManifestNode: Sendable {
    indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case list([ManifestNode])
        case map([(key: String, value: ManifestNode)])
    }

    var value: Value
    /// 1-based source line, when known.
    var line: Int?

    /// What the value is, in words for error messages: `a string "abc"`, `a list`.
    var summary: String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return "a boolean (\(flag))"
        case .int(let number): return "a number (\(number))"
        case .float(let number): return "a number (\(number))"
        case .string(let text): return "a string (\(goQuoted(String(text.prefix(40)))))"
        case .list: return "a list"
        case .map: return "an object"
        }
    }
}

/// Turns Yams' node tree into `ManifestNode`s, resolving plain scalars itself
/// (Yams' regex resolver is slow on large files) and refusing alias expansions
/// that would make a small file into a huge document ("billion laughs").
struct NodeConverter {
    /// Upper bound on converted nodes; a document without aliases never comes near it.
    private var budget: Int

    init(sourceBytes: Int) {
        budget = 2 * sourceBytes + 1_000
    }

    mutating func convert(_ node: Node) throws(ManifestError) -> ManifestNode {
        budget -= 1
        guard budget >= 0 else {
            throw ManifestError(.tooLarge, "document expands to more nodes than its size allows (recursive or exponential aliases?)")
        }
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return ManifestNode(value: Self.resolve(scalar), line: line)
        case .sequence(let sequence):
            var items: [ManifestNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item)) }
            return ManifestNode(value: .list(items), line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ManifestNode)] = []
            pairs.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                pairs.append((try Self.keyText(key), try convert(value)))
            }
            return ManifestNode(value: .map(pairs), line: line)
        case .alias:
            throw ManifestError(.syntax, "unresolved YAML alias", line: line)
        }
    }

    /// Mapping keys become strings, as in JSON (`80:` is the key "80").
    private static func keyText(_ key: Node) throws(ManifestError) -> String {
        guard case .scalar(let scalar) = key else {
            throw ManifestError(.decoding, "mapping keys must be plain values, not lists or objects", line: key.mark?.line)
        }
        return scalar.string
    }

    private static func resolve(_ scalar: Node.Scalar) -> ManifestNode.Value {
        let text = scalar.string
        switch scalar.tag.rawValue {
        case "":
            return scalar.style == .plain ? resolvePlain(text) : .string(text)
        case Tag.Name.str.rawValue, "!":
            return .string(text)
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue, Tag.Name.int.rawValue, Tag.Name.float.rawValue:
            return resolvePlain(text)
        default:
            return .string(text)
        }
    }

    /// YAML 1.1 implicit types, as go-yaml v2 resolves them.
    static func resolvePlain(_ text: String) -> ManifestNode.Value {
        if text.utf8.count <= 5, let keyword = keyword(text) { return keyword }
        // Only text starting like a number can be one; most scalars are names.
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return .string(text) }
        if let number = parseInteger(text) { return .int(number) }
        if let number = parseFloat(text) { return .float(number) }
        return .string(text)
    }

    private static func keyword(_ text: String) -> ManifestNode.Value? {
        switch text {
        case "", "~", "null", "Null", "NULL":
            return .null
        case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
            return .bool(true)
        case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
            return .bool(false)
        default:
            return nil
        }
    }

    private static func parseInteger(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        digits = Substring(digits.filter { $0 != "_" })
        guard !digits.isEmpty else { return nil }
        let magnitude: Int?
        if digits.hasPrefix("0x") {
            magnitude = Int(digits.dropFirst(2), radix: 16)
        } else if digits.hasPrefix("0b") {
            magnitude = Int(digits.dropFirst(2), radix: 2)
        } else if digits.hasPrefix("0o") {
            magnitude = Int(digits.dropFirst(2), radix: 8)
        } else if digits.count > 1, digits.hasPrefix("0") {
            magnitude = Int(digits.dropFirst(), radix: 8)
        } else if digits.allSatisfy(\.isASCII) {
            magnitude = Int(digits, radix: 10)
        } else {
            magnitude = nil
        }
        return magnitude.map { negative ? -$0 : $0 }
    }

    private static func parseFloat(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        let cleaned = text.filter { $0 != "_" }
        guard cleaned.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              cleaned.contains(where: \.isNumber) else { return nil }
        return Double(cleaned)
    }
}
