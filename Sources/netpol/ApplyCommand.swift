import ArgumentParser
import Foundation
import NetpolDataplane
import NetpolRender
import NetpolRules

struct ApplyCommand: ReadsManifests {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Program a kernel with the rules one node would get.",
        usage: """
            netpol apply -f <path> ... --node <node> [--netns <netns>]
              [--backend <backend>] [--iptables-mode <iptables-mode>]
              [--pod-cidr <cidr> ...] [--established <mode>]
            """,
        discussion: """
            nftables: replaces the table `inet netpol` with NODE's rules in one `nft -f` \
            transaction (no moment with half a ruleset, also over rules an earlier run \
            left). iptables: fills each ipset in a temporary set and swaps it in, then \
            rewrites the NETPOL-* chains in one iptables-restore transaction per \
            family. With --netns the rules go into that network namespace instead.

            Then it reads the kernel back and compares it with what it applied. \
            nftables (`nft -j list table inet netpol`): every set holds exactly its \
            addresses, prefixes (a range nft prints, or adjacent prefixes it joins, \
            count as the same addresses) or address . protocol . port elements; the \
            four verdict maps bind exactly the local pods to their chains; every \
            chain holds the same rules in the same order (set, protocol, ports, \
            verdict and comment) and its final drop; the base chain sits on the \
            forward hook at filter priority with its established-accept and map \
            lookups; and the table has no other set or chain. iptables: every \
            netpol-* ipset holds exactly its members (`ipset save`; temporary \
            netpol-t-* sets aside), every NETPOL-* chain of both families holds the \
            rules netpol renders, in order (`iptables-save`), no other netpol set \
            or chain exists, and FORWARD jumps to NETPOL-FORWARD. Any difference is \
            printed (what, and the first elements or rule that differ) and fails \
            the command.

            Needs root (CAP_NET_ADMIN) and nftables. Exit status 0 when applied and \
            verified; 2 when the input, the command line or the kernel refused, or \
            the kernel does not hold what was applied.

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
        let plan = RuleCompiler.plan(node: target.node, snapshot: try manifests.loadSnapshot(), guards: target.guards)
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
        usage: """
            netpol cleanup [--netns <netns>] [--backend <backend>]
              [--iptables-mode <iptables-mode>]
            """,
        discussion: """
            nftables: deletes the table `inet netpol` (and so all its sets, maps and \
            chains). iptables: removes the jump from FORWARD, the NETPOL-* chains and \
            the netpol-* ipsets. Other tables and chains, kube-proxy's among them, are \
            not touched. It says what it removed; when there is nothing to remove it \
            says so and exits 0.
            """)

    @Option(help: "A network namespace to clean instead of the current one.")
    var netns: String?

    @OptionGroup var backend: BackendOptions

    func run() throws {
        let programmer = backend.programmer(runner(netns))
        let found: String?
        do {
            found = try Self.whatNetpolOwns(programmer)
            try programmer.cleanup()
        } catch {
            fail(error)
        }
        if let found {
            print("Removed \(found)\(netns.map { " from network namespace \($0)" } ?? "").")
        } else {
            let what = backend.backend == .nftables ? "no table \(Self.nftablesTable)" : "no \(IptablesRenderer.chainPrefix)* chains or \(IptablesRenderer.setPrefix)* ipsets"
            print("Nothing to remove: \(what)\(netns.map { " in network namespace \($0)" } ?? "").")
        }
    }

    private static let nftablesTable = "\(NftablesRenderer.family) \(NftablesRenderer.table)"

    /// What netpol has in the kernel now, in words; nil when nothing.
    private static func whatNetpolOwns(_ programmer: any RuleProgrammer) throws(DataplaneError) -> String? {
        switch programmer {
        case let nftables as NftablesProgrammer:
            return try nftables.readBack() == nil ? nil : "table \(nftablesTable)"
        case let iptables as IptablesProgrammer:
            let lines = try iptables.readBack().split(separator: "\n")
            let chains = lines.filter { $0.hasPrefix(":" + IptablesRenderer.chainPrefix) }.count
            let sets = lines.filter { $0.hasPrefix(IptablesRenderer.setPrefix) }.count
            guard chains + sets > 0 else { return nil }
            return "\(chains) \(IptablesRenderer.chainPrefix)* chain\(chains == 1 ? "" : "s") (IPv4 and IPv6 together) "
                + "and \(sets) \(IptablesRenderer.setPrefix)* ipset\(sets == 1 ? "" : "s")"
        default:
            return "everything netpol programmed"
        }
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
