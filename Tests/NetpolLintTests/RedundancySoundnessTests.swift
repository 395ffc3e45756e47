import NetpolEngine
import NetpolLint
import NetpolModel
import NetpolWorkload
import Testing

/// NP008 claims that deleting the policy changes no verdict. Random policies on
/// a small cluster put the claim to the engine: every policy lint calls
/// redundant is deleted, and every matrix must stay the same.
@Suite("lint: redundancy against the engine")
struct RedundancySoundnessTests {
    static let pods: [KubeObject] = ["x", "y"].enumerated().flatMap { namespaceNumber, namespace in
        ["a", "b", "c"].enumerated().map { podNumber, name in
            KubeObject.pod(Pod(
                metadata: ObjectMeta(name: name, namespace: namespace, labels: ["pod": name]),
                spec: PodSpec(containers: [Container(name: "main", ports: [
                    ContainerPort(name: "serve-80-tcp", containerPort: 80),
                    ContainerPort(name: "serve-81-udp", containerPort: 81, protocol: .udp),
                ])]),
                status: PodStatus(phase: "Running", podIP: "10.0.\(namespaceNumber).\(podNumber + 1)")))
        }
    } + ["x", "y"].map { .namespace(Namespace(metadata: ObjectMeta(name: $0, labels: ["ns": $0]))) }

    static let selectors: [LabelSelector] = [
        .everything,
        LabelSelector(matchLabels: ["pod": "a"]),
        LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "pod", operator: .in, values: ["a", "b"])]),
        LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "pod", operator: .notIn, values: ["c"])]),
        LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "pod", operator: .exists)]),
    ]
    static let namespaceSelectors: [LabelSelector] = [
        .everything,
        LabelSelector(matchLabels: ["ns": "x"]),
        LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "ns", operator: .in, values: ["x", "y"])]),
    ]
    static let blocks: [IPBlock] = [
        IPBlock(cidr: "10.0.0.0/16"), IPBlock(cidr: "10.0.0.0/24"),
        IPBlock(cidr: "10.0.0.0/16", except: ["10.0.1.0/24"]), IPBlock(cidr: "10.0.0.1/32"),
    ]
    static let ports: [NetworkPolicyPort] = [
        NetworkPolicyPort(port: .int(80)), NetworkPolicyPort(protocol: .udp, port: .int(81)),
        NetworkPolicyPort(port: .int(80), endPort: 81), NetworkPolicyPort(port: .string("serve-80-tcp")),
        NetworkPolicyPort(protocol: .udp), NetworkPolicyPort(),
    ]

    static func peer(_ random: inout SeededGenerator) -> NetworkPolicyPeer {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return NetworkPolicyPeer(podSelector: selectors.randomElement(using: &random))
        case 1: return NetworkPolicyPeer(namespaceSelector: namespaceSelectors.randomElement(using: &random))
        case 2: return NetworkPolicyPeer(podSelector: selectors.randomElement(using: &random), namespaceSelector: namespaceSelectors.randomElement(using: &random))
        default: return NetworkPolicyPeer(ipBlock: blocks.randomElement(using: &random))
        }
    }

    static func policy(_ name: String, _ random: inout SeededGenerator) -> KubeObject {
        func peers() -> [NetworkPolicyPeer] { (0..<Int.random(in: 0...2, using: &random)).map { _ in peer(&random) } }
        func somePorts() -> [NetworkPolicyPort] { (0..<Int.random(in: 0...2, using: &random)).compactMap { _ in ports.randomElement(using: &random) } }
        let types: [[PolicyType]] = [[], [.ingress], [.egress], [.ingress, .egress]]
        let ingress = (0..<Int.random(in: 0...2, using: &random)).map { _ in NetworkPolicyIngressRule(ports: somePorts(), from: peers()) }
        let egress = (0..<Int.random(in: 0...2, using: &random)).map { _ in NetworkPolicyEgressRule(ports: somePorts(), to: peers()) }
        return .networkPolicy(NetworkPolicy(
            metadata: ObjectMeta(name: name, namespace: "x"),
            spec: NetworkPolicySpec(
                podSelector: selectors.randomElement(using: &random) ?? .everything, ingress: ingress, egress: egress,
                policyTypes: types.randomElement(using: &random) ?? [])))
    }

    static func matrices(_ objects: [KubeObject]) -> [[[Bool]]] {
        let engine = Engine(snapshot: Snapshot(objects))
        let probes: [(IntOrString, PortProtocol)] = [(.int(80), .tcp), (.int(81), .tcp), (.int(80), .udp), (.int(81), .udp), (.string("serve-80-tcp"), .tcp)]
        return probes.map { engine.matrix(port: $0, protocol: $1).allowed }
    }

    @Test func deletingARedundantPolicyChangesNoVerdict() throws {
        var random = SeededGenerator(seed: 15)
        var redundant = 0
        for trial in 0..<300 {
            let policies = (0..<3).map { Self.policy("p\($0)", &random) }
            let objects = Self.pods + policies
            let findings = try lint(ManifestWriter.yaml(objects)).filter { $0.code == .redundantPolicy }
            guard !findings.isEmpty else { continue }
            let before = Self.matrices(objects)
            for finding in findings {
                redundant += 1
                let without = objects.filter { $0.metadata.name != finding.object.name || $0.kind != "NetworkPolicy" }
                #expect(Self.matrices(without) == before, "trial \(trial): \(finding.object.name) is not redundant: \(finding.message)\n\(ManifestWriter.yaml(policies))")
            }
        }
        // The claim was put to the test often enough to mean something.
        #expect(redundant >= 30, "only \(redundant) redundant policies in 300 trials")
    }
}
