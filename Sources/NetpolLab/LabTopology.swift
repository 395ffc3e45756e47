import NetpolDataplane
import NetpolEngine
import NetpolModel

/// The lab's network: a namespace per node and per pod, each pod linked to its
/// node by a veth pair carrying the pod's own addresses with host routes (the
/// routed model Calico uses), and with several nodes a bridge namespace linking
/// them, each node routing the other nodes' pod addresses over it.
struct LabTopology: Sendable {
    struct LabPod: Sendable {
        var id: PodID
        var namespace: String
        var node: Int
        var addresses: [IPAddress]
        var ports: [(PortProtocol, Int)]
    }

    /// The node side of every pod link: the pods' default gateway.
    static let gateway4 = "169.254.1.1"
    static let gateway6 = "fe80::1"

    let names: LabNames
    let nodes: [String]
    let pods: [LabPod]

    var nodeNamespaces: [String] { nodes.indices.map(names.node) }
    var allNamespaces: [String] { nodeNamespaces + pods.map(\.namespace) + (nodes.count > 1 ? [names.fabric] : []) }

    /// Fabric addresses of node `index` (on the bridge between nodes).
    static func fabric4(_ index: Int) -> String { "198.18.0.\(index + 1)" }
    static func fabric6(_ index: Int) -> String { "fdff:6e65:7470::\(index + 1)" }

    /// Creates everything with `ip` (one batch for links, one per namespace for
    /// addresses and routes, `sysctl` per namespace). Nothing is created in the
    /// current namespace: every link is made directly inside lab namespaces.
    func build(runner: any CommandRunner) throws(DataplaneError) {
        try runner.check(Command("ip", ["-batch", "-"], input: allNamespaces.map { "netns add \($0)\n" }.joined()))
        for namespace in allNamespaces {
            var settings = ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]
            if nodeNamespaces.contains(namespace) {
                settings += ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]
            }
            try runner.check(Command("ip", ["netns", "exec", namespace, "sysctl", "-q", "-w"] + settings))
        }
        var links: [String] = []
        for (index, pod) in pods.enumerated() {
            links.append("link add eth0 netns \(pod.namespace) type veth peer name v\(index) netns \(names.node(pod.node))")
        }
        if nodes.count > 1 {
            for node in nodes.indices {
                links.append("link add fabric netns \(names.node(node)) type veth peer name n\(node) netns \(names.fabric)")
            }
        }
        try runner.check(Command("ip", ["-batch", "-"], input: links.map { $0 + "\n" }.joined()))

        for pod in pods {
            var lines = ["link set lo up", "link set eth0 up"]
            for address in pod.addresses {
                lines.append(address.family == .ipv4 ? "addr add \(address)/32 dev eth0" : "addr add \(address)/128 dev eth0 nodad")
            }
            lines += ["route add \(Self.gateway4)/32 dev eth0 scope link", "route add default via \(Self.gateway4) dev eth0"]
            if pod.addresses.contains(where: { $0.family == .ipv6 }) {
                lines.append("route add ::/0 via \(Self.gateway6) dev eth0")
            }
            try batch(lines, in: pod.namespace, runner)
        }
        for node in nodes.indices {
            var lines = ["link set lo up"]
            for (index, pod) in pods.enumerated() where pod.node == node {
                lines += ["link set v\(index) up", "addr add \(Self.gateway4)/32 dev v\(index)", "addr add \(Self.gateway6)/64 dev v\(index) nodad"]
                for address in pod.addresses {
                    lines.append(address.family == .ipv4 ? "route add \(address)/32 dev v\(index)" : "route add \(address)/128 dev v\(index)")
                }
            }
            if nodes.count > 1 {
                lines += ["link set fabric up", "addr add \(Self.fabric4(node))/24 dev fabric", "addr add \(Self.fabric6(node))/64 dev fabric nodad"]
                for pod in pods where pod.node != node {
                    for address in pod.addresses {
                        lines.append(address.family == .ipv4
                            ? "route add \(address)/32 via \(Self.fabric4(pod.node))"
                            : "route add \(address)/128 via \(Self.fabric6(pod.node))")
                    }
                }
            }
            try batch(lines, in: names.node(node), runner)
        }
        if nodes.count > 1 {
            var lines = ["link set lo up", "link add bridge type bridge", "link set bridge up"]
            for node in nodes.indices { lines += ["link set n\(node) master bridge", "link set n\(node) up"] }
            try batch(lines, in: names.fabric, runner)
        }
    }

    /// Deletes every namespace of the lab; their links go with them.
    func teardown(runner: any CommandRunner) {
        let existing = Set(NetworkNamespace.list())
        let lines = allNamespaces.filter(existing.contains).map { "netns delete \($0)\n" }
        guard !lines.isEmpty else { return }
        _ = try? runner.run(Command("ip", ["-force", "-batch", "-"], input: lines.joined()))
    }

    private func batch(_ lines: [String], in namespace: String, _ runner: any CommandRunner) throws(DataplaneError) {
        try runner.check(Command("ip", ["-n", namespace, "-batch", "-"], input: lines.map { $0 + "\n" }.joined()))
    }
}
