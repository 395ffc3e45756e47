import NetpolModel

/// The model of the upstream network-policy conformance suite: namespaces x, y,
/// z (labels `ns` and `kubernetes.io/metadata.name`), each with pods a, b, c
/// (label `pod`), each pod serving ports 80 and 81 on TCP, UDP and SCTP through
/// container ports named `serve-80-tcp`, `serve-81-udp` and so on.
///
/// Pod `N/P` has the address 10.0.<n>.<p> (x=1, y=2, z=3; a=1, b=2, c=3), and
/// fd00::<n>:<p> as well when dual-stack.
public enum ConformanceModel {
    public static let namespaceNames = ["x", "y", "z"]
    public static let podNames = ["a", "b", "c"]
    public static let servedPorts = [80, 81]
    public static let servedProtocols: [PortProtocol] = [.tcp, .udp, .sctp]

    /// The container port name serving `port` on `proto`: `serve-80-tcp`.
    public static func portName(_ port: Int, _ proto: PortProtocol) -> String {
        "serve-\(port)-\(proto.rawValue.lowercased())"
    }

    public static func ipv4(_ namespace: String, _ pod: String) -> String {
        "10.0.\(number(namespace, in: namespaceNames)).\(number(pod, in: podNames))"
    }

    public static func ipv6(_ namespace: String, _ pod: String) -> String {
        "fd00::\(number(namespace, in: namespaceNames)):\(number(pod, in: podNames))"
    }

    private static func number(_ name: String, in names: [String]) -> Int {
        (names.firstIndex(of: name) ?? names.count) + 1
    }

    /// The namespaces and pods, spread round-robin over `nodes`.
    public static func cluster(dualStack: Bool = false, nodes: [String] = ["node-1"]) -> Cluster {
        var cluster = Cluster()
        var placement = 0
        for namespace in namespaceNames {
            cluster.namespaces[namespace] = Namespace(metadata: ObjectMeta(name: namespace, labels: ["ns": namespace]))
            for pod in podNames {
                let ports = servedProtocols.flatMap { proto in
                    servedPorts.map { ContainerPort(name: portName($0, proto), containerPort: $0, protocol: proto) }
                }
                let addresses = dualStack ? [ipv4(namespace, pod), ipv6(namespace, pod)] : [ipv4(namespace, pod)]
                cluster.pods[PodKey(namespace, pod)] = Pod(
                    metadata: ObjectMeta(name: pod, namespace: namespace, labels: ["pod": pod]),
                    spec: PodSpec(nodeName: nodes[placement % nodes.count], containers: [Container(name: "serve", ports: ports)]),
                    status: PodStatus(phase: "Running", podIP: addresses[0], podIPs: addresses))
                placement += 1
            }
        }
        return cluster
    }
}

/// A pod's namespace and name, as a dictionary key.
public struct PodKey: Hashable, Sendable {
    public let namespace: String
    public let name: String

    public init(_ namespace: String, _ name: String) {
        self.namespace = namespace
        self.name = name
    }
}

/// A cluster that tests change step by step: add and remove policies, relabel
/// namespaces and pods, then take a snapshot.
public struct Cluster: Sendable {
    public var namespaces: [String: Namespace] = [:]
    public var pods: [PodKey: Pod] = [:]
    public var policies: [PodKey: NetworkPolicy] = [:]
    public var clusterPolicies: [String: ClusterNetworkPolicy] = [:]
    public var nodes: [String: Node] = [:]

    public init() {}

    public mutating func apply(_ policy: ClusterNetworkPolicy) {
        clusterPolicies[policy.name] = policy
    }

    public mutating func delete(clusterPolicy name: String) {
        clusterPolicies[name] = nil
    }

    public mutating func apply(_ policy: NetworkPolicy) {
        policies[PodKey(policy.namespace, policy.name)] = policy
    }

    public mutating func delete(policy name: String, in namespace: String) {
        policies[PodKey(namespace, name)] = nil
    }

    /// Replaces a namespace's labels (`kubernetes.io/metadata.name` is added back by the snapshot).
    public mutating func relabel(namespace: String, _ labels: [String: String]) {
        namespaces[namespace]?.metadata.labels = labels
    }

    public mutating func relabel(pod: String, in namespace: String, _ labels: [String: String]) {
        pods[PodKey(namespace, pod)]?.metadata.labels = labels
    }

    public mutating func update(pod: String, in namespace: String, _ change: (inout Pod) -> Void) {
        guard var value = pods[PodKey(namespace, pod)] else { return }
        change(&value)
        pods[PodKey(namespace, pod)] = value
    }

    public var snapshot: Snapshot {
        Snapshot(namespaces.values.map(KubeObject.namespace) + pods.values.map(KubeObject.pod) + policies.values.map(KubeObject.networkPolicy)
            + clusterPolicies.values.map(KubeObject.clusterNetworkPolicy) + nodes.values.map(KubeObject.node))
    }
}
