import NetpolModel

/// Minimal JSON writing for outputs whose layout is a documented contract.
enum JSONText {
    static func string(_ text: String) -> String {
        jsonQuoted(text)
    }

    static func array(_ items: [String]) -> String {
        "[" + items.joined(separator: ", ") + "]"
    }
}
