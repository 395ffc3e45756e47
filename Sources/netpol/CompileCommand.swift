import ArgumentParser
import NetpolRender
import NetpolRules

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Print the ruleset one node would get.",
        discussion: """
            Computes the rules for the pods scheduled on NODE (spec.nodeName) and prints \
            them as an `nft -f` script that replaces the table `inet netpol` in one \
            transaction. Nothing is applied; pipe it to `nft -c -f -` to check it, or \
            use `netpol apply` to program a kernel.

            Peers are address sets shared per distinct selector; local pods are bound \
            to their rule chain through verdict maps keyed by address; every rule \
            carries a comment naming the policy and rule it came from.

            Example:
              netpol compile -f examples/three-tier --node node-a
            """)

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var target: NodeOptions

    func run() throws {
        let plan = RuleCompiler.plan(node: target.node, snapshot: try manifests.loadSnapshot())
        target.warnIfNoLocalPods(plan)
        print(NftablesRenderer.script(plan), terminator: "")
    }
}
