/// Short, bounded words for `Drift.detail`, shared by the backends' drift finders.
extension Drift {
    /// At most `limit` items, then how many more: details stay short however big the difference.
    static func listing(_ items: [String], limit: Int = 5) -> String {
        items.prefix(limit).joined(separator: ", ") + (items.count > limit ? " and \(items.count - limit) more" : "")
    }

    /// How a chain's rules differ from the plan's: the counts when they differ,
    /// and the first rule that differs, is missing or is unexpected; nil when equal.
    static func ruleDifference<Rule: Equatable & CustomStringConvertible>(expected: [Rule], held: [Rule]) -> String? {
        guard expected != held else { return nil }
        var parts: [String] = []
        if expected.count != held.count { parts.append("\(held.count) \(held.count == 1 ? "rule" : "rules"), plan has \(expected.count)") }
        if let index = zip(expected, held).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            parts.append("rule \(index + 1) is `\(held[index])`, plan has `\(expected[index])`")
        } else if held.count > expected.count {
            parts.append("rule \(expected.count + 1) `\(held[expected.count])` is unexpected")
        } else {
            parts.append("rule \(held.count + 1) `\(expected[held.count])` is missing")
        }
        return parts.joined(separator: "; ")
    }
}
