import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

/// The placements the engine plays every case on: one node and three.
private let enginePlacements: [[String]] = [["node-1"], ["node-1", "node-2", "node-3"]]

/// A case on a placement, for parameterized tests.
struct PlacedCase: CustomStringConvertible, Sendable {
    let testCase: ClusterConformanceCase
    let nodes: [String]

    var description: String { "\(testCase.name) [\(nodes.count) node\(nodes.count == 1 ? "" : "s")]" }

    static func all(_ cases: [ClusterConformanceCase]) -> [PlacedCase] {
        enginePlacements.flatMap { nodes in cases.map { PlacedCase(testCase: $0, nodes: nodes) } }
    }
}

@Suite("ClusterNetworkPolicy conformance on the engine")
struct ClusterConformanceTests {
    /// Upstream's conformance suite, transcribed: every step's pokes get the
    /// verdict upstream expects.
    @Test(arguments: PlacedCase.all(cnpUpstreamCases))
    func upstream(_ placed: PlacedCase) throws {
        try play(placed)
    }

    /// Our own cases on the x/y/z model: pokes and full matrices.
    @Test(arguments: PlacedCase.all(clusterConformanceCases))
    func own(_ placed: PlacedCase) throws {
        try play(placed)
    }

    /// All 24 upstream tests and their 92 subtests are there, each test once.
    @Test func upstreamSuiteIsComplete() {
        #expect(cnpUpstreamCases.count == 24)
        #expect(Set(cnpUpstreamCases.map(\.name)).count == 24)
        #expect(Set(cnpUpstreamCases.flatMap { testCase in testCase.steps.map { "\(testCase.name): \($0.name)" } }).count == 92)
        #expect(cnpUpstreamCases.allSatisfy { $0.upstream != nil && $0.steps.allSatisfy { !$0.expectations.isEmpty } })
    }

    /// Every cluster policy a case applies, at every step, is one the API server
    /// would accept: the cases test semantics, not netpol's reading of invalid input.
    @Test func everyPolicyIsValid() {
        for testCase in cnpUpstreamCases + clusterConformanceCases {
            var cluster = testCase.initialCluster()
            for (number, step) in testCase.steps.enumerated() {
                step.change(&cluster)
                for policy in cluster.clusterPolicies.values {
                    let problems = Validator.problems(.clusterNetworkPolicy(policy))
                    #expect(problems.isEmpty, "\(testCase.name), step \(number + 1): \(policy.name): \(problems)")
                }
            }
        }
    }

    /// Without the policies every upstream poke is allowed: each drop upstream
    /// expects comes from a policy, not from the model.
    @Test func withoutPoliciesEveryPokeIsAllowed() throws {
        for placement in enginePlacements {
            let engine = Engine(snapshot: CNPConformanceModel.cluster(nodes: placement).snapshot)
            for testCase in cnpUpstreamCases {
                for expectation in testCase.steps.flatMap(\.expectations) {
                    let verdict = engine.verdict(for: try expectation.connection(in: engine))
                    #expect(verdict.allowed, "\(testCase.name): \(expectation) with no policy at all")
                }
            }
        }
    }

    /// Plays every step: the change, then each poke against the engine's
    /// verdict, and each matrix against the engine's matrix and its verdicts.
    private func play(_ placed: PlacedCase) throws {
        var cluster = placed.testCase.initialCluster(nodes: placed.nodes)
        for (number, step) in placed.testCase.steps.enumerated() {
            step.change(&cluster)
            let engine = Engine(snapshot: cluster.snapshot)
            let label = "\(placed), step \(number + 1) (\(step.name))"
            for expectation in step.expectations {
                let verdict = engine.verdict(for: try expectation.connection(in: engine))
                #expect(verdict.allowed == expectation.allowed, "\(label): expected \(expectation)")
            }
            for probe in step.matrices {
                let matrix = engine.matrix(port: probe.port, protocol: probe.proto, family: probe.family)
                let expected = probe.expected(pods: matrix.pods)
                #expect(matrix.allowed == expected.allowed,
                        "\(label), \(probe.label)\nexpected:\n\(expected)\nengine:\n\(Reachability.table(pods: matrix.pods, allowed: matrix.allowed))")
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
}
