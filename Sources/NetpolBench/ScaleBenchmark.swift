import Foundation
import Glibc
import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolWorkload

/// The cluster sizes of the benchmark suite.
public struct BenchmarkSize: Sendable {
    public var name: String
    public var generator: ClusterGenerator

    public static let s = BenchmarkSize(name: "S", generator: ClusterGenerator(namespaces: 10, pods: 100, policies: 20, nodes: 5, seed: 42))
    public static let m = BenchmarkSize(name: "M", generator: ClusterGenerator(namespaces: 20, pods: 1_000, policies: 200, nodes: 10, seed: 42))
    public static let l = BenchmarkSize(name: "L", generator: ClusterGenerator(namespaces: 100, pods: 10_000, policies: 2_000, nodes: 100, seed: 42))
    public static let xl = BenchmarkSize(name: "XL", generator: ClusterGenerator(namespaces: 1_000, pods: 100_000, policies: 10_000, nodes: 1_000, seed: 42))
    public static let all = [s, m, l, xl]

    public static func named(_ name: String) -> BenchmarkSize? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }
}

/// One measurement: what, how long (or how much), and the unit.
public struct Measurement: Sendable {
    public var name: String
    public var value: Double
    public var unit: String
}

/// Measures one cluster size: parse, matrix (small sizes), compile and render
/// for one node, a full kernel apply, incremental updates, and the process's
/// peak memory. Kernel steps run in a `netpol-bench-*` network namespace made
/// and removed here, and only as root.
public struct ScaleBenchmark {
    public var size: BenchmarkSize
    public var node = "node-0"
    /// Matrices are measured up to this many pods (a matrix is pods squared).
    public var matrixLimit = 1_000
    public var runner: any CommandRunner = ProcessRunner()

    public init(size: BenchmarkSize) {
        self.size = size
    }

    /// Every measurement as the median of `runs` runs (sizes and counts do not
    /// vary; peak memory is the process's, the largest).
    public func run(runs: Int) throws -> [Measurement] {
        let all = try (0..<max(1, runs)).map { _ in try runOnce() }
        return all[0].indices.map { index in
            var measurement = all[0][index]
            let values = all.map { $0[index].value }.sorted()
            measurement.value = measurement.name.hasPrefix("peak memory") ? values.last ?? 0 : values[values.count / 2]
            return measurement
        }
    }

    private func runOnce() throws -> [Measurement] {
        var results: [Measurement] = []
        let clock = ContinuousClock()
        func time<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let start = clock.now
            let value = try body()
            results.append(Measurement(name: name, value: (clock.now - start).milliseconds, unit: "ms"))
            return value
        }

        let objects = size.generator.objects()
        let yaml = Data(ManifestWriter.yaml(objects).utf8)
        results.append(Measurement(name: "manifest size", value: Double(yaml.count) / 1_048_576, unit: "MiB"))
        let set = time("parse (YAML to objects)") { () -> ManifestSet in
            var set = ManifestSet()
            ManifestLoader.load(data: yaml, file: "bench.yaml", into: &set)
            return set
        }
        let snapshot = Snapshot(set.objects.map(\.object))
        let engine = time("engine index (selectors matched once)") { Engine(snapshot: snapshot) }
        if size.generator.pods <= matrixLimit {
            _ = time("matrix (all pod pairs, TCP/80)") { engine.matrix(port: .int(80)) }
        }
        let plan = time("compile node-0 (plan from the index)") { RuleCompiler.plan(node: node, snapshot: snapshot, engine: engine) }
        let script = time("render nft script") { NftablesRenderer.script(plan) }
        results += [
            Measurement(name: "ruleset: local pods bound", value: Double(plan.bindings.count), unit: "bindings"),
            Measurement(name: "ruleset: chains", value: Double(plan.chains.count), unit: "chains"),
            Measurement(name: "ruleset: rules", value: Double(plan.ruleCount), unit: "rules"),
            Measurement(name: "ruleset: sets", value: Double(plan.sets.count), unit: "sets"),
            Measurement(name: "ruleset: set and map elements", value: Double(plan.elementCount), unit: "elements"),
            Measurement(name: "ruleset: nft script", value: Double(script.utf8.count) / 1_048_576, unit: "MiB"),
        ]
        if getuid() == 0 {
            results += try kernel(plan: plan, snapshot: snapshot, objects: objects, time: time)
        }
        results.append(Measurement(name: "peak memory (max RSS)", value: Self.peakMemoryMiB(), unit: "MiB"))
        return results
    }

    /// A full apply, then the four incremental updates, in a fresh namespace.
    private func kernel(plan: RulePlan, snapshot: Snapshot, objects: [KubeObject],
                        time: (String, () throws -> Void) throws -> Void) throws -> [Measurement] {
        let namespace = "netpol-bench-\(getpid())"
        try runner.check(Command("ip", ["netns", "add", namespace]))
        defer { _ = try? runner.run(Command("ip", ["netns", "delete", namespace])) }
        let programmer = NftablesProgrammer(runner: NetnsRunner(namespace: namespace, base: runner))
        try time("kernel: full apply (nft -f, one transaction)") { try programmer.replace(plan) }
        // What the agent does every --verify-interval: read the table back (nft -j) and compare it with the plan.
        let inProcess = NftablesProgrammer(runner: InProcessNftRunner(namespace: namespace, fallback: NetnsRunner(namespace: namespace, base: runner)))
        try inProcess.replace(plan)
        for (name, reader) in [("nft -j command", programmer), ("in-process libnftables", inProcess)] {
            try time("kernel: verify (read back and compare, \(name))") {
                let drift = try reader.verify()
                guard drift.isEmpty else { throw DataplaneError(.readBackMismatch, "verify found drift right after an apply: \(drift)") }
            }
        }

        // What the agent does per event: the planner takes the change, the
        // in-process programmer writes its difference. Each change is undone
        // after, which measures the opposite change too (a pod deleted, ...).
        var results: [Measurement] = []
        let clock = ContinuousClock()
        var start = clock.now
        var planner = NodePlanner(node: node, snapshot: snapshot)
        results.append(Measurement(name: "planner: whole build", value: (clock.now - start).milliseconds, unit: "ms"))
        try inProcess.replace(planner.plan)
        for update in IncrementalUpdate.allCases {
            for (name, change) in zip([update.rawValue, update.undone], update.changes(in: objects, node: node)) {
                start = clock.now
                planner.apply(change)
                let diff = planner.commit(now: .zero)
                let planned = clock.now
                let outcome = try inProcess.apply(diff)
                guard outcome == .incremental(diff) else { throw DataplaneError(.readBackMismatch, "\(name) fell back to a whole replace: \(outcome)") }
                results += [
                    Measurement(name: "\(name): elements changed", value: Double(diff.elementCount), unit: "elements"),
                    Measurement(name: "\(name): rules changed", value: Double(diff.ruleCount), unit: "rules"),
                    Measurement(name: "\(name): planner", value: (planned - start).milliseconds, unit: "ms"),
                    Measurement(name: "\(name): kernel transaction (libnftables)", value: (clock.now - planned).milliseconds, unit: "ms"),
                ]
            }
        }
        return results
    }

    static func peakMemoryMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

/// The single changes the incremental benchmark makes to a cluster, each with
/// the change that undoes it.
public enum IncrementalUpdate: String, CaseIterable, Sendable {
    case podAdded = "one pod added"
    case podRelabelled = "one pod relabelled"
    case policyAdded = "one policy added"
    case namespaceRelabelled = "one namespace relabelled"

    /// What undoing it amounts to.
    var undone: String {
        switch self {
        case .podAdded: return "that pod deleted"
        case .podRelabelled: return "relabelled back"
        case .policyAdded: return "that policy deleted"
        case .namespaceRelabelled: return "namespace relabelled back"
        }
    }

    /// The change and the one that undoes it. Each touches the first pod on
    /// `node`, so that the node's ruleset has something to do.
    func changes(in objects: [KubeObject], node: String) -> [ClusterChange] {
        guard let local = objects.lazy.compactMap({ object -> Pod? in
            if case .pod(let pod) = object, pod.spec.nodeName == node { return pod } else { return nil }
        }).first else { return [] }
        switch self {
        case .podAdded:
            // A twin of the local pod, with a fresh address.
            var pod = local
            pod.metadata.name += "-twin"
            pod.status = PodStatus(phase: "Running", podIP: "10.255.255.254", podIPs: ["10.255.255.254"])
            return [.upsert(.pod(pod)), .delete(ObjectReference(kind: "Pod", namespace: pod.namespace, name: pod.name))]
        case .podRelabelled:
            // Another tier: other peer sets, maybe another chain.
            var pod = local
            pod.metadata.labels["tier"] = pod.metadata.labels["tier"] == "web" ? "db" : "web"
            return [.upsert(.pod(pod)), .upsert(.pod(local))]
        case .policyAdded:
            let policy = NetworkPolicy(
                metadata: ObjectMeta(name: "bench-added", namespace: local.namespace),
                spec: NetworkPolicySpec(podSelector: LabelSelector(matchLabels: ["app": local.labels["app"] ?? ""]),
                                        ingress: [NetworkPolicyIngressRule(ports: [NetworkPolicyPort(port: .int(8443))],
                                                                           from: [NetworkPolicyPeer(namespaceSelector: LabelSelector(matchLabels: ["env": "prod"]))])]))
            return [.upsert(.networkPolicy(policy)), .delete(ObjectReference(kind: "NetworkPolicy", namespace: policy.namespace, name: policy.name))]
        case .namespaceRelabelled:
            guard let namespace = objects.lazy.compactMap({ object -> Namespace? in
                if case .namespace(let namespace) = object, namespace.name == "ns-1" { return namespace } else { return nil }
            }).first else { return [] }
            var relabelled = namespace
            relabelled.metadata.labels["team"] = namespace.metadata.labels["team"] == "team-0" ? "team-2" : "team-0"
            return [.upsert(.namespace(relabelled)), .upsert(.namespace(namespace))]
        }
    }
}
