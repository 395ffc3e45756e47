import ArgumentParser
import Foundation
import NetpolRules

/// `--node` and `--backend`, shared by the commands that compile rules.
struct NodeOptions: ParsableArguments {
    enum Backend: String, ExpressibleByArgument, CaseIterable {
        case nftables
    }

    @Option(help: "The node whose rules to compute (the pods with this spec.nodeName).")
    var node: String

    @Option(help: "The packet filter to write rules for.")
    var backend: Backend = .nftables

    /// A node without pods gets an empty ruleset; that is legal but usually a typo.
    func warnIfNoLocalPods(_ plan: RulePlan) {
        if plan.bindings.isEmpty && plan.chains.isEmpty {
            FileHandle.standardError.write(Data("netpol: note: no isolated pods on node \(node); the ruleset restricts nothing\n".utf8))
        }
    }
}
