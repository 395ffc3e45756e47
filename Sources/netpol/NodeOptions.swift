import ArgumentParser
import Foundation
import NetpolDataplane
import NetpolModel
import NetpolRules

extension Backend: ExpressibleByArgument {}
extension IptablesProgrammer.Mode: ExpressibleByArgument {}

/// `--backend` and `--iptables-mode`, shared by the commands that program rules.
struct BackendOptions: ParsableArguments {
    @Option(help: "The packet filter: nftables (one table, inet netpol) or iptables (NETPOL-* chains and netpol-* ipsets).")
    var backend: Backend = .nftables

    @Option(help: "With --backend iptables: nft or legacy iptables. By default the one the node already uses, detected as kube-proxy does.")
    var iptablesMode: IptablesProgrammer.Mode?

    func programmer(_ runner: any CommandRunner) -> any RuleProgrammer {
        backend.programmer(runner: runner, iptablesMode: iptablesMode)
    }
}

/// What happens to established connections a change denies (`--established`).
enum EstablishedMode: String, ExpressibleByArgument, CaseIterable {
    case keep, recheck
}

/// `--pod-cidr` and `--established`: what the base chain checks before the
/// pods' chains, the same for the agent and the commands that show or write
/// its rules.
struct GuardOptions: ParsableArguments {
    @Option(name: .customLong("pod-cidr"), help: ArgumentHelp(
        "A pod address range of the node: its addresses no known pod holds are isolated (repeat for more). The agent's default: the Node's spec.podCIDRs.",
        valueName: "cidr"))
    var podCIDRs: [CIDR] = []

    @Option(help: ArgumentHelp(
        "keep: connections outlive a change that denies them; recheck: the agent cuts them, and only a TCP SYN opens a connection.",
        valueName: "mode"))
    var established: EstablishedMode = .keep
}

/// `--node` and the backend, shared by the commands that compile rules.
struct NodeOptions: ParsableArguments {
    @Option(help: "The node whose rules to compute (the pods with this spec.nodeName).")
    var node: String

    @OptionGroup var backend: BackendOptions

    @OptionGroup var guardOptions: GuardOptions

    /// What the base chain checks, as the agent with the same options would write it.
    var guards: NodeGuards { NodeGuards(podRanges: guardOptions.podCIDRs, synOnlyOpens: guardOptions.established == .recheck) }

    /// A node without pods gets an empty ruleset; that is legal but usually a typo.
    func warnIfNoLocalPods(_ plan: RulePlan) {
        if plan.bindings.isEmpty && plan.chains.isEmpty {
            FileHandle.standardError.write(Data("netpol: note: no isolated pods on node \(node); the ruleset restricts nothing\n".utf8))
        }
    }
}
