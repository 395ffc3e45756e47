import Foundation
import NetpolLint
import NetpolModel
import Testing

/// Lints `yaml` (documents separated by `---`), read as `netpol lint` reads a file called `t.yaml`.
func lint(_ yaml: String) throws -> [Finding] {
    var set = ManifestSet()
    ManifestLoader.load(data: Data(yaml.utf8), file: "t.yaml", into: &set)
    try #require(set.errors.isEmpty, "\(set.errors)")
    for loaded in set.objects {
        try #require(Validator.problems(loaded).isEmpty, "\(loaded.object.reference): \(Validator.problems(loaded))")
    }
    return Linter(objects: set.objects).findings()
}

/// `CODE POLICY FIELD` for each finding of one code, to compare at a glance.
func found(_ code: LintCode, _ yaml: String) throws -> [String] {
    try lint(yaml).filter { $0.code == code }.map { "\($0.code.rawValue) \($0.object.name) \($0.field)" }
}

/// A document for a namespace.
func namespace(_ name: String, labels: String = "{}") -> String {
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name), labels: \(labels)}\n"
}

/// A document for a running pod with an address and container ports (`[{name: http, containerPort: 80}]`).
func pod(_ namespace: String, _ name: String, labels: String, ip: String, ports: String = "[]", hostNetwork: Bool = false) -> String {
    """
    apiVersion: v1
    kind: Pod
    metadata: {name: \(name), namespace: \(namespace), labels: \(labels)}
    spec: {hostNetwork: \(hostNetwork), containers: [{name: main, ports: \(ports)}]}
    status: {phase: Running, podIP: \(ip)}

    """
}

/// A document for a NetworkPolicy with the given spec (flow YAML).
func policy(_ namespace: String, _ name: String, _ spec: String) -> String {
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: \(name), namespace: \(namespace)}\nspec: \(spec)\n"
}

func documents(_ parts: String...) -> String {
    parts.joined(separator: "---\n")
}

/// Three pods in `shop`: web (frontend, port http), api (backend, port api), db.
let shopPods = documents(
    namespace("shop", labels: "{team: shop}"),
    namespace("kube-system"),
    pod("shop", "web", labels: "{app: web, tier: frontend}", ip: "10.244.1.10", ports: "[{name: http, containerPort: 8080}]"),
    pod("shop", "api", labels: "{app: api, tier: backend}", ip: "10.244.2.20", ports: "[{name: api, containerPort: 9000}]"),
    pod("shop", "db", labels: "{app: db, tier: database}", ip: "10.244.2.30", ports: "[{name: postgres, containerPort: 5432}]"),
    pod("kube-system", "coredns", labels: "{k8s-app: kube-dns}", ip: "10.244.1.2", ports: "[{name: dns, containerPort: 53, protocol: UDP}]"))
