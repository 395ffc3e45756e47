import NetpolEngine
import NetpolModel

/// The input as lint reads it: every object's location, and the pods and
/// namespaces that selectors are matched against "today".
///
/// Selectors here match pods by labels whether or not the pod has an address
/// (a pod written by hand has no status), but never finished or terminating
/// pods, and podSelectors never pick host-network pods, as NetworkPolicy never
/// applies to them.
struct ClusterView {
    let snapshot: Snapshot
    /// Where each object was defined last (a later definition wins, as in the snapshot).
    private let locations: [ObjectReference: String]
    /// Namespaces the input defines with a Namespace object: only their labels are known.
    let definedNamespaces: Set<String>
    /// Live pods per namespace, host-network ones included.
    private let podsByNamespace: [String: [Pod]]
    private let namespaceLabels: [String: [String: String]]
    /// The policies of each namespace, by name.
    let policiesByNamespace: [String: [NetworkPolicy]]
    /// Every live pod, by namespace then name.
    let allPods: [Pod]
    /// Container port names some pod declares as port 53, per protocol.
    let dnsPortNames: [PortProtocol: Set<String>]
    /// Each live pod's addresses, parsed once.
    private let addresses: [(pod: Pod, addresses: [IPAddress])]
    /// The answers of `podsWithAddress(in:)` and `selectedPods(of:home:)` for
    /// every ipBlock and peer of the input's policies, worked out once: many
    /// rules share them, and each scans every pod.
    private var coveredPods: [AddressBlockRanges: [(pod: Pod, address: IPAddress)]] = [:]
    private var peerPods: [PeerKey: [Pod]] = [:]

    private struct PeerKey: Hashable {
        var peer: NetworkPolicyPeer
        var home: String
    }

    init(_ objects: [LocatedObject]) {
        snapshot = Snapshot(objects.map(\.object))
        var locations: [ObjectReference: String] = [:]
        var defined = Set<String>()
        for loaded in objects {
            locations[Self.reference(loaded.object)] = loaded.location
            if case .namespace(let namespace) = loaded.object { defined.insert(namespace.name) }
        }
        self.locations = locations
        definedNamespaces = defined
        let live = snapshot.pods.filter { $0.metadata.deletionTimestamp == nil && !["Succeeded", "Failed"].contains($0.status.phase) }
        podsByNamespace = Dictionary(grouping: live, by: \.namespace)
        namespaceLabels = Dictionary(uniqueKeysWithValues: snapshot.namespaces.map { ($0.name, $0.labels) })
        allPods = live
        policiesByNamespace = Dictionary(grouping: snapshot.policies, by: \.namespace)
        var dnsPortNames: [PortProtocol: Set<String>] = [:]
        for port in live.flatMap({ $0.spec.containers.flatMap(\.ports) }) where port.containerPort == 53 && !port.name.isEmpty {
            dnsPortNames[port.protocol, default: []].insert(port.name)
        }
        self.dnsPortNames = dnsPortNames
        addresses = live.map { pod in (pod, pod.status.addresses.compactMap { IPAddress($0) }) }
        for policy in snapshot.policies {
            for peer in policy.spec.ingress.flatMap(\.from) + policy.spec.egress.flatMap(\.to) {
                if let block = peer.ipBlock.flatMap(AddressBlockRanges.init), coveredPods[block] == nil {
                    coveredPods[block] = podsWithAddress(in: block)
                }
                let key = PeerKey(peer: peer, home: policy.namespace)
                if peerPods[key] == nil { peerPods[key] = selectedPods(of: peer, home: policy.namespace) }
            }
        }
    }

    static func reference(_ object: KubeObject) -> ObjectReference {
        ObjectReference(kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name)
    }

    func location(of policy: NetworkPolicy) -> String {
        locations[Self.reference(.networkPolicy(policy))] ?? ""
    }

    /// Whether the input holds any pod of `namespace`: only then can a selector
    /// be said to select nothing there.
    func knowsPods(in namespace: String) -> Bool {
        !(podsByNamespace[namespace] ?? []).isEmpty
    }

    func pods(in namespace: String) -> [Pod] { podsByNamespace[namespace] ?? [] }

    /// Pods of `namespaces` a podSelector picks: never host-network ones.
    func pods(matching selector: LabelSelector, in namespaces: Set<String>) -> [Pod] {
        namespaces.sorted().flatMap { pods(in: $0) }.filter { !$0.spec.hostNetwork && selector.matches($0.labels) }
    }

    func labels(ofNamespace name: String) -> [String: String]? { namespaceLabels[name] }

    func namespaces(matching selector: LabelSelector) -> Set<String> {
        Set(namespaceLabels.filter { selector.matches($0.value) }.keys)
    }

    var namespaceNames: [String] { namespaceLabels.keys.sorted() }

    /// The namespaces a peer's pods come from: its own namespace for a podSelector
    /// alone, else those its namespaceSelector picks; nil for an ipBlock.
    func scope(of peer: NetworkPolicyPeer, home: String) -> Set<String>? {
        if let namespaceSelector = peer.namespaceSelector { return namespaces(matching: namespaceSelector) }
        return peer.podSelector == nil ? nil : [home]
    }

    /// The pods a peer's selectors pick (an ipBlock's pods aside).
    func selectedPods(of peer: NetworkPolicyPeer, home: String) -> [Pod] {
        if let known = peerPods[PeerKey(peer: peer, home: home)] { return known }
        guard let scope = scope(of: peer, home: home) else { return [] }
        return pods(matching: peer.podSelector ?? .everything, in: scope)
    }

    /// Live pods with an address in `block` (host-network pods too: the block
    /// matches their node's address).
    func podsWithAddress(in block: AddressBlockRanges) -> [(pod: Pod, address: IPAddress)] {
        if let known = coveredPods[block] { return known }
        return addresses.compactMap { entry in entry.addresses.first(where: block.contains).map { (entry.pod, $0) } }
    }
}

/// `ipBlock` as the prefixes it covers: its cidr minus its except entries.
struct AddressBlockRanges: Hashable {
    let cidr: CIDR
    let prefixes: [CIDR]

    init?(_ block: IPBlock) {
        guard let cidr = CIDR(block.cidr) else { return nil }
        self.cidr = cidr
        prefixes = cidr.subtracting(block.except.compactMap { CIDR($0) })
    }

    var isEmpty: Bool { prefixes.isEmpty }

    func contains(_ address: IPAddress) -> Bool {
        prefixes.contains { $0.contains(address) }
    }

    /// Whether every address of this block is in `other`.
    func isSubset(of other: AddressBlockRanges) -> Bool {
        prefixes.allSatisfy { $0.subtracting(other.prefixes).isEmpty }
    }
}

/// Names a few pods, for messages: `shop/a, shop/b and 3 more`.
func podList(_ pods: [Pod], limit: Int = 3) -> String {
    let names = pods.map { "\($0.namespace)/\($0.name)" }
    return nameList(names, limit: limit)
}

func nameList(_ names: [String], limit: Int = 3) -> String {
    guard names.count > limit else { return names.joined(separator: ", ") }
    return names.prefix(limit).joined(separator: ", ") + " and \(names.count - limit) more"
}
