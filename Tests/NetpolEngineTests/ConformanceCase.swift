import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

/// One probe of a step: a port and protocol (and optionally a family), and the
/// expected matrix as changes to an all-allowed (or all-denied) start.
struct Probe: Sendable {
    var port: IntOrString
    var proto: PortProtocol
    var family: IPAddress.Family?
    var startAllowed: Bool
    var expect: @Sendable (inout Reachability) -> Void
}

func probe(_ proto: PortProtocol, _ port: Int, family: IPAddress.Family? = nil,
           _ expect: @escaping @Sendable (inout Reachability) -> Void = { _ in }) -> Probe {
    Probe(port: .int(port), proto: proto, family: family, startAllowed: true, expect: expect)
}

/// A TCP probe.
func probe(_ port: Int, family: IPAddress.Family? = nil, _ expect: @escaping @Sendable (inout Reachability) -> Void = { _ in }) -> Probe {
    probe(.tcp, port, family: family, expect)
}

/// A step: change the cluster, then run every probe against the new snapshot.
struct Step: Sendable {
    var change: @Sendable (inout Cluster) -> Void
    var probes: [Probe]
}

/// A conformance case on the x/y/z model: one or more steps, each asserting full matrices.
struct ConformanceCase: CustomTestStringConvertible, Sendable {
    let name: String
    var dualStack = false
    var nodes = ["node-1"]
    let steps: [Step]

    var testDescription: String { name }

    init(_ name: String, dualStack: Bool = false, nodes: [String] = ["node-1"], steps: [Step]) {
        self.name = name
        self.dualStack = dualStack
        self.nodes = nodes
        self.steps = steps
    }

    /// A one-step case.
    init(_ name: String, dualStack: Bool = false, nodes: [String] = ["node-1"],
         _ change: @escaping @Sendable (inout Cluster) -> Void, _ probes: Probe...) {
        self.init(name, dualStack: dualStack, nodes: nodes, steps: [Step(change: change, probes: probes)])
    }

    /// Runs every step, checking the engine's matrix against the expectation and
    /// every matrix entry against the engine's pair-by-pair verdict.
    func run() {
        var cluster = ConformanceModel.cluster(dualStack: dualStack, nodes: nodes)
        for (stepNumber, step) in steps.enumerated() {
            step.change(&cluster)
            let engine = Engine(snapshot: cluster.snapshot)
            for probe in step.probes {
                let matrix = engine.matrix(port: probe.port, protocol: probe.proto, family: probe.family)
                var expected = Reachability(pods: matrix.pods, allowed: probe.startAllowed)
                probe.expect(&expected)
                let label = "\(name), step \(stepNumber + 1), \(probe.proto)/\(probe.port)\(probe.family.map { " \($0.rawValue)" } ?? "")"
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
}
