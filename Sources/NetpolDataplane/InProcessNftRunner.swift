import CNetpolSystem
import Glibc
import Synchronization

/// Runs `nft -f -`, `nft -c -f -` and `nft [-j] list ...` inside this process
/// through libnftables, the library the `nft` command is built on: the same
/// parser and the same one netlink transaction, without starting a process
/// (and, for a namespace, without `ip netns exec`) for every change or read.
/// Any other command, and every command on a machine without the library, goes
/// to `fallback`.
///
/// The runner keeps one libnftables context, and so one netlink socket, open
/// between commands (copies of the runner share it). The kernel makes the
/// closing of a netfilter socket wait until the objects its transactions
/// deleted are freed, after an RCU grace period (about 10-20 ms here): with a
/// socket per command, a transaction that deletes one set element took 15 ms
/// against 0.4 ms for one that adds it; on the kept socket both take 0.4 ms
/// and the kernel frees in the background. A transaction is still one netlink
/// batch, committed whole or not at all.
public struct InProcessNftRunner: CommandRunner {
    /// The network namespace to program (from `ip netns list`); nil for this one.
    public let namespace: String?
    public let fallback: any CommandRunner
    /// The context kept open between commands.
    private let kept = KeptContext()

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
        // A dry run leaves what it checked in its context's cache as if the
        // kernel held it, and a later command would be evaluated against that
        // (an interval overlapping an element the kernel never got is refused):
        // dry runs get a context of their own.
        let context = request.dryRun ? try open() : try kept.context(valid: isInNamespace, open: open)
        return context.run(request.text, dryRun: request.dryRun, json: request.json)
    }

    /// A new context in `namespace`.
    private func open() throws(DataplaneError) -> NftContext {
        guard let namespace else { return try NftContext.openHere() }
        do {
            return try NamespaceThread.run(in: namespace) { try NftContext.openHere() }
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.commandFailed, "\(error)")
        }
    }

    /// Whether `context`'s socket belongs to the namespace that `namespace`
    /// names now: a namespace deleted and made again under the same name is
    /// another one, and the old one lives on as long as a socket holds it.
    private func isInNamespace(_ context: NftContext) -> Bool {
        guard let namespace else { return true }
        return NetworkNamespaceIdentity(path: "\(NamespaceThread.directory)/\(namespace)") == context.namespace
    }
}

/// The context a runner keeps open between commands, opened on first use and
/// again when the one it holds no longer fits.
private final class KeptContext: Sendable {
    private let current = Mutex<NftContext?>(nil)

    func context(valid: (NftContext) -> Bool, open: () throws(DataplaneError) -> NftContext) throws(DataplaneError) -> NftContext {
        try current.withLock { (kept: inout NftContext?) throws(DataplaneError) -> NftContext in
            if let context = kept, valid(context) { return context }
            kept = nil
            let context = try open()
            kept = context
            return context
        }
    }
}

/// One open libnftables context (`nft_ctx` and its netlink socket), closed
/// when the last reference to it goes.
final class NftContext: @unchecked Sendable {  // the C shim serializes every use of the pointer
    private let pointer: OpaquePointer
    /// The network namespace its socket belongs to, for good.
    let namespace: NetworkNamespaceIdentity?

    private init(pointer: OpaquePointer, namespace: NetworkNamespaceIdentity?) {
        self.pointer = pointer
        self.namespace = namespace
    }

    /// Opens a context in the calling thread's network namespace.
    static func openHere() throws(DataplaneError) -> NftContext {
        guard let pointer = netpol_nftables_open() else {
            throw DataplaneError(.commandFailed, "libnftables could not open a context (nft_ctx_new)")
        }
        return NftContext(pointer: pointer, namespace: NetworkNamespaceIdentity(path: "/proc/thread-self/ns/net"))
    }

    deinit {
        netpol_nftables_close(pointer)
    }

    /// Runs `text` as `nft -f -` (`nft -c -f -` when `dryRun`; `nft -j` output when `json`) would.
    func run(_ text: String, dryRun: Bool, json: Bool) -> CommandOutput {
        var output: UnsafeMutablePointer<CChar>?
        var errors: UnsafeMutablePointer<CChar>?
        let status = netpol_nftables_run(pointer, text, dryRun ? 1 : 0, json ? 1 : 0, &output, &errors)
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

/// Which network namespace a file names (`/run/netns/NAME`, `/proc/.../ns/net`):
/// the device and inode of its nsfs inode, the same for every name of one namespace.
struct NetworkNamespaceIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// nil when there is no such file.
    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}
