/// `meta/v1.LabelSelector`: all of `matchLabels` and all of `matchExpressions` must hold.
/// An empty selector matches everything in its scope.
public struct LabelSelector: Hashable, Sendable {
    public var matchLabels: [String: String]
    public var matchExpressions: [LabelSelectorRequirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [LabelSelectorRequirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// The selector `{}`.
    public static let everything = LabelSelector()

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }
}

/// One entry of `matchExpressions`.
public struct LabelSelectorRequirement: Hashable, Sendable {
    public var key: String
    public var `operator`: SelectorOperator
    public var values: [String]

    public init(key: String, operator: SelectorOperator, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}
