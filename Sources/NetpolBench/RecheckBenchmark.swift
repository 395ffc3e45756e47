import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolRules

/// What `--established=recheck` costs: a policy change on a node that tracks
/// `flows` UDP flows from a client to a server, at the L cluster's rules. The
/// change takes away the policy that allowed them: the difference is written
/// (as the agent writes it), then every tracked connection is judged by the new
/// plan and the denied ones are cut. Also the re-check alone when the flows
/// stay allowed (judged, none cut).
public struct RecheckBenchmark {
    public var flows = 10_000
    public var runs = 5
    static let udpPort = 5201

    public init() {}

    public func run() throws -> [Measurement] {
        let before = Snapshot(Self.objects())
        let after = Snapshot(Self.objects().filter { $0.metadata.name != "bench-udp" })
        let node = DatapathBenchmark.node
        let planBefore = RuleCompiler.plan(node: node, snapshot: before), planAfter = RuleCompiler.plan(node: node, snapshot: after)
        let diff = planAfter.diff(from: planBefore)
        let lab = try Lab(snapshot: before, only: [DatapathBenchmark.server, DatapathBenchmark.client])
        defer { lab.teardown() }
        guard let runner = lab.runner(node: node), let namespace = (runner as? NetnsRunner)?.namespace else { throw LabError("no bench node") }
        let programmer = NftablesProgrammer(runner: InProcessNftRunner(namespace: namespace, fallback: runner))
        let recheck = ConntrackRecheck(namespace: namespace)
        var (judged, applied, cut) = ([Double](), [Double](), [Double]())
        for _ in 0..<runs {
            try programmer.replace(planBefore)
            // Resolves the neighbours first, so that no datagram waits (or drops) on ARP.
            _ = try lab.probe(from: DatapathBenchmark.client, to: DatapathBenchmark.server, port: DatapathBenchmark.port)
            try lab.openUDPFlows(from: DatapathBenchmark.client, to: DatapathBenchmark.server, port: Self.udpPort, count: flows)
            Thread.sleep(forTimeInterval: 0.3)
            let clock = ContinuousClock()
            var start = clock.now
            let kept = try recheck.cutConnections(notAllowedBy: planBefore)
            judged.append((clock.now - start).milliseconds)
            guard kept.examined >= flows, kept.cut.isEmpty else {
                throw LabError("expected \(flows) allowed flows, found \(kept.examined) with \(kept.cut.count) denied")
            }
            start = clock.now
            _ = try programmer.apply(diff)
            applied.append((clock.now - start).milliseconds)
            let outcome = try recheck.cutConnections(notAllowedBy: planAfter)
            cut.append((clock.now - start).milliseconds)
            guard outcome.cut.count >= flows else { throw LabError("expected \(flows) flows cut, cut \(outcome.cut.count)") }
        }
        return [
            Measurement(name: "re-check, \(flows) flows still allowed (none cut)", value: DatapathBenchmark.median(judged), unit: "ms"),
            Measurement(name: "policy change: difference written", value: DatapathBenchmark.median(applied), unit: "ms"),
            Measurement(name: "policy change: written, \(flows) flows judged and cut", value: DatapathBenchmark.median(cut), unit: "ms"),
        ]
    }

    /// The datapath benchmark's cluster, with the server serving UDP too and a
    /// policy `bench-udp` that lets the client reach it over UDP.
    static func objects() -> [KubeObject] {
        DatapathBenchmark.objects(.l).map { object in
            guard case .pod(var pod) = object, pod.name == DatapathBenchmark.server.name, pod.namespace == DatapathBenchmark.server.namespace else { return object }
            pod.spec.containers[0].ports.append(ContainerPort(name: "bench-udp", containerPort: udpPort, protocol: .udp))
            return .pod(pod)
        } + [.networkPolicy(NetworkPolicy(
            metadata: ObjectMeta(name: "bench-udp", namespace: DatapathBenchmark.server.namespace),
            spec: NetworkPolicySpec(podSelector: LabelSelector(matchLabels: ["bench": "server"]), ingress: [NetworkPolicyIngressRule(
                ports: [NetworkPolicyPort(protocol: .udp, port: .int(udpPort))],
                from: [NetworkPolicyPeer(podSelector: LabelSelector(matchLabels: ["bench": "client"]), namespaceSelector: .everything)])])))]
    }
}
