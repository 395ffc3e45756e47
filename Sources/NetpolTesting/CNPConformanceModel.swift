import NetpolEngine
import NetpolModel

/// The cluster of the upstream ClusterNetworkPolicy conformance suite
/// (kubernetes-sigs/network-policy-api, `conformance/base/manifests.yaml`):
/// four house namespaces with two StatefulSet pods each (harry-potter-0/1 in
/// gryffindor, draco-malfoy-0/1 in slytherin, cedric-diggory-0/1 in hufflepuff,
/// luna-lovegood-0/1 in ravenclaw), and two host-network pods centaur-0/1 in
/// forbidden-forrest (upstream's spelling). Namespaces carry
/// `conformance-house: <house>`, and so do their pods.
///
/// Every house pod serves TCP 80 (container port `web`) and 8080, UDP 53 (`dns`)
/// and 5353, SCTP 9003 and 9005. Upstream declares only `web` and `dns`; its
/// agnhost containers listen on the others undeclared. Here they are declared
/// without a name (so no named port changes), because the lab serves exactly the
/// declared ports. The centaurs serve `hostNetworkPorts` (upstream's default range
/// 34345-34352): TCP [0] and [1], UDP [2] and [4], SCTP [6] and [7].
///
/// House pod `i` of house `h` (in `houses` order, from 1) has the address
/// 10.1.<h>.<i+1>. Nodes `node-N` carry `kubernetes.io/os: linux` and the
/// InternalIP 172.18.0.<N+1>; a centaur has its node's address.
public enum CNPConformanceModel {
    /// One namespace of the suite and the StatefulSet in it.
    public struct House: Sendable {
        /// `gryffindor`: the value of the `conformance-house` label.
        public let name: String
        public let statefulSet: String
        public let hostNetwork: Bool

        public var namespace: String { "network-policy-conformance-\(name)" }

        /// Pod `replica` of the StatefulSet: `harry-potter-0`.
        public func pod(_ replica: Int) -> PodID { PodID(namespace: namespace, name: "\(statefulSet)-\(replica)") }
    }

    public static let gryffindor = House(name: "gryffindor", statefulSet: "harry-potter", hostNetwork: false)
    public static let slytherin = House(name: "slytherin", statefulSet: "draco-malfoy", hostNetwork: false)
    public static let hufflepuff = House(name: "hufflepuff", statefulSet: "cedric-diggory", hostNetwork: false)
    public static let ravenclaw = House(name: "ravenclaw", statefulSet: "luna-lovegood", hostNetwork: false)
    public static let forbiddenForrest = House(name: "forbidden-forrest", statefulSet: "centaur", hostNetwork: true)
    public static let houses = [gryffindor, slytherin, hufflepuff, ravenclaw, forbiddenForrest]
    public static let replicas = 2

    /// The label on every namespace and pod of the suite.
    public static let houseLabel = "conformance-house"

    /// Upstream's `HostNetworkPorts` with its default start, 34345: eight ports.
    public static let hostNetworkPorts = Array(34345...34352)

    /// The ports every house pod serves: (protocol, port, container port name).
    public static let servedPorts: [(PortProtocol, Int, String)] = [
        (.tcp, 80, "web"), (.tcp, 8080, ""), (.udp, 53, "dns"), (.udp, 5353, ""), (.sctp, 9003, ""), (.sctp, 9005, ""),
    ]

    /// The ports a centaur serves, named as upstream's manifest names them.
    public static var centaurPorts: [ContainerPort] {
        let ports = hostNetworkPorts
        return [
            ContainerPort(name: "web-\(ports[0])", containerPort: ports[0]), ContainerPort(name: "web-\(ports[1])", containerPort: ports[1]),
            ContainerPort(name: "dns-\(ports[2])", containerPort: ports[2], protocol: .udp),
            ContainerPort(name: "dns-\(ports[4])", containerPort: ports[4], protocol: .udp),
            ContainerPort(containerPort: ports[6], protocol: .sctp), ContainerPort(containerPort: ports[7], protocol: .sctp),
        ]
    }

    public static func nodeAddress(_ index: Int) -> String { "172.18.0.\(index + 2)" }

    /// The namespaces, pods and Nodes, house pods spread round-robin over `nodes`
    /// and centaur-i on node i (modulo their number).
    public static func cluster(nodes: [String] = ["node-1"]) -> Cluster {
        var cluster = Cluster()
        for (index, name) in nodes.enumerated() {
            cluster.nodes[name] = Node(
                metadata: ObjectMeta(name: name, labels: ["kubernetes.io/os": "linux", "kubernetes.io/hostname": name]),
                addresses: [NodeAddress(type: "InternalIP", address: nodeAddress(index)), NodeAddress(type: "Hostname", address: name)])
        }
        var placement = 0
        for (number, house) in houses.enumerated() {
            cluster.namespaces[house.namespace] = Namespace(metadata: ObjectMeta(name: house.namespace, labels: [houseLabel: house.name]))
            for replica in 0..<replicas {
                let id = house.pod(replica)
                let node: Int
                let address: String
                let containers: [Container]
                if house.hostNetwork {
                    node = replica % nodes.count
                    address = nodeAddress(node)
                    containers = [Container(name: "\(house.statefulSet)-client"), Container(name: "\(house.statefulSet)-serve", ports: centaurPorts)]
                } else {
                    node = placement % nodes.count
                    placement += 1
                    address = "10.1.\(number + 1).\(replica + 1)"
                    containers = [Container(name: "\(house.statefulSet)-client")] + servedPorts.map { proto, port, name in
                        Container(name: "\(house.statefulSet)-\(port)", ports: [ContainerPort(name: name, containerPort: port, protocol: proto)])
                    }
                }
                cluster.pods[PodKey(id.namespace, id.name)] = Pod(
                    metadata: ObjectMeta(name: id.name, namespace: id.namespace, labels: [
                        houseLabel: house.name, "statefulset.kubernetes.io/pod-name": id.name, "apps.kubernetes.io/pod-index": "\(replica)",
                    ]),
                    spec: PodSpec(nodeName: nodes[node], hostNetwork: house.hostNetwork, containers: containers),
                    status: PodStatus(phase: "Running", podIP: address, podIPs: [address]))
            }
        }
        return cluster
    }
}
