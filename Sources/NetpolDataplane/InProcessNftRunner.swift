import CNetpolSystem
import Glibc

/// Runs `nft -f -` and `nft -c -f -` inside this process through libnftables,
/// the library the `nft` command is built on: the same parser and the same one
/// netlink transaction, without starting a process (and, for a namespace,
/// without `ip netns exec`) for every change. Any other command, and every
/// command on a machine without the library, goes to `fallback`.
public struct InProcessNftRunner: CommandRunner {
    /// The network namespace to program (from `ip netns list`); nil for this one.
    public let namespace: String?
    public let fallback: any CommandRunner

    public init(namespace: String? = nil, fallback: any CommandRunner) {
        self.namespace = namespace
        self.fallback = fallback
    }

    /// Whether commands will really run in-process here.
    public static var isAvailable: Bool { netpol_nftables_available() != 0 }

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        let dryRun: Bool
        switch command.arguments {
        case ["-f", "-"]: dryRun = false
        case ["-c", "-f", "-"]: dryRun = true
        default: return try fallback.run(command)
        }
        guard command.executable == "nft", let script = command.input, Self.isAvailable else { return try fallback.run(command) }
        guard let namespace else { return Self.execute(script, dryRun: dryRun) }
        do {
            return try NamespaceThread.run(in: namespace) { Self.execute(script, dryRun: dryRun) }
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.commandFailed, "\(error)")
        }
    }

    private static func execute(_ script: String, dryRun: Bool) -> CommandOutput {
        var output: UnsafeMutablePointer<CChar>?
        var errors: UnsafeMutablePointer<CChar>?
        let status = netpol_nftables_run(script, dryRun ? 1 : 0, &output, &errors)
        defer {
            free(output)
            free(errors)
        }
        return CommandOutput(
            status: status,
            output: output.map { String(cString: $0) } ?? "",
            errors: errors.map { String(cString: $0) } ?? "")
    }
}
