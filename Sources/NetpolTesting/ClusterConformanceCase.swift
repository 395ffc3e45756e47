import NetpolEngine
import NetpolModel

/// One connection a step expects to be allowed or dropped: what upstream's
/// `PokeServer` checks (from a client pod to a server pod's address on a
/// protocol and port), or a connection to an address outside the pods.
public struct PairExpectation: Sendable, CustomStringConvertible {
    public var from: PodID
    /// `namespace/pod` or an IP address, as `Engine.endpoint` reads them.
    public var to: String
    public var proto: PortProtocol
    public var port: Int
    /// nil: the destination's first address (upstream probes `status.podIP`).
    public var family: IPAddress.Family?
    public var allowed: Bool

    public init(from: PodID, to: String, proto: PortProtocol, port: Int, family: IPAddress.Family? = nil, allowed: Bool) {
        self.from = from
        self.to = to
        self.proto = proto
        self.port = port
        self.family = family
        self.allowed = allowed
    }

    /// The connection, its destination read by `engine`.
    public func connection(in engine: Engine) throws(EngineError) -> Connection {
        Connection(from: .pod(from), to: try engine.endpoint(to), protocol: proto, port: .int(port), family: family)
    }

    public var description: String {
        "\(from) -> \(to) \(proto.rawValue)/\(port)\(family.map { " \($0.rawValue)" } ?? ""): \(allowed ? "allowed" : "dropped")"
    }
}

/// `from` reaches pod `to` on `proto`/`port` (`allowed`) or not: a transcription
/// of upstream's `PokeServer(from, proto, to.Status.PodIP, port, allowed)`.
public func poke(_ from: PodID, _ to: PodID, _ proto: PortProtocol, _ port: Int, _ allowed: Bool) -> PairExpectation {
    PairExpectation(from: from, to: to.description, proto: proto, port: port, allowed: allowed)
}

/// A connection from a pod to an address that is no pod's (a node, the outside).
public func poke(_ from: PodID, address: String, _ proto: PortProtocol, _ port: Int, _ allowed: Bool) -> PairExpectation {
    PairExpectation(from: from, to: address, proto: proto, port: port, allowed: allowed)
}

/// One step of a cluster conformance case: a change to the cluster (applied to
/// the state the previous steps left), then the connections to check, as pairs
/// and, where the case has them, as full matrices.
public struct ClusterStep: Sendable {
    /// Upstream's subtest name (`t.Run`), or what the step shows.
    public var name: String
    public var change: @Sendable (inout Cluster) -> Void
    public var expectations: [PairExpectation]
    public var matrices: [Probe]

    public init(_ name: String, change: @escaping @Sendable (inout Cluster) -> Void = { _ in },
                _ expectations: [PairExpectation] = [], matrices: [Probe] = []) {
        self.name = name
        self.change = change
        self.expectations = expectations
        self.matrices = matrices
    }
}

/// A case for ClusterNetworkPolicy: an ordered list of steps on one of two
/// clusters, for the engine and the lab to play.
public struct ClusterConformanceCase: Sendable, CustomStringConvertible {
    /// The cluster a case starts from.
    public enum World: Sendable {
        /// Upstream's houses (`CNPConformanceModel`).
        case houses
        /// The x/y/z model (`ConformanceModel`).
        case xyz
        /// The x/y/z model with dual-stack pods.
        case xyzDualStack
    }

    public let name: String
    /// Upstream's test (file and ShortName) for a transcription; nil for our own.
    public let upstream: String?
    public let world: World
    public let steps: [ClusterStep]

    public var description: String { name }

    public init(_ name: String, upstream: String? = nil, world: World, steps: [ClusterStep]) {
        self.name = name
        self.upstream = upstream
        self.world = world
        self.steps = steps
    }

    /// The cluster before any step, its pods placed on `nodes`.
    public func initialCluster(nodes: [String] = ["node-1"]) -> Cluster {
        switch world {
        case .houses: return CNPConformanceModel.cluster(nodes: nodes)
        case .xyz: return ConformanceModel.cluster(nodes: nodes)
        case .xyzDualStack: return ConformanceModel.cluster(dualStack: true, nodes: nodes)
        }
    }
}

extension Cluster {
    /// Changes the cluster network policy `name` in place, as a test patches it.
    public mutating func update(clusterPolicy name: String, _ change: (inout ClusterNetworkPolicy) -> Void) {
        guard var policy = clusterPolicies[name] else { return }
        change(&policy)
        clusterPolicies[name] = policy
    }

    /// The first address of pod `id`, as a test reads `status.podIP`.
    public func address(of id: PodID) -> String {
        pods[PodKey(id.namespace, id.name)]?.status.podIP ?? ""
    }
}
