import NetpolEngine
import NetpolModel

/// One probe of a step: a port and protocol (and optionally a family), and the
/// expected matrix as changes to an all-allowed (or all-denied) start.
public struct Probe: Sendable {
    public var port: IntOrString
    public var proto: PortProtocol
    public var family: IPAddress.Family?
    public var startAllowed: Bool
    public var expect: @Sendable (inout Reachability) -> Void

    public init(port: IntOrString, proto: PortProtocol, family: IPAddress.Family?, startAllowed: Bool, expect: @escaping @Sendable (inout Reachability) -> Void) {
        self.port = port
        self.proto = proto
        self.family = family
        self.startAllowed = startAllowed
        self.expect = expect
    }

    /// The expected matrix over `pods`.
    public func expected(pods: [PodID]) -> Reachability {
        var reachability = Reachability(pods: pods, allowed: startAllowed)
        expect(&reachability)
        return reachability
    }

    public var label: String { "\(proto)/\(port)\(family.map { " \($0.rawValue)" } ?? "")" }
}

public func probe(_ proto: PortProtocol, _ port: Int, family: IPAddress.Family? = nil,
           _ expect: @escaping @Sendable (inout Reachability) -> Void = { _ in }) -> Probe {
    Probe(port: .int(port), proto: proto, family: family, startAllowed: true, expect: expect)
}

/// A TCP probe.
public func probe(_ port: Int, family: IPAddress.Family? = nil, _ expect: @escaping @Sendable (inout Reachability) -> Void = { _ in }) -> Probe {
    probe(.tcp, port, family: family, expect)
}

/// A step: change the cluster, then run every probe against the new snapshot.
public struct Step: Sendable {
    public var change: @Sendable (inout Cluster) -> Void
    public var probes: [Probe]

    public init(change: @escaping @Sendable (inout Cluster) -> Void, probes: [Probe]) {
        self.change = change
        self.probes = probes
    }
}

/// A conformance case on the x/y/z model: one or more steps, each asserting full matrices.
public struct ConformanceCase: Sendable, CustomStringConvertible {
    public let name: String
    public var dualStack = false
    public var nodes = ["node-1"]
    public let steps: [Step]

    public var description: String { name }

    public init(_ name: String, dualStack: Bool = false, nodes: [String] = ["node-1"], steps: [Step]) {
        self.name = name
        self.dualStack = dualStack
        self.nodes = nodes
        self.steps = steps
    }

    /// A one-step case.
    public init(_ name: String, dualStack: Bool = false, nodes: [String] = ["node-1"],
         _ change: @escaping @Sendable (inout Cluster) -> Void, _ probes: Probe...) {
        self.init(name, dualStack: dualStack, nodes: nodes, steps: [Step(change: change, probes: probes)])
    }

    /// The case's cluster before any step, placed on `nodes` (or the case's own).
    public func initialCluster(nodes: [String]? = nil) -> Cluster {
        ConformanceModel.cluster(dualStack: dualStack, nodes: nodes ?? self.nodes)
    }
}
