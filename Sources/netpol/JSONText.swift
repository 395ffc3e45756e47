import NetpolModel

/// Minimal JSON writing for outputs whose layout is a documented contract. Every
/// `-o json` of netpol is one line without spaces, as `JSONEncoder` writes it
/// unformatted (`explain`), so that all of them read alike.
enum JSONText {
    static func string(_ text: String) -> String {
        jsonQuoted(text)
    }

    static func bool(_ value: Bool) -> String {
        value ? "true" : "false"
    }

    static func array(_ items: [String]) -> String {
        "[" + items.joined(separator: ",") + "]"
    }

    /// An object with its members in the given order; each value is JSON already.
    static func object(_ members: KeyValuePairs<String, String>) -> String {
        object(members.map { ($0.key, $0.value) })
    }

    /// The same, with members worked out at run time.
    static func object(_ members: [(key: String, value: String)]) -> String {
        "{" + members.map { string($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
    }
}
