import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules

/// Programs netpol's iptables chains and ipsets from a plan, and removes them.
///
/// iptables and ipset have no transaction spanning both, so an apply is a few
/// steps, ordered so that the kernel is never more open than under the old
/// rules or the new ones, even if the agent is killed between two of them (a
/// restarted agent replaces whatever it finds): (1) `ipset restore` makes the
/// changes that only narrow (new sets, pods added to binding sets, addresses
/// removed from peer sets); (2) per family, one `iptables-restore --noflush`
/// transaction writes the new and changed chains and the dispatch chain, and
/// drops the chains nothing dispatches to any more; (3) `ipset restore` makes
/// the changes that widen (addresses added to peer sets, pods removed from
/// binding sets); (4) sets no rule uses any more are destroyed. A set thus
/// exists before any rule that uses it. Other tables and chains are never touched.
public final class IptablesProgrammer {
    /// Which iptables the node uses: the nf_tables-based one or the legacy one.
    public enum Mode: String, Sendable, CaseIterable {
        case nft, legacy

        func tool(_ family: IPAddress.Family, _ suffix: String = "") -> String {
            (family == .ipv4 ? "iptables" : "ip6tables") + "-" + rawValue + suffix
        }
    }

    private let runner: any CommandRunner
    public let mode: Mode
    /// The plan the kernel last accepted; nil until the first successful apply.
    public private(set) var applied: RulePlan?

    public init(runner: any CommandRunner = ProcessRunner(), mode: Mode? = nil) {
        self.runner = runner
        self.mode = mode ?? Self.detectMode(runner: runner)
    }

    /// Picks the iptables the rest of the node uses, as kube-proxy's
    /// iptables-wrapper does: the variant holding kubelet's or kube-proxy's
    /// marker chains, else the one with more rules, else nft.
    public static func detectMode(runner: any CommandRunner) -> Mode {
        func save(_ mode: Mode) -> String {
            (try? runner.run(Command(mode.tool(.ipv4, "-save"), [])))?.output ?? ""
        }
        let nft = save(.nft), legacy = save(.legacy)
        let markers = ["KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY"]
        if markers.contains(where: nft.contains) { return .nft }
        if markers.contains(where: legacy.contains) { return .legacy }
        let rules = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("-") }.count }
        return rules(legacy) > rules(nft) ? .legacy : .nft
    }

    /// Writes the difference from the last applied plan in the four steps above,
    /// or the whole plan (`replace`) the first time. If a step fails (someone
    /// changed netpol's sets or chains), the whole plan is written instead and
    /// the outcome carries the failure.
    @discardableResult
    public func apply(_ plan: RulePlan) throws(DataplaneError) -> ApplyOutcome {
        // A difference says nothing of the base chain or the log limit: other
        // guards or logging need the whole table.
        guard let previous = applied, previous.guards == plan.guards, previous.logging == plan.logging else {
            try replace(plan)
            return .replaced(fallback: nil)
        }
        return try write(plan.diff(from: previous), from: previous, to: plan)
    }

    /// Writes a difference the caller worked out, as `apply(_ plan:)` writes
    /// the one it works out itself.
    @discardableResult
    public func apply(_ diff: PlanDiff) throws(DataplaneError) -> ApplyOutcome {
        // The steps need the old chains and bindings only; the sets, which may
        // hold every pod of the cluster, change in place rather than by copy.
        guard var old = applied else {
            throw DataplaneError(.nothingApplied, "no whole plan applied yet: replace the rules first")
        }
        old.sets = []
        applied?.apply(diff)
        guard let plan = applied else { return .incremental(diff) }
        return try write(diff, from: old, to: plan)
    }

    /// Writes `diff` in the four steps; if one fails, writes `plan` whole.
    private func write(_ diff: PlanDiff, from previous: RulePlan, to plan: RulePlan) throws(DataplaneError) -> ApplyOutcome {
        applied = nil
        do {
            try update(from: previous, to: plan, diff)
        } catch {
            try replace(plan)
            return .replaced(fallback: error)
        }
        applied = plan
        return .incremental(diff)
    }

    private func update(from old: RulePlan, to new: RulePlan, _ diff: PlanDiff) throws(DataplaneError) {
        try restoreSets(IptablesRenderer.narrowingScript(diff, from: old, to: new))
        for family in IPAddress.Family.allCases {
            if let script = IptablesRenderer.iptablesScript(diff, from: old, to: new, family: family) {
                try runner.check(Command(mode.tool(family, "-restore"), ["--noflush"], input: script))
            }
        }
        try restoreSets(IptablesRenderer.wideningScript(diff, to: new))
        try destroySets(IptablesRenderer.staleSetNames(diff, from: old, to: new))
    }

    /// Makes netpol's sets and chains exactly `plan`, whatever the kernel holds
    /// (the first apply, a restart over an earlier run's rules, drift repair), in
    /// the same four steps, with the kernel's sets as `ipset save` prints them
    /// standing for the old plan; step (3) swaps every set to the plan's exact
    /// content.
    public func replace(_ plan: RulePlan) throws(DataplaneError) {
        let kernelSets = IptablesRenderer.savedSets(try runner.check(Command("ipset", ["save"])).output)
        try restoreSets(IptablesRenderer.narrowingScript(plan, kernel: kernelSets))
        for family in IPAddress.Family.allCases {
            let wanted = Set(IptablesRenderer.chainNames(plan, family: family))
            let stale = try existingChains(family).filter { !wanted.contains($0) && $0 != IptablesRenderer.forwardChain }
            try runner.check(Command(mode.tool(family, "-restore"), ["--noflush"], input: IptablesRenderer.iptablesScript(plan, family: family, staleChains: stale)))
            try ensureJump(family)
        }
        try restoreSets(IptablesRenderer.ipsetScript(plan))
        let keep = Set(IptablesRenderer.setNames(plan))
        try destroySets(kernelSets.keys.filter { !keep.contains($0) }.sorted())
        applied = plan
    }

    /// Removes netpol's jumps, chains and sets; nothing else. Idempotent.
    public func cleanup() throws(DataplaneError) {
        for family in IPAddress.Family.allCases {
            while try runner.run(jump(family, "-C")).status == 0 {
                try runner.check(jump(family, "-D"))
            }
            let chains = try existingChains(family)
            if !chains.isEmpty {
                let lines = ["*filter"] + chains.map { "-F \($0)" } + chains.map { "-X \($0)" } + ["COMMIT"]
                try runner.check(Command(mode.tool(family, "-restore"), ["--noflush"], input: lines.map { $0 + "\n" }.joined()))
            }
        }
        try destroySets(existingSets())
        applied = nil
    }

    /// netpol's chains (iptables-save form) and sets (`ipset list -n`), for people and tests.
    public func readBack() throws(DataplaneError) -> String {
        var text = ""
        for family in IPAddress.Family.allCases {
            let saved = try runner.check(Command(mode.tool(family, "-save"), ["-t", "filter"])).output
            text += saved.split(separator: "\n").filter { $0.contains(IptablesRenderer.chainPrefix) }.joined(separator: "\n") + "\n"
        }
        return text + (try existingSets()).joined(separator: "\n") + "\n"
    }

    /// Compares the kernel with the last applied plan: every netpol ipset with
    /// exactly its members (`ipset save`), every NETPOL-* chain of both families
    /// with the rules the plan renders to (`iptables-save`), no set or chain
    /// beyond the plan's, and the jump from FORWARD. Empty when they agree or
    /// nothing was applied yet.
    public func verify() throws(DataplaneError) -> [Drift] {
        guard let plan = applied else { return [] }
        var drift = IptablesDriftFinder.setDrift(plan, ipsetSave: try runner.check(Command("ipset", ["save"])).output)
        for family in IPAddress.Family.allCases {
            let save = try runner.check(Command(mode.tool(family, "-save"), ["-t", "filter"])).output
            drift += IptablesDriftFinder.chainDrift(plan, family: family, tool: mode.tool(family), save: save)
            if try runner.run(jump(family, "-C")).status != 0 { drift.append(Drift(.table, "\(mode.tool(family)) FORWARD", "no jump to \(IptablesRenderer.forwardChain)")) }
        }
        return drift
    }

    /// The counters of the applied plan's chain lines in both families
    /// (`iptables-save -c`): a plan rule may be several lines (a line per
    /// group of 15 ports, a chain per family), each counted apart.
    public func readCounters() throws(DataplaneError) -> [RuleCounter] {
        guard let plan = applied else { return [] }
        var counters: [RuleCounter] = []
        for family in IPAddress.Family.allCases {
            let save = try runner.check(Command(mode.tool(family, "-save"), ["-c", "-t", "filter"])).output
            counters += KernelCounters.iptables(plan, family: family, save: save)
        }
        return counters
    }

    // MARK: - Kernel state

    private func jump(_ family: IPAddress.Family, _ action: String) -> Command {
        Command(mode.tool(family), ["-t", "filter", action, "FORWARD"] + (action == "-I" ? ["1"] : []) + ["-j", IptablesRenderer.forwardChain])
    }

    private func ensureJump(_ family: IPAddress.Family) throws(DataplaneError) {
        if try runner.run(jump(family, "-C")).status != 0 {
            try runner.check(jump(family, "-I"))
        }
    }

    /// netpol's chains in the filter table of `family`.
    private func existingChains(_ family: IPAddress.Family) throws(DataplaneError) -> [String] {
        let saved = try runner.check(Command(mode.tool(family, "-save"), ["-t", "filter"])).output
        return saved.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(":" + IptablesRenderer.chainPrefix) else { return nil }
            return line.dropFirst().split(separator: " ").first.map(String.init)
        }
    }

    /// netpol's ipsets.
    private func existingSets() throws(DataplaneError) -> [String] {
        try runner.check(Command("ipset", ["list", "-n"])).output.split(separator: "\n").map(String.init).filter { $0.hasPrefix(IptablesRenderer.setPrefix) }
    }

    /// Runs an `ipset restore` script, unless it is empty.
    private func restoreSets(_ script: String) throws(DataplaneError) {
        guard !script.isEmpty else { return }
        try runner.check(Command("ipset", ["restore"], input: script))
    }

    /// Destroys sets; one already gone (a temporary set a killed run left) is no error.
    private func destroySets(_ names: [String]) throws(DataplaneError) {
        try restoreSets(names.map { "destroy \($0) -exist\n" }.joined())
    }
}
