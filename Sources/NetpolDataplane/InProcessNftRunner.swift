import CNetpolSystem
import Glibc

/// Runs `nft -f -`, `nft -c -f -` and `nft [-j] list ...` inside this process
/// through libnftables, the library the `nft` command is built on: the same
/// parser and the same one netlink transaction, without starting a process
/// (and, for a namespace, without `ip netns exec`) for every change or read.
/// Any other command, and every command on a machine without the library, goes
/// to `fallback`.
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

    /// What libnftables is asked to do for one `nft` command line.
    private struct Request {
        var text: String
        var dryRun = false
        var json = false

        /// nil for command lines this runner leaves to the fallback.
        init?(_ command: Command) {
            guard command.executable == "nft" else { return nil }
            switch command.arguments {
            case ["-f", "-"], ["-c", "-f", "-"]:
                guard let script = command.input else { return nil }
                text = script
                dryRun = command.arguments.first == "-c"
            case let arguments where arguments.first == "list" || arguments.starts(with: ["-j", "list"]):
                json = arguments.first == "-j"
                text = arguments.dropFirst(json ? 1 : 0).joined(separator: " ")
            default:
                return nil
            }
        }
    }

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        guard let request = Request(command), Self.isAvailable else { return try fallback.run(command) }
        guard let namespace else { return Self.execute(request) }
        do {
            return try NamespaceThread.run(in: namespace) { Self.execute(request) }
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.commandFailed, "\(error)")
        }
    }

    private static func execute(_ request: Request) -> CommandOutput {
        var output: UnsafeMutablePointer<CChar>?
        var errors: UnsafeMutablePointer<CChar>?
        let status = netpol_nftables_run(request.text, request.dryRun ? 1 : 0, request.json ? 1 : 0, &output, &errors)
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
