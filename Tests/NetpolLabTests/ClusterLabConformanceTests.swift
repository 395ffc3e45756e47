import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolTesting
import Testing

struct ClusterLabCase: CustomStringConvertible, Sendable {
    let testCase: ClusterConformanceCase
    let nodes: [String]
    let backend: Backend

    var description: String { "\(testCase.name) [\(nodes.count) node\(nodes.count == 1 ? "" : "s"), \(backend)]" }
}

/// Every ClusterNetworkPolicy case, upstream's and ours, on one node and on
/// three, with both backends.
let clusterLabCases: [ClusterLabCase] = Backend.allCases.flatMap { backend in
    [["node-1"], ["node-1", "node-2", "node-3"]].flatMap { nodes in
        (cnpUpstreamCases + clusterConformanceCases).map { ClusterLabCase(testCase: $0, nodes: nodes, backend: backend) }
    }
}

/// The ClusterNetworkPolicy cases on a real kernel: for every step, every node
/// gets the rules netpol computes, and real probes must give what the step
/// expects. The lab cannot probe some of what the engine judges: SCTP (this
/// kernel has none), host-network pods (the lab builds no server for them) and
/// addresses that are no pod's (nodes, the outside); those pokes are skipped.
@Suite("ClusterNetworkPolicy conformance in the lab", .enabled(if: isRoot, Comment(rawValue: rootOnly)))
struct ClusterLabConformanceTests {
    @Test(arguments: clusterLabCases)
    func kernelMatchesExpectations(_ labCase: ClusterLabCase) throws {
        var cluster = labCase.testCase.initialCluster(nodes: labCase.nodes)
        var lab: Lab?
        defer { lab?.teardown() }
        for (number, step) in labCase.testCase.steps.enumerated() {
            step.change(&cluster)
            // Steps change policies and labels; the pods stay, so one lab serves all steps.
            if let lab {
                let outcomes = try lab.program(cluster.snapshot)
                #expect(outcomes.allSatisfy { $0.fallback == nil }, "the step fell back to a whole replace: \(outcomes.compactMap(\.fallback))")
            } else {
                lab = try Lab(snapshot: cluster.snapshot, backend: labCase.backend, iptablesMode: .nft)
            }
            guard let lab else { return }
            let label = "\(labCase), step \(number + 1) (\(step.name))"
            let engine = Engine(snapshot: cluster.snapshot)
            let labPods = Set(engine.matrixPods)
            for expectation in step.expectations where expectation.proto != .sctp {
                guard case .pod(let destination) = try engine.endpoint(expectation.to), labPods.contains(destination), labPods.contains(expectation.from) else {
                    continue
                }
                let reached = try lab.probe(from: expectation.from, to: destination, port: expectation.port, protocol: expectation.proto)
                #expect(reached == expectation.allowed, "\(label): expected \(expectation), the kernel \(reached ? "let it through" : "dropped it")")
            }
            for probe in step.matrices where probe.proto != .sctp {
                let result = try lab.run(port: probe.port, protocol: probe.proto, family: probe.family)
                #expect(result.expected == probe.expected(pods: result.pods).allowed, "\(label) \(probe.label): engine differs from the expectation")
                #expect(result.mismatches.isEmpty, "\(label) \(probe.label): kernel differs from the engine at \(result.mismatches.map { "\($0.from)->\($0.to)" })")
            }
        }
    }
}
