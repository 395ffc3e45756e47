import NetpolModel

/// What an HTML report needs from one snapshot to colour a matrix of thousands
/// of pods and explain any cell, in a few megabytes: per port a class matrix, and
/// for explanations the engine's own rule matches in compact tables (each
/// distinct peer set once, as bits over the pods; each port entry's match per
/// distinct list of container ports), from which the page lays out the text
/// `Verdict.explanation` gives. Pods are referred to by position in `pods`.
public struct ReportTables: Encodable, Sendable {
    /// One rule's peer entries, each the numbers of its pod sets per family
    /// (`[ipv4, ipv6]`); empty when the rule lists no peers (all match).
    public struct Rule: Encodable, Sendable {
        public let peers: [[Int]]
    }

    public struct Policy: Encodable, Sendable {
        public let name: String
        public let ingress: [Rule]
        public let egress: [Rule]
    }

    /// A cluster policy rule: its name, action and peer entries (as `Rule.peers`).
    public struct ClusterRule: Encodable, Sendable {
        public let name: String
        public let action: String
        public let peers: [[Int]]
    }

    public struct ClusterPolicy: Encodable, Sendable {
        public let name: String
        public let tier: String
        public let priority: Int
        public let ingress: [ClusterRule]
        public let egress: [ClusterRule]
    }

    /// Per pod, the cluster policies of one tier with rules for it in one
    /// direction, in evaluation order.
    public struct TierSubjects: Encodable, Sendable {
        public let adminIngress: [[Int]]
        public let adminEgress: [[Int]]
        public let baselineIngress: [[Int]]
        public let baselineEgress: [[Int]]
    }

    /// One protocol and port: the verdicts, and how each rule's ports judge it.
    public struct Port: Encodable, Sendable {
        public let label: String
        public let `protocol`: String
        /// The port as asked: a number, or a name.
        public let port: String
        /// Per port profile, the port number on such a destination (nil: no port of that name).
        public let resolved: [Int?]
        /// Per policy, per rule, per port profile: -1 all ports (the rule lists
        /// none), -2 no entry, else the matching `ports` entry.
        public let ingressPorts: [[[Int]]]
        public let egressPorts: [[[Int]]]
        /// Per cluster policy, per rule, per port profile: -1 all traffic (the
        /// rule lists no protocols), -2 no entry, else the matching `protocols` entry.
        public let clusterIngressProtocols: [[[Int]]]
        public let clusterEgressProtocols: [[[Int]]]
        public let sourceClasses: [Int]
        public let destinationClasses: [Int]
        public let destinationClassCount: Int
        /// One bit per pair of classes, source class major, lowest bit first.
        public let cells: ReportBits
    }

    public let pods: [String]
    /// Per pod its labels, `key=value` joined by commas, for searching.
    public let labels: [String]
    /// Per pod its address families in order: "4", "6", "46" or "64".
    public let families: [String]
    /// Per pod, the numbers of the policies isolating it, per direction.
    public let isolatingIngress: [[Int]]
    public let isolatingEgress: [[Int]]
    /// Per pod, its port profile: the number of its list of container ports.
    public let profiles: [Int]
    public let policies: [Policy]
    public let clusterPolicies: [ClusterPolicy]
    public let tierSubjects: TierSubjects
    /// The distinct pod sets of peer entries.
    public let sets: [ReportBits]
    public let ports: [Port]
}

extension Engine {
    /// The tables of a report over `matrixPods` for `ports` (numbers or names).
    public func reportTables(ports: [(PortProtocol, IntOrString)]) -> ReportTables {
        let members = index.pods.indices.filter { !index.pods[$0].isHostNetwork && !index.pods[$0].addresses.isEmpty }
        var sets = PodSetNumbers(members: members)
        let policies = index.policies.map { policy in
            ReportTables.Policy(name: policy.id.description,
                                ingress: policy.ingress.map { sets.rule($0) }, egress: policy.egress.map { sets.rule($0) })
        }
        let clusterPolicies = index.clusterPolicies.map { compiled in
            ReportTables.ClusterPolicy(
                name: compiled.policy.name, tier: compiled.policy.spec.tier.rawValue, priority: compiled.policy.spec.priority,
                ingress: compiled.ingress.map { sets.rule($0) }, egress: compiled.egress.map { sets.rule($0) })
        }
        func subjects(_ tier: PolicyTier, _ direction: Direction) -> [[Int]] {
            members.map { index.clusterPolicies(of: $0, tier, direction) }
        }
        var profileNumbers: [[ContainerPort]: Int] = [:]
        var profileOwners: [IndexedPod] = []
        let profiles = members.map { number -> Int in
            let pod = index.pods[number]
            let ports = pod.pod.spec.containers.flatMap(\.ports)
            if let known = profileNumbers[ports] { return known }
            profileNumbers[ports] = profileOwners.count
            profileOwners.append(pod)
            return profileOwners.count - 1
        }
        return ReportTables(
            pods: members.map { index.pods[$0].id.description },
            labels: members.map { index.pods[$0].labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") },
            families: members.map { index.pods[$0].families.map { $0 == .ipv4 ? "4" : "6" }.joined() },
            isolatingIngress: members.map { index.isolatingPolicies(of: $0, .ingress) },
            isolatingEgress: members.map { index.isolatingPolicies(of: $0, .egress) },
            profiles: profiles, policies: policies, clusterPolicies: clusterPolicies,
            tierSubjects: ReportTables.TierSubjects(
                adminIngress: subjects(.admin, .ingress), adminEgress: subjects(.admin, .egress),
                baselineIngress: subjects(.baseline, .ingress), baselineEgress: subjects(.baseline, .egress)),
            sets: sets.bits,
            ports: ports.map { reportPort($0.0, $0.1, profileOwners: profileOwners) })
    }

    private func reportPort(_ proto: PortProtocol, _ port: IntOrString, profileOwners: [IndexedPod]) -> ReportTables.Port {
        let resolved = profileOwners.map { owner -> Int? in
            switch port {
            case .int(let number): return number
            case .string(let name): return owner.port(named: name, protocol: proto)
            }
        }
        /// Per rule, per port profile: -1 the rule lists no ports, -2 no entry matches, else the entry.
        func codes<Rule>(_ rules: [Rule], _ match: (Rule, Int, IndexedPod) -> Match?) -> [[Int]] {
            rules.map { rule in
                zip(profileOwners, resolved).map { owner, number in
                    guard let number else { return -2 }
                    switch match(rule, number, owner) {
                    case nil: return -2
                    case .any: return -1
                    case .entry(let entry): return entry
                    }
                }
            }
        }
        func matches(_ direction: Direction) -> [[[Int]]] {
            index.policies.map { codes($0.rules(direction)) { $0.portMatch(proto, $1, destination: $2) } }
        }
        func clusterMatches(_ direction: Direction) -> [[[Int]]] {
            index.clusterPolicies.map { codes($0.rules(direction)) { $0.protocolMatch(proto, $1, destination: $2) } }
        }
        let classes = classMatrix(port: port, protocol: proto)
        var cells = ReportBits(count: classes.sourceClassCount * classes.destinationClassCount)
        for source in 0..<classes.sourceClassCount {
            for destination in 0..<classes.destinationClassCount where classes.classAllowed(source, destination) {
                cells.insert(source * classes.destinationClassCount + destination)
            }
        }
        return ReportTables.Port(
            label: "\(proto)/\(port)", protocol: proto.rawValue, port: port.description, resolved: resolved,
            ingressPorts: matches(.ingress), egressPorts: matches(.egress),
            clusterIngressProtocols: clusterMatches(.ingress), clusterEgressProtocols: clusterMatches(.egress),
            sourceClasses: classes.sourceClasses, destinationClasses: classes.destinationClasses,
            destinationClassCount: classes.destinationClassCount, cells: cells)
    }
}

/// Numbers the distinct peer sets of rules, as bits over the matrix pods.
private struct PodSetNumbers {
    let members: [Int]
    private(set) var bits: [ReportBits] = []
    private var numbers: [PodSet: Int] = [:]

    init(members: [Int]) {
        self.members = members
    }

    mutating func rule(_ rule: CompiledRule) -> ReportTables.Rule {
        ReportTables.Rule(peers: rule.peers.map { peer in IPAddress.Family.allCases.map { number(of: peer.pods($0)) } })
    }

    mutating func rule(_ rule: CompiledClusterRule) -> ReportTables.ClusterRule {
        ReportTables.ClusterRule(name: rule.name, action: rule.action.rawValue,
                                 peers: rule.peers.map { peer in IPAddress.Family.allCases.map { number(of: peer.pods($0)) } })
    }

    private mutating func number(of set: PodSet) -> Int {
        if let known = numbers[set] { return known }
        var memberBits = ReportBits(count: members.count)
        for (position, pod) in members.enumerated() where set.contains(pod) { memberBits.insert(position) }
        numbers[set] = bits.count
        bits.append(memberBits)
        return bits.count - 1
    }
}

/// A bit set written into a page as base64, lowest bit of the first byte first.
public struct ReportBits: Encodable, Sendable {
    private var bytes: [UInt8]

    init(count: Int) {
        bytes = Array(repeating: 0, count: (count + 7) / 8)
    }

    mutating func insert(_ index: Int) {
        bytes[index >> 3] |= 1 << UInt8(index & 7)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(base64)
    }

    private var base64: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var text: [UInt8] = []
        text.reserveCapacity((bytes.count + 2) / 3 * 4)
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let chunk = bytes[start..<min(start + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for digit in 0..<4 {
                text.append(digit <= chunk.count ? alphabet[(value >> (18 - 6 * digit)) & 63] : UInt8(ascii: "="))
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
