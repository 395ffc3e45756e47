import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

@Suite("Engine on the conformance model")
struct ConformanceTests {
    /// Every step's matrices equal the expected ones, and every entry equals the
    /// engine's pair-by-pair verdict.
    @Test(arguments: conformanceCases)
    func matrix(_ testCase: ConformanceCase) {
        var cluster = testCase.initialCluster()
        for (number, step) in testCase.steps.enumerated() {
            step.change(&cluster)
            let engine = Engine(snapshot: cluster.snapshot)
            for probe in step.probes {
                let matrix = engine.matrix(port: probe.port, protocol: probe.proto, family: probe.family)
                let expected = probe.expected(pods: matrix.pods)
                let label = "\(testCase.name), step \(number + 1), \(probe.label)"
                #expect(matrix.allowed == expected.allowed,
                        "\(label)\nexpected:\n\(expected)\nengine:\n\(Reachability.table(pods: matrix.pods, allowed: matrix.allowed))")
                for (i, source) in matrix.pods.enumerated() {
                    for (j, destination) in matrix.pods.enumerated() {
                        let verdict = engine.verdict(for: Connection(
                            from: .pod(source), to: .pod(destination), protocol: probe.proto, port: probe.port, family: probe.family))
                        #expect(verdict.allowed == matrix.allowed[i][j], "\(label): verdict for \(source) -> \(destination) disagrees with the matrix")
                    }
                }
            }
        }
    }

    @Test func thereAreAtLeastFortyCases() {
        #expect(conformanceCases.count >= 40)
    }

    /// Allows are a union: the order of the policies never matters. Renaming
    /// changes the order in which the engine sees them.
    @Test func policyOrderNeverMatters() {
        let policies = [
            networkPolicy("deny", in: "x", types: [.ingress, .egress]),
            networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]),
            networkPolicy("to-z", in: "x", types: [.egress], egress: [.init(ports: [.tcp(80)], to: [.namespaces(.labels(["ns": "z"]))])]),
            networkPolicy("udp", in: "x", selecting: .labels(["pod": "b"]), ingress: [.init(ports: [.all(.udp)])]),
        ]
        var reference: [Matrix]?
        for permutation in permutations(of: Array(policies.indices)) {
            var cluster = ConformanceModel.cluster()
            for (rank, index) in permutation.enumerated() {
                var policy = policies[index]
                policy.metadata.name = "p\(rank)-\(policy.name)"
                cluster.apply(policy)
            }
            let engine = Engine(snapshot: cluster.snapshot)
            let matrices = [engine.matrix(port: .int(80)), engine.matrix(port: .int(80), protocol: .udp), engine.matrix(port: .int(81))]
            if let reference {
                #expect(matrices == reference, "order \(permutation)")
            } else {
                reference = matrices
            }
        }
    }

    private func permutations(of items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(of: rest).map { [first] + $0 }
        }
    }
}
