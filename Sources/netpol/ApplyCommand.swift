import ArgumentParser
import Foundation
import NetpolDataplane
import NetpolRender
import NetpolRules

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Program a kernel with the rules one node would get.",
        discussion: """
            nftables: replaces the table `inet netpol` with NODE's rules in one `nft -f` \
            transaction (no moment with half a ruleset, also over rules an earlier run \
            left). iptables: fills each ipset in a temporary set and swaps it in, then \
            rewrites the NETPOL-* chains in one iptables-restore transaction per \
            family. Either way it then reads the kernel back to check it holds the \
            rules. With --netns the rules go into that network namespace instead.

            Needs root (CAP_NET_ADMIN) and nftables. Exit status 0 when applied and \
            verified; 2 when the input, the command line or the kernel refused.

            Example:
              ip netns add netpol-try
              netpol apply -f examples/three-tier --node node-a --netns netpol-try
              ip netns exec netpol-try nft list table inet netpol
              netpol cleanup --netns netpol-try
            """)

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var target: NodeOptions

    @Option(help: "A network namespace (from `ip netns list`) to program instead of the current one.")
    var netns: String?

    func run() throws {
        let plan = RuleCompiler.plan(node: target.node, snapshot: try manifests.loadSnapshot())
        target.warnIfNoLocalPods(plan)
        let programmer = target.backend.programmer(runner(netns))
        do throws(DataplaneError) {
            try programmer.apply(plan)
            let drift = try programmer.verify()
            if !drift.isEmpty {
                throw DataplaneError(.readBackMismatch, "the kernel does not hold what was applied: " + drift.map(\.description).joined(separator: "; "))
            }
        } catch {
            fail(error)
        }
        print("Applied \(plan.chains.count) chains, \(plan.ruleCount) rules and \(plan.elementCount) set and map elements for node \(target.node)\(netns.map { " in network namespace \($0)" } ?? "").")
    }
}

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove everything netpol programmed, and nothing else.",
        discussion: """
            nftables: deletes the table `inet netpol` (and so all its sets, maps and \
            chains). iptables: removes the jump from FORWARD, the NETPOL-* chains and \
            the netpol-* ipsets. Other tables and chains, kube-proxy's among them, are \
            not touched. Running it when there is nothing to remove is fine.
            """)

    @Option(help: "A network namespace to clean instead of the current one.")
    var netns: String?

    @OptionGroup var backend: BackendOptions

    func run() throws {
        do {
            try backend.programmer(runner(netns)).cleanup()
        } catch {
            fail(error)
        }
        let what = backend.backend == .nftables ? "table \(NftablesRenderer.family) \(NftablesRenderer.table)" : "the NETPOL-* chains and netpol-* ipsets"
        print("Removed \(what)\(netns.map { " from network namespace \($0)" } ?? "").")
    }
}

/// The runner for the current network namespace, or for `netns`.
func runner(_ netns: String?) -> any CommandRunner {
    netns.map { NetnsRunner(namespace: $0) } ?? ProcessRunner()
}

/// Prints a dataplane error as one line and exits with status 2.
func fail(_ error: DataplaneError) -> Never {
    var message = "netpol: \(error)"
    if getuid() != 0 { message += " (netpol needs root, or CAP_NET_ADMIN, to program the kernel)" }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    Foundation.exit(ExitStatus.usageOrInput.rawValue)
}
