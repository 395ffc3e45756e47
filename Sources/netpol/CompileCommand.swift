import ArgumentParser
import Foundation
import NetpolAgent
import NetpolDataplane
import NetpolEngine
import NetpolRender
import NetpolRules

struct CompileCommand: ReadsClusters {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Print the ruleset one node would get.",
        usage: """
            netpol compile [-f <path> ...] [--kubeconfig <path>] [--context <name>]
              [--live-cluster] --node <node> [--backend <backend>]
              [--iptables-mode <iptables-mode>] [--pod-cidr <cidr> ...]
              [--established <mode>] [--stats]
            """,
        discussion: """
            Computes the rules for the pods scheduled on NODE (spec.nodeName) and prints \
            them: for nftables an `nft -f` script that replaces the table `inet netpol` \
            in one transaction (pipe it to `nft -c -f -` to check it); for iptables the \
            `ipset restore` input followed by the `iptables-restore --noflush` and \
            `ip6tables-restore --noflush` inputs. Nothing is applied; `netpol apply` \
            programs a kernel.

            Peers are address sets shared per distinct selector; local pods are bound \
            to their rule chain through verdict maps keyed by address; every rule \
            carries a comment naming the policy and rule it came from.

            Examples:
              netpol compile -f examples/three-tier --node node-a
              netpol compile --live-cluster --node "$NODE_NAME"
            """)

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var target: NodeOptions

    @Flag(help: "Also print the ruleset's size and how long compiling and rendering took, to standard error.")
    var stats = false

    func run() throws {
        let snapshot = try cluster.snapshot(with: manifests)
        let clock = ContinuousClock()
        let start = clock.now
        let plan = RuleCompiler.plan(node: target.node, snapshot: snapshot, engine: Engine(snapshot: snapshot), guards: target.guards)
        let compiled = clock.now
        let script = Self.script(plan, backend: target.backend.backend)
        let rendered = clock.now
        target.warnIfNoLocalPods(plan)
        print(script, terminator: "")
        if stats {
            let report = """
                node \(target.node): \(plan.bindings.count) pod bindings, \(plan.chains.count) chains, \(plan.ruleCount) rules, \
                \(plan.sets.count) sets, \(plan.elementCount) set and map elements, \(script.utf8.count) bytes
                compile \(milliseconds(compiled - start)) ms (selector index included), render \(milliseconds(rendered - compiled)) ms
                """
            FileHandle.standardError.write(Data((report + "\n").utf8))
        }
    }

    /// The nft script, or the ipset and iptables-restore inputs one after another.
    static func script(_ plan: RulePlan, backend: Backend) -> String {
        switch backend {
        case .nftables:
            return NftablesRenderer.script(plan)
        case .iptables:
            return "# ipset restore\n" + IptablesRenderer.ipsetScript(plan)
                + "# iptables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv4)
                + "# ip6tables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv6)
        }
    }

    private func milliseconds(_ duration: Duration) -> String {
        String(format: "%.1f", duration.milliseconds)
    }
}
