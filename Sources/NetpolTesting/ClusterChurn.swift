import NetpolModel
import NetpolWorkload

/// Random changes to a small cluster, each both applied to `cluster` and
/// returned as the change a store would hand over: pods added, deleted,
/// relabelled, moved between nodes, readdressed, made host-network or
/// terminating; namespaces relabelled, deleted and made again; policies added,
/// edited and deleted; with `clusterPolicies`, also Admin and Baseline
/// ClusterNetworkPolicies added, edited, reprioritised and deleted, and the
/// Nodes their `nodes` peers pick relabelled and readdressed; with
/// `auditedPolicies`, policies made audited (`netpol.io/mode: audit`), some
/// with a mistyped mode, and flipped between audit and enforce. Seeded, so a
/// failure repeats. The pieces are few on
/// purpose (labels, addresses, ports), so that changes collide: addresses are
/// reused after a pod lets go of them, selectors agree and disagree.
public struct ClusterChurn {
    public private(set) var cluster = Cluster()
    public static let nodes = ["n1", "n2", "n3"]
    private var random: SeededGenerator
    private var freeAddresses: [Int] = Array(1...60)
    private var names = 0
    private let withClusterPolicies: Bool
    private let withAuditedPolicies: Bool

    private static let namespaceNames = ["x", "y", "z", "w"]
    private static let labelValues = ["a", "b", "c"]

    /// A cluster of a dozen pods and a few policies to start from (and, with
    /// `clusterPolicies`, three Nodes and a few cluster policies).
    public init(seed: UInt64, clusterPolicies: Bool = false, auditedPolicies: Bool = false) {
        random = SeededGenerator(seed: seed)
        withClusterPolicies = clusterPolicies
        withAuditedPolicies = auditedPolicies
        for name in Self.namespaceNames.prefix(3) {
            cluster.namespaces[name] = Namespace(metadata: ObjectMeta(name: name, labels: namespaceLabels()))
        }
        for _ in 0..<12 { _ = addPod() }
        for _ in 0..<4 { _ = setPolicy() }
        guard clusterPolicies else { return }
        for node in Self.nodes { _ = setNode(node) }
        for _ in 0..<3 { _ = setClusterPolicy() }
    }

    /// One change, already applied to `cluster`.
    public mutating func next() -> ClusterChange {
        if withClusterPolicies {
            switch pick(100) {
            case 0..<18: return setClusterPolicy()
            case 18..<22: return deleteClusterPolicy() ?? setClusterPolicy()
            case 22..<25: return setNode(pick(Self.nodes))
            default: break
            }
        }
        if withAuditedPolicies, pick(100) < 8 {
            return flipPolicyMode() ?? setPolicy()
        }
        switch pick(100) {
        case 0..<14: return addPod()
        case 14..<24: return deletePod() ?? addPod()
        case 24..<42: return changePod(.relabel) ?? addPod()
        case 42..<48: return changePod(.move) ?? addPod()
        case 48..<56: return changePod(.readdress) ?? addPod()
        case 56..<62: return changeNamespace()
        case 62..<88: return setPolicy()
        default: return deletePolicy() ?? setPolicy()
        }
    }

    // MARK: - Pods

    private mutating func addPod() -> ClusterChange {
        names += 1
        var pod = Pod(
            metadata: ObjectMeta(name: "p\(names)", namespace: pick(Self.namespaceNames), labels: podLabels()),
            spec: PodSpec(nodeName: pick(Self.nodes), containers: [Container(name: "main", ports: ports())]))
        readdress(&pod)
        cluster.pods[PodKey(pod.namespace, pod.name)] = pod
        return .upsert(.pod(pod))
    }

    private mutating func deletePod() -> ClusterChange? {
        guard let key = any(of: Array(cluster.pods.keys)), let pod = cluster.pods.removeValue(forKey: key) else { return nil }
        release(pod)
        return .delete(ObjectReference(kind: "Pod", namespace: pod.namespace, name: pod.name))
    }

    private enum PodChange {
        case relabel, move, readdress
    }

    private mutating func changePod(_ change: PodChange) -> ClusterChange? {
        guard let key = any(of: Array(cluster.pods.keys)), var pod = cluster.pods[key] else { return nil }
        switch change {
        case .relabel: pod.metadata.labels = podLabels()
        case .move: pod.spec.nodeName = pick(Self.nodes)
        case .readdress: readdress(&pod)
        }
        pod.spec.containers = pick(4) == 0 ? [Container(name: "main", ports: ports())] : pod.spec.containers
        cluster.pods[key] = pod
        return .upsert(.pod(pod))
    }

    /// New addresses (IPv4, sometimes dual-stack), the node's on the host
    /// network, none while pending, or none again as it terminates; or it
    /// finishes, keeping an address that a new pod may get.
    private mutating func readdress(_ pod: inout Pod) {
        release(pod)
        if pick(20) == 0, !pod.status.addresses.isEmpty, !pod.spec.hostNetwork {
            pod.status.phase = "Succeeded"
            return
        }
        pod.spec.hostNetwork = false
        pod.metadata.deletionTimestamp = nil
        switch pick(20) {
        case 0:
            pod.status = PodStatus(phase: "Pending")
            return
        case 1:
            pod.spec.hostNetwork = true
            let node = (Self.nodes.firstIndex(of: pod.spec.nodeName) ?? 0) + 1
            pod.status = PodStatus(phase: "Running", podIP: "10.1.0.\(node)", podIPs: ["10.1.0.\(node)"])
            return
        case 2:
            pod.metadata.deletionTimestamp = "2026-11-30T00:00:00Z"
        default: break
        }
        guard let host = freeAddresses.isEmpty ? nil : freeAddresses.remove(at: pick(freeAddresses.count)) else {
            pod.status = PodStatus(phase: "Pending")
            return
        }
        let addresses = pick(3) == 0 ? ["10.0.1.\(host)", "fd00::1:\(host)"] : ["10.0.1.\(host)"]
        pod.status = PodStatus(phase: "Running", podIP: addresses[0], podIPs: addresses)
    }

    /// Gives a pod's own address back for reuse (a finished pod's went back as it finished).
    private mutating func release(_ pod: Pod) {
        guard !pod.spec.hostNetwork, pod.status.phase != "Succeeded", let address = pod.status.addresses.first, address.hasPrefix("10.0.1."),
              let host = Int(address.dropFirst("10.0.1.".count)) else { return }
        freeAddresses.append(host)
    }

    private mutating func podLabels() -> [String: String] {
        var labels = ["app": pick(Self.labelValues)]
        if pick(2) == 0 { labels["tier"] = pick(["web", "db"]) }
        return labels
    }

    private mutating func ports() -> [ContainerPort] {
        var ports = [ContainerPort(name: "serve-80-tcp", containerPort: 80)]
        if pick(2) == 0 { ports.append(ContainerPort(name: "web", containerPort: pick([8080, 9090]))) }
        if pick(3) == 0 { ports.append(ContainerPort(name: "dns", containerPort: 53, protocol: .udp)) }
        return ports
    }

    // MARK: - Namespaces

    private mutating func changeNamespace() -> ClusterChange {
        let name = pick(Self.namespaceNames)
        if cluster.namespaces[name] != nil, pick(4) == 0 {
            cluster.namespaces[name] = nil
            return .delete(ObjectReference(kind: "Namespace", namespace: "", name: name))
        }
        let namespace = Namespace(metadata: ObjectMeta(name: name, labels: namespaceLabels()))
        cluster.namespaces[name] = namespace
        return .upsert(.namespace(namespace))
    }

    private mutating func namespaceLabels() -> [String: String] {
        pick(3) == 0 ? [:] : ["team": pick(Self.labelValues)]
    }

    // MARK: - Policies

    private mutating func setPolicy() -> ClusterChange {
        let namespace = pick(Self.namespaceNames)
        let existing = cluster.policies.keys.filter { $0.namespace == namespace }.map(\.name)
        let name = pick(2) == 0 ? any(of: existing) ?? "np\(names)" : "np\(names)"
        names += 1
        let types: [[PolicyType]] = [[], [.ingress], [.egress], [.ingress, .egress]]
        var policy = networkPolicy(
            name, in: namespace, selecting: selector(), types: pick(types),
            ingress: (0..<pick(3)).map { _ in NetworkPolicyIngressRule(ports: policyPorts(), from: (0..<pick(3)).map { _ in peer() }) },
            egress: (0..<pick(3)).map { _ in NetworkPolicyEgressRule(ports: policyPorts(), to: (0..<pick(3)).map { _ in peer() }) })
        if withAuditedPolicies, pick(3) == 0 {
            policy.metadata.annotations[NetworkPolicy.modeAnnotation] = pick(["audit", "audit", "enforce", "Audit"])
        }
        cluster.apply(policy)
        return .upsert(.networkPolicy(policy))
    }

    /// An audited policy enforced (the annotation gone, `enforce`, or a
    /// mistyped mode), or an enforced one audited; nothing else changes.
    private mutating func flipPolicyMode() -> ClusterChange? {
        guard let key = any(of: Array(cluster.policies.keys)), var policy = cluster.policies[key] else { return nil }
        policy.metadata.annotations[NetworkPolicy.modeAnnotation] = policy.isAudited ? pick([nil, "enforce", "Audit"]) : "audit"
        cluster.apply(policy)
        return .upsert(.networkPolicy(policy))
    }

    private mutating func deletePolicy() -> ClusterChange? {
        guard let key = any(of: Array(cluster.policies.keys)) else { return nil }
        cluster.policies[key] = nil
        return .delete(ObjectReference(kind: "NetworkPolicy", namespace: key.namespace, name: key.name))
    }

    private mutating func selector() -> LabelSelector {
        switch pick(6) {
        case 0: return .everything
        case 1: return .labels(["app": pick(Self.labelValues)])
        case 2: return .expression("app", pick(2) == 0 ? .in : .notIn, [pick(Self.labelValues)])
        case 3: return .labels(["team": pick(Self.labelValues)])
        case 4: return .expression("tier", pick(2) == 0 ? .exists : .doesNotExist)
        default: return .labels([Snapshot.namespaceNameLabel: pick(Self.namespaceNames)])
        }
    }

    private mutating func peer() -> NetworkPolicyPeer {
        switch pick(5) {
        case 0: return .pods(selector())
        case 1: return .namespaces(selector())
        case 2: return .pods(selector(), inNamespaces: selector())
        case 3:
            let (cidr, except) = pick([("10.0.1.0/26", ["10.0.1.0/28"]), ("10.0.0.0/8", []), ("10.0.0.0/8", ["10.0.1.32/27"]), ("10.1.0.0/16", []), ("fd00::1:0/120", [])])
            return .block(cidr, except: except)
        default: return .pods(.everything, inNamespaces: .everything)
        }
    }

    private mutating func policyPorts() -> [NetworkPolicyPort] {
        let choices: [NetworkPolicyPort] = [.tcp(80), .udp(53), .range(8000, 8090), .named("web"), .named("dns", .udp), .named("serve-80-tcp"), .all(.udp)]
        return (0..<pick(3)).map { _ in pick(choices) }
    }

    // MARK: - Cluster policies and nodes

    private mutating func setClusterPolicy() -> ClusterChange {
        let existing = Array(cluster.clusterPolicies.keys).sorted()
        let name = pick(2) == 0 ? any(of: existing) ?? "cnp\(names)" : "cnp\(names)"
        names += 1
        let subject = pick(2) == 0 ? ClusterPolicySubject(namespaces: selector())
            : ClusterPolicySubject(pods: NamespacedPods(namespaceSelector: selector(), podSelector: selector()))
        let ingress = (0..<pick(3)).map { _ in
            ClusterPolicyIngressRule(action: action(), from: (0..<(1 + pick(2))).map { _ in clusterPeer(egress: false) }, protocols: clusterProtocols(named: true))
        }
        let egress = (0..<pick(3)).map { _ in
            let peers = (0..<(1 + pick(2))).map { _ in clusterPeer(egress: true) }
            // Upstream refuses named ports towards networks, nodes or domain names.
            let named = peers.allSatisfy { $0.networks == nil && $0.nodes == nil && $0.domainNames == nil }
            return ClusterPolicyEgressRule(action: action(), to: peers, protocols: clusterProtocols(named: named))
        }
        let policy = ClusterNetworkPolicy(
            metadata: ObjectMeta(name: name),
            spec: ClusterNetworkPolicySpec(tier: pick([.admin, .baseline]), priority: pick([0, 5, 5, 10]), subject: subject, ingress: ingress, egress: egress))
        cluster.apply(policy)
        return .upsert(.clusterNetworkPolicy(policy))
    }

    private mutating func deleteClusterPolicy() -> ClusterChange? {
        guard let name = any(of: Array(cluster.clusterPolicies.keys).sorted()) else { return nil }
        cluster.delete(clusterPolicy: name)
        return .delete(ObjectReference(kind: "ClusterNetworkPolicy", namespace: "", name: name))
    }

    /// A node with a zone label and its host-network address, sometimes a second one.
    private mutating func setNode(_ name: String) -> ClusterChange {
        let number = (Self.nodes.firstIndex(of: name) ?? 0) + 1
        var addresses = [NodeAddress(type: "InternalIP", address: "10.1.0.\(number)"), NodeAddress(type: "Hostname", address: name)]
        if pick(2) == 0 { addresses.append(NodeAddress(type: "ExternalIP", address: "10.0.1.\(60 + number)")) }
        let node = Node(metadata: ObjectMeta(name: name, labels: ["zone": pick(Self.labelValues)]), addresses: addresses)
        cluster.nodes[name] = node
        return .upsert(.node(node))
    }

    private mutating func action() -> ClusterPolicyAction {
        pick([.accept, .deny, .pass])
    }

    private mutating func clusterPeer(egress: Bool) -> ClusterPolicyPeer {
        switch pick(egress ? 7 : 3) {
        case 0: return ClusterPolicyPeer(namespaces: selector())
        case 1: return ClusterPolicyPeer(pods: NamespacedPods(namespaceSelector: selector(), podSelector: selector()))
        case 2: return pick(4) == 0 ? ClusterPolicyPeer() : ClusterPolicyPeer(namespaces: .everything)
        case 3: return ClusterPolicyPeer(networks: pick([["10.0.1.0/26"], ["10.0.0.0/8", "10.0.1.0/28"], ["10.0.1.32/27", "fd00::1:0/120"], ["10.1.0.0/16"]]))
        case 4: return ClusterPolicyPeer(nodes: pick(2) == 0 ? .everything : .labels(["zone": pick(Self.labelValues)]))
        case 5: return ClusterPolicyPeer(domainNames: ["example.com"])
        default: return ClusterPolicyPeer(pods: NamespacedPods(podSelector: .labels(["app": pick(Self.labelValues)])))
        }
    }

    private mutating func clusterProtocols(named: Bool) -> [ClusterPolicyProtocol] {
        var choices: [ClusterPolicyProtocol] = [
            ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 80))),
            ClusterPolicyProtocol(udp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(number: 53))),
            ClusterPolicyProtocol(tcp: ProtocolPortMatch(destinationPort: ClusterPolicyPort(range: PortRange(start: 400, end: 8100)))),
        ]
        if named { choices += [ClusterPolicyProtocol(destinationNamedPort: "web"), ClusterPolicyProtocol(destinationNamedPort: "dns")] }
        return (0..<pick(3)).map { _ in pick(choices) }
    }

    // MARK: - Randomness

    private mutating func pick(_ count: Int) -> Int { Int(random.next() % UInt64(count)) }

    private mutating func pick<T>(_ choices: [T]) -> T { choices[pick(choices.count)] }

    private mutating func any<T>(of choices: [T]) -> T? { choices.isEmpty ? nil : choices[pick(choices.count)] }
}
