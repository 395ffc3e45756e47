import Foundation
import Synchronization

/// What the agent process has used so far, from /proc.
public struct AgentUsage: Sendable {
    /// User and system CPU time, the agent's waited-for children included.
    public var cpuSeconds: Double
    /// VmHWM: the peak resident set.
    public var peakMiB: Double
    /// VmRSS: the resident set now.
    public var residentMiB: Double
}

/// The real `netpol agent` binary, run as a child of the benchmark so that its
/// CPU time and memory are its own: in one process, the fake API server's
/// event loops (which the client's share) and the benchmark's allocations would
/// be counted with the agent's. The agent logs JSON at debug level, which gives
/// a line for every sync, "nothing changed" ones included; the benchmark takes
/// the moment a sync line arrives as the moment the kernel held that version.
final class AgentProcess: Sendable {
    /// One sync the agent logged.
    struct Sync: Sendable {
        /// The agent's store version the kernel now holds (every accepted change counts one).
        var version: Int
        /// The agent's own duration for it: compile, difference, kernel transaction.
        var milliseconds: Double
        /// When its log line reached the benchmark.
        var arrived: ContinuousClock.Instant
    }

    private struct Log {
        var syncs: [Sync] = []
        /// When each kind's "listed" line arrived.
        var listed: [ContinuousClock.Instant] = []
        /// The last lines, to say why the agent stopped.
        var tail: [String] = []
    }

    let started: ContinuousClock.Instant
    private let process: Process
    private let log = Mutex(Log())

    /// Starts `netpol agent` for `node` on the API server `kubeconfig` names,
    /// programming nftables in network namespace `namespace`, with
    /// MALLOC_ARENA_MAX=2 as the DaemonSet runs it and verify off (its periodic
    /// read-back is not a cost of changes; scripts/agent-memory.sh measures it).
    init(binary: URL, kubeconfig: String, namespace: String, node: String) throws {
        process = Process()
        process.executableURL = binary
        process.arguments = [
            "agent", "--node", node, "--kubeconfig", kubeconfig, "--netns", namespace, "--metrics-address", "127.0.0.1:0",
            "--verify-interval", "off", "--log-format", "json", "--log-level", "debug",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["MALLOC_ARENA_MAX": "2"]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        started = ContinuousClock.now
        try process.run()
        let handle = errors.fileHandleForReading
        let reader = Thread { [self] in read(handle) }
        reader.name = "netpol-bench-agent-log"
        reader.start()
    }

    var pid: Int32 { process.processIdentifier }
    var syncs: [Sync] { log.withLock { $0.syncs } }
    var listed: [ContinuousClock.Instant] { log.withLock { $0.listed } }

    /// Waits for the first sync at `version` or later.
    func waitForSync(reaching version: Int, timeout: Duration) async throws -> Sync {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let reached = log.withLock { log -> Sync? in
                guard let last = log.syncs.last, last.version >= version else { return nil }
                return log.syncs.reversed().prefix { $0.version >= version }.last
            }
            if let reached { return reached }
            guard process.isRunning else { throw BenchmarkError("the agent exited (\(process.terminationStatus)): \(lastLines)") }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw BenchmarkError("the agent held no version \(version) after \(timeout); its last lines: \(lastLines)")
    }

    /// CPU time from /proc/PID/stat, memory from /proc/PID/status.
    func usage() throws -> AgentUsage {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces), from field 3 (state) on.
        let fields = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
        guard fields.count > 14 else { throw BenchmarkError("cannot read /proc/\(pid)/stat: \(stat)") }
        // utime, stime, cutime, cstime: fields 14 to 17, in clock ticks.
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func mebibytes(_ name: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            let kibibytes = line?.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
            return kibibytes / 1024
        }
        return AgentUsage(cpuSeconds: ticks / Double(sysconf(Int32(_SC_CLK_TCK))), peakMiB: mebibytes("VmHWM"), residentMiB: mebibytes("VmRSS"))
    }

    /// SIGTERM, as the kubelet stops it; SIGKILL if it has not exited within 30 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    private var lastLines: String { log.withLock { $0.tail.joined(separator: "\n") } }

    /// Reads log lines until the agent closes standard error.
    private func read(_ handle: FileHandle) {
        var pending = Data()
        while true {
            let chunk = handle.availableData
            let arrived = ContinuousClock.now
            guard !chunk.isEmpty else { return }
            pending.append(chunk)
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                record(pending[pending.startIndex..<end], arrived: arrived)
                pending.removeSubrange(pending.startIndex...end)
            }
        }
    }

    private func record(_ line: Data, arrived: ContinuousClock.Instant) {
        let fields = (try? JSONSerialization.jsonObject(with: line)) as? [String: String] ?? [:]
        let message = fields["msg"] ?? ""
        log.withLock { log in
            log.tail = Array((log.tail + [String(decoding: line, as: UTF8.self)]).suffix(5))
            if message == "listed" { log.listed.append(arrived) }
            if message.hasPrefix("first sync") || message.hasPrefix("synced"),
               let version = fields["version"].flatMap({ Int($0) }), let milliseconds = fields["ms"].flatMap({ Double($0) }) {
                log.syncs.append(Sync(version: version, milliseconds: milliseconds, arrived: arrived))
            }
        }
    }
}
