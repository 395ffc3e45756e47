import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolTesting
import Testing

let isRoot = getuid() == 0
let rootOnly = "the lab needs root: it creates network namespaces and programs nftables (CI runs as root)"

/// Placements of the conformance pods: one node, and spread over two and three.
let placements: [[String]] = [["node-1"], ["node-1", "node-2"], ["node-1", "node-2", "node-3"]]

struct LabCase: CustomStringConvertible, Sendable {
    let testCase: ConformanceCase
    let nodes: [String]
    let backend: Backend

    var description: String { "\(testCase.name) [\(nodes.count) node\(nodes.count == 1 ? "" : "s"), \(backend)]" }
}

/// Every case on every placement, with both backends.
let labCases: [LabCase] = Backend.allCases.flatMap { backend in
    placements.flatMap { nodes in
        conformanceCases.map { LabCase(testCase: $0, nodes: $0.nodes.count > 1 ? $0.nodes : nodes, backend: backend) }
    }
}

/// The conformance cases on a real kernel: for every step, every node gets the
/// rules netpol computes, and real TCP and UDP probes between every pair of
/// pods must give exactly the expected matrix.
@Suite("Conformance cases in the lab", .enabled(if: isRoot, Comment(rawValue: rootOnly)))
struct LabConformanceTests {
    @Test(arguments: labCases)
    func kernelMatchesExpectations(_ labCase: LabCase) throws {
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
            for probe in step.probes where probe.proto != .sctp {
                let label = "\(labCase), step \(number + 1)"
                let result = try lab.run(port: probe.port, protocol: probe.proto, family: probe.family)
                #expect(result.expected == probe.expected(pods: result.pods).allowed, "\(label) \(probe.label): engine differs from the expectation")
                #expect(result.mismatches.isEmpty, "\(label) \(probe.label): kernel differs from the engine at \(result.mismatches.map { "\($0.from)->\($0.to)" })")
                // The same port over the other protocol, judged by the engine alone.
                let other: PortProtocol = probe.proto == .tcp ? .udp : .tcp
                let crossCheck = try lab.run(port: probe.port, protocol: other, family: probe.family)
                #expect(crossCheck.mismatches.isEmpty, "\(label) \(other)/\(probe.port): kernel differs from the engine at \(crossCheck.mismatches.map { "\($0.from)->\($0.to)" })")
            }
        }
    }
}
