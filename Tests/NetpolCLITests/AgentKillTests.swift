import Foundation
import Glibc
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolTesting
import NetpolWorkload
import Testing

/// Issue 11: the real `netpol agent`, killed with SIGKILL at random moments of a
/// churn of its manifests and started again each time, never opens an isolated
/// pod, and the last one converges to the manifests. Real packets on a lab node.
@Suite("netpol agent killed at random moments", .enabled(if: getuid() == 0, "needs root to build a lab (CI runs as root)"), .serialized)
struct AgentKillTests {
    /// Kills per backend.
    static let kills = 30

    @Test(arguments: Backend.allCases)
    func killedAnywhereItNeverOpensAnIsolatedPodAndTheNextAgentConverges(backend: Backend) throws {
        let clock = ContinuousClock()
        let started = clock.now
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededGenerator(seed: seed)
        var cluster = KillChurn.initial()
        let lab = try Lab(snapshot: cluster.snapshot, backend: backend, iptablesMode: .nft)
        defer { lab.teardown() }
        // A denied probe waits twice this long; the lab's links answer in well under a millisecond.
        lab.probeTimeout = .milliseconds(150)
        let node = try #require(lab.runner(node: "node-1") as? NetnsRunner).namespace
        let manifests = try ManifestDirectory()
        defer { manifests.remove() }
        try manifests.write(cluster)
        let agent = { () throws -> AgentProcess in
            try AgentProcess(["agent", "--node", "node-1", "--source", "files:\(manifests.directory)", "--netns", node,
                              "--backend", backend.rawValue, "--iptables-mode", "nft", "--metrics-address", "127.0.0.1:0",
                              "--log-format", "json", "--log-level", "debug"])
        }

        // A denied probe waits for its timeout (twice), so each watch mostly waits: several
        // watch the same pairs to probe them often. The allowed pair shares a thread with
        // a denied one, which paces it.
        let watches = (0..<2).flatMap { _ in KillChurn.denied.map { StablePairWatch(lab: lab, pairs: [$0]) } }
            + [StablePairWatch(lab: lab, pairs: [KillChurn.denied[0], KillChurn.allowed])]
        var changes = 0
        func change() throws {
            // A change that changes nothing writes no file: draw again.
            let before = (cluster.pods, cluster.policies)
            for _ in 0..<10 where cluster.pods == before.0 && cluster.policies == before.1 { KillChurn.change(&cluster, using: &random) }
            try manifests.write(cluster)
            changes += 1
        }
        var moments: [AgentProcess.Moment: Int] = [:]
        func kill(_ agent: AgentProcess) {
            moments[agent.kill(), default: 0] += 1
            // No agent for a moment: the rules it left must hold meanwhile.
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.3, using: &random))
        }
        for round in 0..<Self.kills {
            switch round % 3 {
            case 0:
                // While starting: the first sync replaces what the last agent left.
                try change()
                let running = try agent()
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.6, using: &random))
                kill(running)
            case 1:
                // During a burst of changes, some seen and synced, some not yet, right after the agent saw one.
                let running = try agent()
                running.waitForLog("first sync: rules in force", timeout: .seconds(10))
                let burst = Int.random(in: 3...6, using: &random), killAfter = Int.random(in: 1...burst, using: &random)
                for number in 1...burst {
                    try change()
                    if number == killAfter { break }
                    Thread.sleep(forTimeInterval: Double.random(in: 0...0.25, using: &random))
                }
                running.waitForLog("manifests changed", timeout: .seconds(3))
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.02, using: &random))
                kill(running)
            default:
                // Right after the agent saw a change: in the middle of its sync.
                let running = try agent()
                running.waitForLog("first sync: rules in force", timeout: .seconds(10))
                try change()
                running.waitForLog("manifests changed", timeout: .seconds(3))
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.02, using: &random))
                kill(running)
            }
        }
        let probes = watches.map(\.probes).reduce(0, +)
        let wrong = watches.flatMap { $0.stop() }
        #expect(wrong.isEmpty, "seed \(seed): \(wrong.count) probes went the wrong way: \(Set(wrong).sorted().joined(separator: "; "))")
        #expect(probes >= 100, "seed \(seed): only \(probes) probes ran")

        // The last agent starts from whatever the last kill left, and converges.
        let last = try agent()
        defer { last.stop() }
        #expect(last.waitForLog("first sync: rules in force", timeout: .seconds(20)), "seed \(seed): \(last.log)")
        lab.judge(by: cluster.snapshot)
        for port in [80, 81] {
            let result = try lab.run(port: .int(port), protocol: .tcp)
            #expect(result.mismatches.map { "\($0.from) -> \($0.to)" } == [], "seed \(seed), port \(port)")
        }
        let seconds = Double(started.duration(to: clock.now).components.seconds)
        let kills = AgentProcess.Moment.allCases.map { "\(moments[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        print("agent kill test, \(backend): \(Self.kills) kills (\(kills)), \(changes) changes, \(probes) probes, \(Int(seconds)) s, seed \(seed)")
    }
}

/// The manifests the agent reads and their churn. Whatever the churn does, the
/// pods of x stay isolated for ingress and nothing ever lets namespace z reach
/// them; y/a always reaches x/b on port 80. x/a and x/c share a chain while x/a
/// has no role, so a relabel moves x/a out of a chain that stays (issue 11's case).
enum KillChurn {
    private static func id(_ namespace: String, _ pod: String) -> PodID { PodID(namespace: namespace, name: pod) }

    static let denied = [
        StablePairWatch.Pair(from: id("z", "c"), to: id("x", "a"), port: 80, allowed: false),
        StablePairWatch.Pair(from: id("z", "b"), to: id("x", "a"), port: 80, allowed: false),
        StablePairWatch.Pair(from: id("z", "c"), to: id("x", "b"), port: 80, allowed: false),
    ]
    static let allowed = StablePairWatch.Pair(from: id("y", "a"), to: id("x", "b"), port: 80, allowed: true)

    static func initial() -> Cluster {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("isolate-x", in: "x", types: [.ingress]))
        cluster.apply(keepYA(0))
        return cluster
    }

    /// One random change: a pod of x moves to another chain (role), a peer of
    /// namespace y changes label, a policy comes, goes or changes.
    static func change(_ cluster: inout Cluster, using random: inout SeededGenerator) {
        let roles = [nil, "web", "db"]
        switch Int.random(in: 0..<8, using: &random) {
        case 0, 1, 2, 3:
            // Mostly x/a: moving between chains is where an isolated pod could slip out.
            let pod = ["a", "a", "a", "b"].randomElement(using: &random) ?? "a"
            let role = roles.randomElement(using: &random) ?? nil
            cluster.relabel(pod: pod, in: "x", ["pod": pod].merging(role.map { ["role": $0] } ?? [:]) { $1 })
        case 4:
            cluster.relabel(pod: "c", in: "y", ["pod": ["b", "c"].randomElement(using: &random) ?? "c"])
        case 5:
            if cluster.policies[PodKey("x", "web")] == nil {
                cluster.apply(networkPolicy("web", in: "x", selecting: .labels(["role": "web"]), ingress: [
                    .init(ports: [.tcp(80)], from: [.pods(.labels(["pod": "b"]), inNamespaces: .labels(["ns": "y"]))]),
                    .init(from: [.pods(.labels(["role": "web"]))]),
                ]))
            } else {
                cluster.delete(policy: "web", in: "x")
            }
        case 6:
            switch Int.random(in: 0..<3, using: &random) {
            case 0: cluster.delete(policy: "db", in: "x")
            case 1: cluster.apply(networkPolicy("db", in: "x", selecting: .labels(["role": "db"]), ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "y"]))])]))
            default: cluster.apply(networkPolicy("db", in: "x", selecting: .labels(["role": "db"]), ingress: [.init(from: [.namespaces(.labels(["ns": "y"]))])]))
            }
        default:
            cluster.apply(keepYA(Int.random(in: 0..<3, using: &random)))
        }
    }

    /// x/b takes y/a on port 80 in every variant, and more in some.
    private static func keepYA(_ variant: Int) -> NetworkPolicy {
        let ingress: NetworkPolicyIngressRule
        switch variant {
        case 0: ingress = .init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "y"]))])
        case 1: ingress = .init(ports: [.tcp(80), .tcp(81)], from: [.namespaces(.labels(["ns": "y"]))])
        default: ingress = .init(from: [.pods(.labels(["pod": "a"]), inNamespaces: .labels(["ns": "y"]))])
        }
        return networkPolicy("keep-y-a", in: "x", selecting: .labels(["pod": "b"]), ingress: [ingress])
    }
}

/// A directory of manifests (`netpol-kill-*` in the temporary directory): one
/// file for namespaces, one for pods, one per policy. Each file is written
/// beside it and renamed in, so the agent never reads half a file.
final class ManifestDirectory {
    let root: URL
    var directory: String { root.appendingPathComponent("manifests").path }
    private var written: [String: String] = [:]

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-kill-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("manifests"), withIntermediateDirectories: true)
    }

    /// Writes the files whose content changed and removes those of deleted policies.
    func write(_ cluster: Cluster) throws {
        var files = [
            "namespaces.yaml": ManifestWriter.yaml(cluster.namespaces.keys.sorted().compactMap { cluster.namespaces[$0] }.map(KubeObject.namespace)),
            "pods.yaml": ManifestWriter.yaml(cluster.pods.values.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }.map(KubeObject.pod)),
        ]
        for policy in cluster.policies.values {
            files["policy-\(policy.namespace)-\(policy.name).yaml"] = ManifestWriter.yaml([.networkPolicy(policy)])
        }
        for (name, content) in files.sorted(by: { $0.key < $1.key }) where written[name] != content {
            let staged = root.appendingPathComponent(name)
            try Data(content.utf8).write(to: staged)
            guard rename(staged.path, directory + "/" + name) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        for name in written.keys where files[name] == nil {
            try FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        written = files
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

/// The built `netpol` binary running in the background, its log in a file.
final class AgentProcess {
    private let process = Process()
    /// The agent's log and its TMPDIR: a killed agent cannot remove the scratch
    /// directories of the commands it had in flight (`netpol-run-*`), so they go
    /// with this directory.
    private let directory: URL
    private let logFile: URL
    private let launched = ContinuousClock.now

    init(_ arguments: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-kill-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logFile = directory.appendingPathComponent("agent.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        defer { try? handle.close() }
        process.executableURL = CLIRunner.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": directory.path]) { _, own in own }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
    }

    /// Removes the log and what the agent left in its TMPDIR, once it has exited.
    deinit {
        if process.isRunning { _ = kill() }
        try? FileManager.default.removeItem(at: directory)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Waits, at most `timeout`, until the log has one more line with `text`
    /// than when it was last waited for; true if it came.
    @discardableResult
    func waitForLog(_ text: String, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        let wanted = (seen[text] ?? 0) + 1
        while ContinuousClock.now < deadline, process.isRunning {
            let count = log.components(separatedBy: text).count - 1
            if count >= wanted {
                seen[text] = count
                return true
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    private var seen: [String: Int] = [:]

    /// Where the agent was when it died, by the last thing it logged.
    enum Moment: String, CaseIterable {
        /// Before its first sync finished (the replace of what the last agent left).
        case starting = "before the first sync"
        /// After it saw a change of the manifests, before that sync finished.
        case syncing = "in a later sync"
        /// With the kernel in step with what it had seen.
        case idle = "idle"
    }

    /// SIGKILL for the agent and every process it started (an `ipset` or
    /// `iptables-restore` in flight dies with it, as in a container killed
    /// whole); stopped first, so that it starts no other meanwhile.
    func kill() -> Moment {
        let pid = process.processIdentifier
        Glibc.kill(pid, SIGSTOP)
        for child in Self.descendants(of: pid) { Glibc.kill(child, SIGKILL) }
        Glibc.kill(pid, SIGKILL)
        process.waitUntilExit()
        let lines = log.split(separator: "\n")
        guard lines.contains(where: { $0.contains("first sync: rules in force") }) else { return .starting }
        let last = lines.last { $0.contains("\"msg\":\"manifests changed") || $0.contains("\"msg\":\"synced") || $0.contains("\"msg\":\"first sync") }
        return last?.contains("manifests changed") == true ? .syncing : .idle
    }

    /// SIGTERM, as at the end of a run: the agent leaves its rules in force.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Every process below `pid`, from /proc (children before their own children).
    private static func descendants(of pid: pid_t) -> [pid_t] {
        var parents: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[parent, default: []].append(child) }
        }
        var found: [pid_t] = []
        var queue = [pid]
        while let next = queue.popLast() {
            let children = parents[next] ?? []
            found += children
            queue += children
        }
        return found
    }
}
