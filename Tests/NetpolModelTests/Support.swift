import Foundation
import NetpolModel

/// A NetworkPolicy named `p` in `default` with the given spec.
func policy(_ spec: NetworkPolicySpec, name: String = "p", namespace: String = "default") -> KubeObject {
    .networkPolicy(NetworkPolicy(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec))
}

/// A policy with one ingress rule holding just `ports`.
func policy(ports: [NetworkPolicyPort]) -> KubeObject {
    policy(NetworkPolicySpec(ingress: [NetworkPolicyIngressRule(ports: ports)]))
}

/// A policy with one egress rule holding just `peers`.
func policy(peers: [NetworkPolicyPeer]) -> KubeObject {
    policy(NetworkPolicySpec(egress: [NetworkPolicyEgressRule(to: peers)]))
}

/// A policy selecting pods with `selector`.
func policy(selecting selector: LabelSelector) -> KubeObject {
    policy(NetworkPolicySpec(podSelector: selector))
}

/// The API-server lines for every problem of `object`.
func messages(_ object: KubeObject) -> [String] {
    Validator.problems(object).map(\.description)
}

/// Loads manifest text as if it were the file `name`.
func load(_ text: String, file name: String = "test.yaml") -> ManifestSet {
    var set = ManifestSet()
    ManifestLoader.load(data: Data(text.utf8), file: name, into: &set)
    return set
}

/// A fresh directory under the system temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
