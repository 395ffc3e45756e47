/// One node of a parsed YAML or JSON document, with its types resolved the way
/// Kubernetes resolves them (YAML 1.1 through `sigs.k8s.io/yaml`: `yes` and `on`
/// are booleans, `0x1F` is a number, quoted text is always a string).
struct ManifestNode: Sendable {
    /// Not `indirect`: lists and maps already hold their children in arrays, so
    /// a scalar node needs no box of its own.
    enum Value: Sendable {
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
    /// The text as written, for a plain (unquoted) YAML scalar whose YAML 1.1
    /// reading is not a string (`yes`, `~`, `0777`, `1.10`); nil otherwise, and
    /// always nil for JSON, where an unquoted token is never text.
    var retypedText: String? = nil

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

    /// The value as YAML 1.1 read it, in words short enough for a lint line:
    /// `null`, `true`, `511`, `1.1`.
    var reading: String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return String(flag)
        case .int(let number): return String(number)
        case .float(let number): return String(number)
        case .string(let text): return text
        case .list: return "a list"
        case .map: return "an object"
        }
    }
}
