import NetpolModel

extension LabelSelector {
    /// Whether `labels` satisfy every `matchLabels` entry and every
    /// `matchExpressions` requirement. The empty selector matches everything.
    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value {
            return false
        }
        return matchExpressions.allSatisfy { $0.matches(labels) }
    }
}

extension LabelSelectorRequirement {
    /// `In`: the label exists with one of the values. `NotIn`: the label is absent
    /// or has none of the values. `Exists` and `DoesNotExist`: presence alone.
    /// An unknown operator matches nothing (validation rejects it).
    public func matches(_ labels: [String: String]) -> Bool {
        let value = labels[key]
        switch self.operator {
        case .in: return value.map(values.contains) ?? false
        case .notIn: return value.map { !values.contains($0) } ?? true
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        default: return false
        }
    }
}
