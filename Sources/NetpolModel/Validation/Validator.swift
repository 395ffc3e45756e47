/// Judges objects as the API server would before storing them.
public enum Validator {
    /// Every problem with the object, in the API server's order and words. A
    /// loaded NetworkPolicy also reports fields the API does not define.
    public static func problems(_ object: KubeObject) -> [FieldProblem] {
        switch object {
        case .namespace(let namespace):
            return CommonValidation.objectMeta(namespace.metadata, namespaced: false, nameRule: NameRules.dns1123Label)
        case .pod(let pod):
            return PodValidation.problems(pod)
        case .networkPolicy(let policy):
            return NetworkPolicyValidation.problems(policy)
        case .clusterNetworkPolicy(let policy):
            return ClusterNetworkPolicyValidation.problems(policy)
        case .node(let node):
            return CommonValidation.objectMeta(node.metadata, namespaced: false, nameRule: NameRules.dns1123Subdomain)
        }
    }

    /// Problems of a loaded object, decoding's findings first: unknown fields,
    /// then what was written that the object cannot show. A field reported
    /// left out is not judged again by the value it reads as.
    public static func problems(_ loaded: LoadedObject) -> [FieldProblem] {
        let missing = loaded.writtenProblems.filter { $0.kind == .required }.map(\.path)
        return loaded.unknownFields.map { FieldProblem(.unknownField, $0, "not a field of \(loaded.object.kind)") }
            + loaded.writtenProblems
            + problems(loaded.object).filter { problem in !missing.contains { problem.path.starts(with: $0) } }
    }

    /// What the API server accepts but warns about, and for a
    /// ClusterNetworkPolicy what netpol cannot enforce as written, as `PATH: MESSAGE` lines.
    public static func warnings(_ object: KubeObject) -> [String] {
        switch object {
        case .networkPolicy(let policy): return NetworkPolicyValidation.warnings(policy)
        case .clusterNetworkPolicy(let policy): return ClusterNetworkPolicyValidation.warnings(policy)
        case .namespace, .pod, .node: return []
        }
    }
}
