import NetpolModel

/// What a label selector allows for each key it names, as a set over "the label
/// is absent" and every possible value. Keys are independent, so two selectors
/// compare key by key: this makes "can this selector match anything?" and "does
/// every label set this one matches also match that one?" exact questions,
/// answered for every possible pod or namespace, not only those of the input.
struct SelectorConstraints: Hashable {
    /// The values one key may take.
    struct KeyConstraint: Hashable {
        enum Values: Hashable {
            /// Exactly these values.
            case only(Set<String>)
            /// Any value but these.
            case allBut(Set<String>)
        }

        var allowsAbsent: Bool
        var values: Values

        /// No constraint: absent or any value.
        static let anything = KeyConstraint(allowsAbsent: true, values: .allBut([]))

        var isEmpty: Bool {
            if allowsAbsent { return false }
            if case .only(let values) = values { return values.isEmpty }
            return false
        }

        func intersection(_ other: KeyConstraint) -> KeyConstraint {
            let values: Values
            switch (self.values, other.values) {
            case (.only(let a), .only(let b)): values = .only(a.intersection(b))
            case (.only(let a), .allBut(let b)), (.allBut(let b), .only(let a)): values = .only(a.subtracting(b))
            case (.allBut(let a), .allBut(let b)): values = .allBut(a.union(b))
            }
            return KeyConstraint(allowsAbsent: allowsAbsent && other.allowsAbsent, values: values)
        }

        func isSubset(of other: KeyConstraint) -> Bool {
            if isEmpty { return true }
            if allowsAbsent && !other.allowsAbsent { return false }
            switch (values, other.values) {
            case (.only(let a), .only(let b)): return a.isSubset(of: b)
            case (.only(let a), .allBut(let b)): return a.isDisjoint(with: b)
            // Infinitely many values never fit in finitely many.
            case (.allBut, .only): return false
            case (.allBut(let a), .allBut(let b)): return b.isSubset(of: a)
            }
        }
    }

    private(set) var keys: [String: KeyConstraint] = [:]

    init(_ selector: LabelSelector) {
        for (key, value) in selector.matchLabels {
            add(key, KeyConstraint(allowsAbsent: false, values: .only([value])))
        }
        for requirement in selector.matchExpressions {
            add(requirement.key, Self.constraint(requirement))
        }
    }

    /// `matchLabels: {key: value}` alone.
    init(key: String, value: String) {
        add(key, KeyConstraint(allowsAbsent: false, values: .only([value])))
    }

    private mutating func add(_ key: String, _ constraint: KeyConstraint) {
        keys[key] = (keys[key] ?? .anything).intersection(constraint)
    }

    /// The requirement as a constraint; an operator validation would refuse
    /// matches nothing, as the engine treats it.
    private static func constraint(_ requirement: LabelSelectorRequirement) -> KeyConstraint {
        let values = Set(requirement.values)
        switch requirement.operator {
        case .in: return KeyConstraint(allowsAbsent: false, values: .only(values))
        case .notIn: return KeyConstraint(allowsAbsent: true, values: .allBut(values))
        case .exists: return KeyConstraint(allowsAbsent: false, values: .allBut([]))
        case .doesNotExist: return KeyConstraint(allowsAbsent: true, values: .only([]))
        default: return KeyConstraint(allowsAbsent: false, values: .only([]))
        }
    }

    /// The first key whose requirements no label can meet, if any.
    var contradictedKey: String? {
        keys.keys.sorted().first { keys[$0]?.isEmpty ?? false }
    }

    /// Whether every label set matched by this selector is matched by `other`.
    func implies(_ other: SelectorConstraints) -> Bool {
        if contradictedKey != nil { return true }
        return other.keys.allSatisfy { key, constraint in (keys[key] ?? .anything).isSubset(of: constraint) }
    }
}
