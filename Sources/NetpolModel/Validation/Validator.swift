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
            return CommonValidation.objectMeta(policy.metadata, namespaced: false, nameRule: NameRules.dns1123Subdomain)
        case .node(let node):
            return CommonValidation.objectMeta(node.metadata, namespaced: false, nameRule: NameRules.dns1123Subdomain)
        }
    }

    /// Problems of a loaded object, strict-decoding findings first.
    public static func problems(_ loaded: LoadedObject) -> [FieldProblem] {
        loaded.unknownFields.map { FieldProblem(.unknownField, $0, "not a field of \(loaded.object.kind)") } + problems(loaded.object)
    }

    /// What the API server accepts but warns about, as `PATH: MESSAGE` lines.
    public static func warnings(_ object: KubeObject) -> [String] {
        guard case .networkPolicy(let policy) = object else { return [] }
        return NetworkPolicyValidation.warnings(policy)
    }
}
