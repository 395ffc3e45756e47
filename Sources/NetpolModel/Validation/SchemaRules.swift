/// The words the API server uses when a custom resource fails its CRD: the
/// OpenAPI schema checks of kube-openapi, turned into field errors by
/// apiextensions-apiserver (`kubeOpenAPIResultToFieldErrors`), and the CEL
/// rules' messages. Kubernetes 1.35 wording: a failed CEL rule shows a string
/// or number it judged, and no value for an object or a list.
enum SchemaRules {
    /// `minimum` and `maximum`.
    static func range(_ value: Int, _ bounds: ClosedRange<Int>, at path: FieldPath) -> [FieldProblem] {
        if value < bounds.lowerBound {
            return [FieldProblem(.invalid, path, value: .int(value), "\(path) in body should be greater than or equal to \(bounds.lowerBound)")]
        }
        if value > bounds.upperBound {
            return [FieldProblem(.invalid, path, value: .int(value), "\(path) in body should be less than or equal to \(bounds.upperBound)")]
        }
        return []
    }

    /// `minItems` and `maxItems` of a list with `count` items.
    static func items(_ count: Int, _ bounds: ClosedRange<Int>, at path: FieldPath) -> [FieldProblem] {
        if count < bounds.lowerBound {
            return [FieldProblem(.invalid, path, value: .int(count), "\(path) in body should have at least \(bounds.lowerBound) items")]
        }
        if count > bounds.upperBound {
            return [FieldProblem(.tooMany, path, value: .int(count), "must have at most \(bounds.upperBound) items")]
        }
        return []
    }

    /// `minProperties: 1` and `maxProperties: 1`: exactly one field of a union set.
    static func properties(_ count: Int, at path: FieldPath) -> [FieldProblem] {
        if count < 1 {
            return [FieldProblem(.invalid, path, value: .int(count), "\(path) in body should have at least 1 properties")]
        }
        if count > 1 {
            // apiextensions reports maxProperties as a list's maxItems.
            return [FieldProblem(.tooMany, path, value: .int(count), "must have at most 1 items")]
        }
        return []
    }

    /// `enum`.
    static func oneOf<T: OpenEnum>(_ value: T, _ supported: [T], at path: FieldPath) -> [FieldProblem] {
        guard !supported.contains(value) else { return [] }
        return [FieldProblem(.unsupported, path, value: .string(value.rawValue), NetworkPolicyValidation.supportedValues(supported))]
    }

    /// `maxLength`, counted in characters (Unicode scalars) as kube-openapi counts them.
    static func maxLength(_ text: String, _ limit: Int, at path: FieldPath) -> [FieldProblem] {
        guard text.unicodeScalars.count > limit else { return [] }
        return [FieldProblem(.tooLong, path, "may not be more than \(limit) bytes")]
    }

    /// `pattern`, printed as written in the CRD.
    static func pattern(_ text: String, matches: Bool, _ pattern: String, at path: FieldPath) -> [FieldProblem] {
        matches ? [] : [FieldProblem(.invalid, path, value: .string(text), "\(path) in body should match '\(pattern)'")]
    }

    /// `x-kubernetes-list-type: set`: each repeated item, at its index.
    static func uniqueItems(_ items: [String], at path: FieldPath) -> [FieldProblem] {
        var seen = Set<String>()
        return items.enumerated().compactMap { index, item in
            seen.insert(item).inserted ? nil : FieldProblem(.duplicate, path.index(index), value: .string(item))
        }
    }

    /// A failed CEL rule (`x-kubernetes-validations`) with its message; `value`
    /// only for a string or number.
    static func rule(_ message: String, at path: FieldPath, value: FieldProblem.Value? = nil) -> FieldProblem {
        FieldProblem(.invalid, path, value: value, message)
    }
}
