import Foundation
import NetpolModel

/// An external command: the program, its arguments, and what to feed it.
public struct Command: Hashable, Sendable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    public var input: String?

    public init(_ executable: String, _ arguments: [String], input: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.input = input
    }

    public var description: String { ([executable] + arguments).joined(separator: " ") }
}

/// What a command printed and how it ended.
public struct CommandOutput: Hashable, Sendable {
    public var status: Int32
    public var output: String
    public var errors: String

    public init(status: Int32, output: String, errors: String) {
        self.status = status
        self.output = output
        self.errors = errors
    }
}

/// The one seam through which netpol runs programs (`nft`, `ip`). Tests put a
/// scripted runner here to check exact arguments and input; kernel tests and
/// the CLI use `ProcessRunner`.
public protocol CommandRunner: Sendable {
    func run(_ command: Command) throws(DataplaneError) -> CommandOutput
}

extension CommandRunner {
    /// Runs the command and throws unless it exits 0.
    @discardableResult
    public func check(_ command: Command) throws(DataplaneError) -> CommandOutput {
        let output = try run(command)
        guard output.status == 0 else { throw DataplaneError.failed(command, output) }
        return output
    }
}

/// Runs programs with Foundation's `Process`, found on `PATH` (plus the sbin
/// directories, where `nft` and `ip` live).
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        guard let path = Self.locate(command.executable) else {
            throw DataplaneError(.toolMissing, "\(command.executable) not found; install it (nft: apt-get install nftables; ip: apt-get install iproute2)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-run-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let files = ["in", "out", "err"].map { scratch.appendingPathComponent($0) }
            try Data((command.input ?? "").utf8).write(to: files[0])
            for file in files.dropFirst() { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = command.arguments
            let handles = [try FileHandle(forReadingFrom: files[0]), try FileHandle(forWritingTo: files[1]), try FileHandle(forWritingTo: files[2])]
            // The child has its own copies; ours must be closed, whenever Process lets go of them.
            defer { for handle in handles { try? handle.close() } }
            process.standardInput = handles[0]
            process.standardOutput = handles[1]
            process.standardError = handles[2]
            // waitUntilExit polls every 50 ms on Linux; the handler fires as soon as the child exits.
            let exited = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in exited.signal() }
            try process.run()
            exited.wait()
            return CommandOutput(
                status: process.terminationStatus,
                output: try String(contentsOf: files[1], encoding: .utf8),
                errors: try String(contentsOf: files[2], encoding: .utf8))
        } catch {
            throw DataplaneError(.commandFailed, "cannot run", location: command.description, cause: error)
        }
    }

    /// The full path of `name` on PATH or in the sbin directories.
    public static func locate(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Runs every command inside a network namespace (`ip netns exec NAME ...`).
public struct NetnsRunner: CommandRunner {
    public let namespace: String
    public let base: any CommandRunner

    public init(namespace: String, base: any CommandRunner = ProcessRunner()) {
        self.namespace = namespace
        self.base = base
    }

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        try base.run(Command("ip", ["netns", "exec", namespace, command.executable] + command.arguments, input: command.input))
    }
}

/// Why a kernel operation failed: the one error type of NetpolDataplane.
public struct DataplaneError: NetpolError {
    public enum Code: Hashable, Sendable {
        /// `nft`, `ip` or another tool is not installed.
        case toolMissing
        /// Root (CAP_NET_ADMIN) is needed.
        case notPermitted
        /// The kernel has no such table, set, chain or element (ENOENT).
        case notFound
        /// The object or element exists already (EEXIST).
        case exists
        /// The object is still in use, say a chain something jumps to (EBUSY).
        case inUse
        /// The tool did not understand its input: a bug in what netpol rendered.
        case syntax
        /// A command failed for another reason.
        case commandFailed
        /// What the kernel holds differs from what was applied.
        case readBackMismatch
        /// A difference was handed over before any whole plan was applied.
        case nothingApplied
    }

    public let code: Code
    public let message: String
    /// The command that failed, or the namespace it ran in.
    public let location: String?
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, location: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }

    /// What a failed command printed, classified by the error the kernel or the
    /// tool reported (nft, iptables and ipset print the errno's text, as in
    /// `Error: Could not process rule: No such file or directory`).
    public static func failed(_ command: Command, _ output: CommandOutput) -> DataplaneError {
        let detail = output.errors.trimmingCharacters(in: .whitespacesAndNewlines)
        return DataplaneError(
            classify(detail), "exited with status \(output.status)" + (detail.isEmpty ? "" : ": \(detail)"),
            location: command.description)
    }

    /// The code for a tool's error text; `commandFailed` when nothing more is known.
    static func classify(_ errors: String) -> Code {
        let known: [(text: String, code: Code)] = [
            ("Operation not permitted", .notPermitted), ("Permission denied", .notPermitted),
            ("No such file or directory", .notFound), ("does not exist", .notFound),
            ("File exists", .exists), ("already exists", .exists),
            ("Device or resource busy", .inUse), ("in use by a kernel component", .inUse),
            ("syntax error", .syntax), ("Syntax error", .syntax),
        ]
        return known.first { errors.contains($0.text) }?.code ?? .commandFailed
    }
}
