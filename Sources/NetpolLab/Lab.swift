import Foundation
import Glibc
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRules

/// A single-host stand-in for a cluster: real network namespaces for nodes and
/// pods, real nftables rules on every node as netpol computes them, real
/// servers in every pod, and real probes between them. Its verdicts are the
/// kernel's, set beside the engine's.
///
/// Needs root, `ip` and `nft`. Everything lives in namespaces named
/// `netpol-lab-PID-N-*`; `teardown()` removes them (also called on deinit), and
/// a new lab removes those of labs whose process is gone.
public final class Lab {
    /// What one run of probes saw.
    public struct Result: Sendable {
        public var `protocol`: PortProtocol
        public var port: IntOrString
        public var pods: [PodID]
        public var expected: [[Bool]]
        public var observed: [[Bool]]
        /// Pairs that could not be probed: a port name the destination does not
        /// declare, for a pod reaching itself (the engine allows it; there is no
        /// port to try). Their observed value is the expected one.
        public var unprobed: [(from: PodID, to: PodID)]

        public var mismatches: [(from: PodID, to: PodID)] {
            pods.indices.flatMap { i in
                pods.indices.filter { expected[i][$0] != observed[i][$0] }.map { (pods[i], pods[$0]) }
            }
        }
    }

    /// Pods with no `spec.nodeName` run on a node of this name.
    public static let defaultNode = "default"

    private let runner: any CommandRunner
    private let topology: LabTopology
    private let servers: PodServers
    private var engine: Engine
    private var programmers: [any RuleProgrammer] = []
    /// Each node's plan, kept up to date the way the agent keeps it, and the
    /// snapshot it was last brought to.
    private var planners: [NodePlanner] = []
    private var programmed: Snapshot?
    private var tornDown = false
    /// How long a probe waits for an answer. A probe that gets none is tried once
    /// more before it counts as dropped, so a slow answer is never taken for a drop.
    public var probeTimeout: Duration = .milliseconds(750)

    /// Builds the namespaces, links, routes and servers for `snapshot`'s pods
    /// (those with an address, not on the host network) and programs every node
    /// with `backend`.
    /// - Parameter only: build just these pods (the rules still come from the
    ///   whole snapshot); nil builds every pod.
    public init(snapshot: Snapshot, backend: Backend = .nftables, iptablesMode: IptablesProgrammer.Mode? = nil,
                only: Set<PodID>? = nil, runner: any CommandRunner = ProcessRunner()) throws {
        guard getuid() == 0 else { throw LabError(.unavailable, "the lab needs root: it creates network namespaces and programs nftables") }
        let tools = backend == .nftables ? ["ip": "iproute2", "nft": "nftables"] : ["ip": "iproute2", "iptables": "iptables", "ipset": "ipset"]
        for (tool, package) in tools.sorted(by: { $0.key < $1.key }) where ProcessRunner.locate(tool) == nil {
            throw LabError(.unavailable, "\(tool) not found; install \(package)")
        }
        self.runner = runner
        NetworkNamespace.removeOrphans(runner: runner)
        let placed = Self.placed(snapshot)
        engine = Engine(snapshot: placed)
        let names = LabNames()
        let labPods = engine.matrixPods.filter { only?.contains($0) ?? true }.compactMap { id -> (PodID, Pod)? in
            placed.pods.first { $0.namespace == id.namespace && $0.name == id.name }.map { (id, $0) }
        }
        let nodes = Array(Set(labPods.map(\.1.spec.nodeName))).sorted()
        let pods = labPods.enumerated().map { index, entry in
            LabTopology.LabPod(
                id: entry.0, namespace: names.pod(index), node: nodes.firstIndex(of: entry.1.spec.nodeName) ?? 0,
                addresses: entry.1.status.addresses.compactMap { IPAddress($0) },
                ports: entry.1.spec.containers.flatMap(\.ports).map { ($0.protocol, $0.containerPort) })
        }
        topology = LabTopology(names: names, nodes: nodes, pods: pods)
        programmers = nodes.indices.map { backend.programmer(runner: NetnsRunner(namespace: names.node($0), base: runner), iptablesMode: iptablesMode) }
        do {
            try topology.build(runner: runner)
            servers = try PodServers(pods: pods.map { pod in
                (pod.namespace, Array(Set(pod.addresses.map(\.family))).sorted { $0.rawValue < $1.rawValue }, Self.uniquePorts(pod.ports))
            })
        } catch {
            topology.teardown(runner: runner)
            throw error
        }
        do {
            try awaitConnectivity()
            try program(snapshot)
        } catch {
            teardown()
            throw error
        }
    }

    deinit { teardown() }

    /// The lab's nodes, by `spec.nodeName`.
    public var nodes: [String] { topology.nodes }

    /// The network namespaces the lab made (`ip netns list` shows them while it runs).
    public var namespaces: [String] { topology.allNamespaces }

    /// Runs commands in the network namespace of `node`, e.g. to load a ruleset
    /// netpol did not compute (a baseline to compare with).
    public func runner(node: String) -> (any CommandRunner)? {
        topology.nodes.firstIndex(of: node).map { NetnsRunner(namespace: topology.names.node($0), base: runner) }
    }

    /// The two lab pods of a connection and the destination's address in a
    /// family the source has too: what traffic between them is sent to.
    func path(from source: PodID, to destination: PodID) throws -> (from: LabTopology.LabPod, to: LabTopology.LabPod, address: IPAddress) {
        let from = try labPod(source), to = try labPod(destination)
        guard let address = to.addresses.first(where: { address in from.addresses.contains { $0.family == address.family } }) else {
            throw LabError("\(source) and \(destination) share no address family")
        }
        return (from, to, address)
    }

    /// The lab pod `id`, to measure traffic from or to.
    func labPod(_ id: PodID) throws -> LabTopology.LabPod {
        guard let pod = topology.pods.first(where: { $0.id == id }) else { throw LabError("no lab pod \(id)") }
        return pod
    }

    /// Programs every node with the rules netpol computes for `snapshot`, the
    /// way the agent does: the first time whole, later as the changes from the
    /// last snapshot, through each node's `NodePlanner`, written as a
    /// difference. The snapshot may change policies and labels; pods, their
    /// nodes and addresses must stay those the lab was built with. Returns what
    /// each node's programmer wrote (a fallback to a whole replace is a finding).
    @discardableResult
    public func program(_ snapshot: Snapshot) throws -> [ApplyOutcome] {
        judge(by: snapshot)
        let placed = Self.placed(snapshot)
        let last = programmed
        // Until this one succeeds, the next starts over whole.
        programmed = nil
        let outcomes: [ApplyOutcome]
        if let last {
            let changes = placed.changes(from: last)
            outcomes = try programmers.indices.map { node in
                for change in changes { planners[node].apply(change) }
                return try programmers[node].apply(planners[node].commit(now: .zero))
            }
        } else {
            planners = topology.nodes.map { NodePlanner(node: $0, snapshot: placed) }
            outcomes = try zip(planners, programmers).map { planner, programmer in
                try programmer.replace(planner.plan)
                return .replaced(fallback: nil)
            }
        }
        programmed = placed
        return outcomes
    }

    /// Judges the next runs by `snapshot` without programming anything: for
    /// when something else, such as the agent, programs the nodes.
    public func judge(by snapshot: Snapshot) {
        engine = Engine(snapshot: Self.placed(snapshot))
    }

    /// Probes every pair of pods on `port` and `protocol`, over `family` (or each
    /// destination's first family), beside the engine's matrix.
    public func run(port: IntOrString, protocol proto: PortProtocol = .tcp, family: IPAddress.Family? = nil) throws -> Result {
        guard proto == .tcp || proto == .udp else {
            throw LabError("\(proto) cannot be probed here: this kernel has no SCTP (the rules for it are still rendered and loaded)")
        }
        let matrix = engine.matrix(port: port, protocol: proto, family: family)
        var observed = matrix.allowed
        var probes: [Prober.Probe] = []
        var cells: [(Int, Int)] = []
        var unprobed: [(from: PodID, to: PodID)] = []
        for (i, source) in topology.pods.enumerated() {
            for (j, destination) in topology.pods.enumerated() {
                guard let number = resolve(port, proto, on: destination.id),
                      let address = Self.address(from: source, to: destination, family: family) else {
                    if i == j { unprobed.append((source.id, destination.id)) } else { observed[i][j] = false }
                    continue
                }
                probes.append(Prober.Probe(namespace: source.namespace, destination: address, port: number))
                cells.append((i, j))
            }
        }
        let reached = try confirmed(probes, proto)
        for ((i, j), result) in zip(cells, reached) { observed[i][j] = result }
        return Result(protocol: proto, port: port, pods: topology.pods.map(\.id), expected: matrix.allowed, observed: observed, unprobed: unprobed)
    }

    /// One probe from one pod to another, for loops that watch a pair over time.
    public func probe(from source: PodID, to destination: PodID, port: Int, protocol proto: PortProtocol = .tcp) throws -> Bool {
        guard let from = topology.pods.first(where: { $0.id == source }), let to = topology.pods.first(where: { $0.id == destination }),
              let address = Self.address(from: from, to: to, family: nil) else {
            throw LabError("no lab pods \(source) and \(destination) with a common address family")
        }
        return try confirmed([Prober.Probe(namespace: from.namespace, destination: address, port: port)], proto)[0]
    }

    /// Runs the probes, then once more those that got no answer.
    private func confirmed(_ probes: [Prober.Probe], _ proto: PortProtocol) throws -> [Bool] {
        let prober = Prober(timeout: probeTimeout)
        var reached = try prober.run(probes, protocol: proto)
        let silent = reached.indices.filter { !reached[$0] }
        guard !silent.isEmpty else { return reached }
        for (index, result) in zip(silent, try prober.run(silent.map { probes[$0] }, protocol: proto)) {
            reached[index] = result
        }
        return reached
    }

    /// Probes every pair over every shared family, before any rule is loaded,
    /// until all answer. A new network needs a moment (in the first second some
    /// first packets across nodes are lost); a network that never connects is
    /// an environment error, not a policy verdict.
    private func awaitConnectivity() throws {
        var pending: [Prober.Probe] = topology.pods.flatMap { source in
            topology.pods.flatMap { destination in
                destination.addresses.filter { address in source.addresses.contains { $0.family == address.family } }
                    .map { Prober.Probe(namespace: source.namespace, destination: $0, port: 9) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while !pending.isEmpty, ContinuousClock.now < deadline {
            let reached = try Prober(timeout: .milliseconds(500)).run(pending, protocol: .tcp)
            pending = zip(pending, reached).filter { !$0.1 }.map(\.0)
        }
        guard pending.isEmpty else {
            throw LabError("the lab network did not come up: \(pending.count) pod pairs cannot connect even with no rules loaded")
        }
    }

    /// Removes the namespaces of every lab of this process, also one still being
    /// built: for signal handlers, which cannot wait for a lab to finish.
    public static func removeAllOfThisProcess(runner: any CommandRunner = ProcessRunner()) {
        NetworkNamespace.removeOwn(runner: runner)
    }

    /// Stops the servers and removes every namespace of the lab. Idempotent.
    public func teardown() {
        guard !tornDown else { return }
        tornDown = true
        servers.stop()
        topology.teardown(runner: runner)
    }

    // MARK: - Helpers

    /// The snapshot with pods lacking a node placed on `defaultNode`.
    private static func placed(_ snapshot: Snapshot) -> Snapshot {
        Snapshot(snapshot.namespaces.map(KubeObject.namespace) + snapshot.nodes.map(KubeObject.node) + snapshot.policies.map(KubeObject.networkPolicy)
                 + snapshot.clusterPolicies.map(KubeObject.clusterNetworkPolicy) + snapshot.pods.map { pod in
            var pod = pod
            if pod.spec.nodeName.isEmpty { pod.spec.nodeName = defaultNode }
            return .pod(pod)
        })
    }

    private func resolve(_ port: IntOrString, _ proto: PortProtocol, on pod: PodID) -> Int? {
        switch port {
        case .int(let number): return number
        case .string(let name): return engine.index.podNumbers[pod].flatMap { engine.index.pods[$0].port(named: name, protocol: proto) }
        }
    }

    /// The destination address a connection uses: of `family`, or the
    /// destination's first family that the source also has (as the engine judges it).
    private static func address(from source: LabTopology.LabPod, to destination: LabTopology.LabPod, family: IPAddress.Family?) -> IPAddress? {
        let sourceFamilies = Set(source.addresses.map(\.family))
        if let family {
            return sourceFamilies.contains(family) ? destination.addresses.first { $0.family == family } : nil
        }
        return destination.addresses.first { sourceFamilies.contains($0.family) }
    }

    private static func uniquePorts(_ ports: [(PortProtocol, Int)]) -> [(PortProtocol, Int)] {
        var seen = Set<String>()
        return ports.filter { seen.insert("\($0.0)/\($0.1)").inserted }
    }
}
