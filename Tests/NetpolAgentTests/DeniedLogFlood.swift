import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import Testing

/// Denied SYNs at a steady pace, so that a test sees the kernel's log rate
/// over time and not only its burst: `pace` a second for `duration`, at most
/// `limit` in all, sent in slices a few milliseconds apart, the slices taking
/// turns among `sources`. A sender slower than the pace falls behind rather
/// than running over time.
struct SteadyFlood {
    var sources: [PodID]
    var destination: PodID
    var pace: Int
    var duration: Duration
    var limit: Int

    /// How many SYNs went out, and the time from before the first to after the last.
    func send(in lab: Lab) async throws -> (sent: Int, elapsed: Duration) {
        let started = ContinuousClock.now
        let slice = max(1, pace / 100)
        var (attempted, sent, turn) = (0, 0, 0)
        while attempted < limit {
            let elapsed = started.duration(to: .now)
            guard elapsed < duration else { break }
            let due = min(limit, Int(Double(pace) * elapsed.seconds))
            guard due > attempted else {
                try await Task.sleep(for: .milliseconds(2))
                continue
            }
            let count = min(due - attempted, slice)
            sent += try lab.synFlood(from: sources[turn % sources.count], to: destination, port: 80, count: count, family: .ipv4)
            attempted += count
            turn += 1
        }
        return (sent, started.duration(to: .now))
    }
}

/// What this process has used so far: CPU time, that of the denied-connection
/// log's own threads (reader and writer), and its peak resident memory.
struct ResourceUse {
    /// User and system CPU seconds of every thread, the lab's senders included.
    var cpu: Double
    /// User and system CPU seconds of the denied log's threads; nil when
    /// none runs under the names the agent gives them.
    var logThreadsCPU: Double?
    /// Resident set size now, in MB.
    var rss: Double
    /// Peak resident set size so far, in MB.
    var peakRSS: Double

    /// The kernel's names (`comm`) of the denied log's reader and writer threads.
    static let logThreadNames: Set<String> = ["netpol-logread", "netpol-logwrite"]

    static func now() -> ResourceUse {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ResourceUse(
            cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime), logThreadsCPU: threadCPU(named: logThreadNames),
            rss: residentKilobytes() / 1024, peakRSS: Double(usage.ru_maxrss) / 1024)
    }

    /// `VmRSS` of /proc/self/status, in kB; 0 when it cannot be read.
    static func residentKilobytes() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
    }

    /// CPU seconds of this process's threads whose name is in `names`, from
    /// `/proc/self/task/*/stat` (fields 14 and 15, utime and stime, in clock
    /// ticks); nil when no thread has such a name.
    static func threadCPU(named names: Set<String>) -> Double? {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let ticks = tasks.compactMap { task -> Int? in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                names.contains(String(stat[stat.index(after: open)..<close]))
            else { return nil }
            // After the name: state (field 3), ..., utime (14), stime (15).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
            return user + system
        }
        return ticks.isEmpty ? nil : Double(ticks.reduce(0, +)) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The names of this process's threads, for a message when none matched.
    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .newlines) }
    }
}

/// Messages the kernel dropped because a netfilter netlink socket of network
/// namespace `namespace` had a full receive buffer: the `Drops` column of its
/// /proc/net/netlink, summed over protocol 12 (NETLINK_NETFILTER). On a lab
/// node that is the denied log's NFLOG socket and the agent's in-process nft
/// socket, which reads replies it asked for and drops none: the kernel's own
/// count of the log messages the agent lost.
func netfilterNetlinkDrops(in namespace: String) throws -> Int {
    let table = try NamespaceThread.run(in: namespace) { try String(contentsOfFile: "/proc/thread-self/net/netlink", encoding: .utf8) }
    var drops = 0
    for line in table.split(separator: "\n").dropFirst() {
        let columns = line.split(separator: " ")
        guard columns.count > 8, columns[1] == "12", let dropped = Int(columns[8]) else { continue }
        drops += dropped
    }
    return drops
}

extension Duration {
    /// This duration in seconds, fractional.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
