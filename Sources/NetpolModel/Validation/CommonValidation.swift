/// Checks shared by every kind: object metadata, labels and label selectors,
/// as `apimachinery`'s `ValidateObjectMeta`, `ValidateLabels` and
/// `ValidateLabelSelector` do them. Map entries are visited in key order so that
/// output is stable (Go's is random).
enum CommonValidation {
    /// Annotations may hold at most this many bytes in total (`TotalAnnotationSizeLimitB`).
    static let annotationSizeLimit = 256 * 1024

    /// - Parameter nameRule: `IsDNS1123Subdomain` for most kinds, `IsDNS1123Label` for Namespace.
    static func objectMeta(_ meta: ObjectMeta, namespaced: Bool, nameRule: (String) -> [String]) -> [FieldProblem] {
        let path = FieldPath("metadata")
        var problems: [FieldProblem] = []
        if meta.name.isEmpty {
            if meta.generateName.isEmpty {
                problems.append(FieldProblem(.required, path.child("name"), "name or generateName is required"))
            }
        } else {
            problems += nameRule(meta.name).map { FieldProblem(.invalid, path.child("name"), value: .string(meta.name), $0) }
        }
        if namespaced {
            if meta.namespace.isEmpty {
                problems.append(FieldProblem(.required, path.child("namespace")))
            } else {
                problems += NameRules.dns1123Label(meta.namespace).map {
                    FieldProblem(.invalid, path.child("namespace"), value: .string(meta.namespace), $0)
                }
            }
        } else if !meta.namespace.isEmpty {
            problems.append(FieldProblem(.forbidden, path.child("namespace"), "not allowed on this type"))
        }
        problems += labels(meta.labels, at: path.child("labels"))
        problems += annotations(meta.annotations, at: path.child("annotations"))
        return problems
    }

    static func labels(_ labels: [String: String], at path: FieldPath) -> [FieldProblem] {
        labels.sorted { $0.key < $1.key }.flatMap { key, value in
            labelKey(key, at: path) + NameRules.labelValue(value).map { FieldProblem(.invalid, path, value: .string(value), $0) }
        }
    }

    static func labelKey(_ key: String, at path: FieldPath) -> [FieldProblem] {
        NameRules.qualifiedName(key).map { FieldProblem(.invalid, path, value: .string(key), $0) }
    }

    static func annotations(_ annotations: [String: String], at path: FieldPath) -> [FieldProblem] {
        var problems = annotations.keys.sorted().flatMap { key in
            NameRules.qualifiedName(key.lowercased()).map { FieldProblem(.invalid, path, value: .string(key), $0) }
        }
        let size = annotations.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if size > annotationSizeLimit {
            problems.append(FieldProblem(.tooLong, path, "may not be more than \(annotationSizeLimit) bytes"))
        }
        return problems
    }

    static func labelSelector(_ selector: LabelSelector, at path: FieldPath) -> [FieldProblem] {
        var problems = labels(selector.matchLabels, at: path.child("matchLabels"))
        for (index, requirement) in selector.matchExpressions.enumerated() {
            problems += selectorRequirement(requirement, at: path.child("matchExpressions").index(index))
        }
        return problems
    }

    private static func selectorRequirement(_ requirement: LabelSelectorRequirement, at path: FieldPath) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        switch requirement.operator {
        case .in, .notIn:
            if requirement.values.isEmpty {
                problems.append(FieldProblem(.required, path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
            }
        case .exists, .doesNotExist:
            if !requirement.values.isEmpty {
                problems.append(FieldProblem(.forbidden, path.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
            }
        default:
            problems.append(FieldProblem(.invalid, path.child("operator"), value: .string(requirement.operator.rawValue), "not a valid selector operator"))
        }
        problems += labelKey(requirement.key, at: path.child("key"))
        for (index, value) in requirement.values.enumerated() {
            problems += NameRules.labelValue(value).map { FieldProblem(.invalid, path.child("values").index(index), value: .string(value), $0) }
        }
        return problems
    }
}
