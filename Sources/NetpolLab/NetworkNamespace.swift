import Foundation
import Glibc
import NetpolDataplane
import NetpolModel

/// Network namespaces made by `ip netns add`, and running code inside one.
enum NetworkNamespace {
    /// Where `ip netns` keeps its namespaces.
    static let directory = NamespaceThread.directory

    /// Runs `body` on a fresh thread inside the namespace `name` (see `NamespaceThread`).
    static func run<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try NamespaceThread.run(in: name, body)
    }

    /// The names `ip netns list` shows.
    static func list() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// Deletes labs' namespaces whose owning process is gone (`netpol-lab-PID-...`),
    /// left behind by a lab that was killed before it could clean up.
    static func removeOrphans(runner: any CommandRunner) {
        delete(list().filter { name in
            guard let pid = LabNames.owner(of: name) else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }, runner: runner)
    }

    /// Deletes every lab namespace this process made, finished or not.
    static func removeOwn(runner: any CommandRunner) {
        delete(list().filter { LabNames.owner(of: $0) == getpid() }, runner: runner)
    }

    private static func delete(_ names: [String], runner: any CommandRunner) {
        guard !names.isEmpty else { return }
        _ = try? runner.run(Command("ip", ["-force", "-batch", "-"], input: names.map { "netns delete \($0)\n" }.joined()))
    }
}

/// The names of one lab's namespaces: `netpol-lab-PID-N-...`, so that labs of
/// different processes, or several in one process, never collide, and orphans
/// can be told by their dead owner.
struct LabNames: Sendable {
    static let prefix = "netpol-lab-"
    private static let counter = Counter()

    let base: String

    init() {
        base = "\(Self.prefix)\(getpid())-\(Self.counter.next())"
    }

    func node(_ index: Int) -> String { "\(base)-n\(index)" }
    func pod(_ index: Int) -> String { "\(base)-p\(index)" }
    var fabric: String { "\(base)-fabric" }

    /// The owning process id of a lab namespace name, if it is one.
    static func owner(of name: String) -> pid_t? {
        guard name.hasPrefix(prefix) else { return nil }
        return name.dropFirst(prefix.count).split(separator: "-").first.flatMap { pid_t($0) }
    }

    /// Numbers labs within one process.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}

/// Why the lab could not run: the one error type of NetpolLab.
public struct LabError: NetpolError {
    public enum Code: Hashable, Sendable {
        /// Not root, or a tool is missing: the lab cannot run on this machine.
        case unavailable
        /// The lab's network, a server or a probe could not be set up.
        case setup
    }

    public let code: Code
    public let message: String
    public let location: String?
    public let cause: (any Error)?

    /// A setup failure.
    public init(_ message: String, location: String? = nil, cause: (any Error)? = nil) {
        self.init(.setup, message, location: location, cause: cause)
    }

    public init(_ code: Code, _ message: String, location: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }
}
