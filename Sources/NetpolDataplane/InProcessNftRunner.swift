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
/// between small transactions (copies of the runner share it). The kernel
/// makes the closing of a netfilter socket wait until what its transactions
/// deleted is freed, after an RCU grace period: with a socket per command, a
/// transaction deleting one set element took 15 ms against 0.4 ms for one
/// adding it (`scripts/nft-element-cost.sh`); on the kept socket both take
/// 0.4 ms and the kernel frees in the background. Each transaction is still
/// one netlink batch, committed whole or not at all.
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
        var listing = false

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
                listing = true
                text = arguments.dropFirst(json ? 1 : 0).joined(separator: " ")
            default:
                return nil
            }
        }

        /// Whether it runs on the context the runner keeps: small transactions
        /// only. nft keeps in its context's cache what a command read or
        /// declared and releases it when the next command starts, which costs
        /// about 0.4 µs per element (45 ms after netpol's whole L table or a
        /// listing of it), so listings and large scripts run on a context of
        /// their own and pay that themselves. A dry run would leave what it
        /// checked in the cache as if the kernel held it, and the next command
        /// would be evaluated against that (an interval overlapping an element
        /// the kernel never got is refused).
        var usesKeptContext: Bool {
            !dryRun && !listing && text.utf8.count <= 64 * 1024
        }
    }

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        guard let request = Request(command), Self.isAvailable else { return try fallback.run(command) }
        let context = request.usesKeptContext ? try kept.context(valid: isInNamespace, open: open) : try open()
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
