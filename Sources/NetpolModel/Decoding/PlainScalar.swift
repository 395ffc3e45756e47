/// How YAML 1.1 types a plain (unquoted) scalar, as go-yaml v2 (and so
/// `kubectl` and the API server's YAML path) resolves it: `yes`, `on` and `y`
/// are booleans, `~` and the empty scalar are null, `0777` is octal, `0x1F`
/// hexadecimal, `1_000` a thousand, `1.10` the number 1.1.
enum PlainScalar {
    /// The tag libyaml gives `!!str`, and Yams gives every quoted scalar.
    static let stringTag = "tag:yaml.org,2002:str"

    /// The value of a scalar with text `text`, explicit tag `tag` (nil when
    /// there is none; quoted scalars without a tag come as `!!str`) and style.
    static func value(text: String, tag: String?, plain: Bool) -> ManifestNode.Value {
        switch tag {
        case nil:
            return plain ? resolve(text) : .string(text)
        case "tag:yaml.org,2002:null"?:
            return .null
        case "tag:yaml.org,2002:bool"?, "tag:yaml.org,2002:int"?, "tag:yaml.org,2002:float"?:
            return resolve(text)
        default:
            // `!!str`, the non-specific `!`, and tags netpol does not know.
            return .string(text)
        }
    }

    /// Whether a plain scalar written as `utf8` may be something else than a
    /// string: it is empty or starts like a keyword or a number. Most are names.
    static func mayResolve(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = utf8.first else { return true }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "~"),
             UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "t"), UInt8(ascii: "T"),
             UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            return true
        default:
            return false
        }
    }

    /// YAML 1.1 implicit types, as go-yaml v2 resolves them.
    static func resolve(_ text: String) -> ManifestNode.Value {
        if text.utf8.count <= 5, let keyword = keyword(text) { return keyword }
        // Only text starting like a number can be one; most scalars are names.
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return .string(text) }
        if let number = integer(text) { return .int(number) }
        if let number = float(text) { return .float(number) }
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

    private static func integer(_ text: String) -> Int? {
        if let decimal = plainDecimal(text) { return decimal }
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

    /// The common case without a copy: an optional sign, then digits with no
    /// leading zero (`0777` is octal) and no `_`.
    private static func plainDecimal(_ text: String) -> Int? {
        var digits = text.utf8[...]
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard let first = digits.first, first != UInt8(ascii: "0") || digits.count == 1,
              digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return Int(text)
    }

    private static func float(_ text: String) -> Double? {
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
