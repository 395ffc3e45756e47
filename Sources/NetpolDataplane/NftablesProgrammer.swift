import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules

/// Programs a kernel's `inet netpol` table: applies whole plans atomically,
/// reads back what the kernel holds, removes it all on cleanup. Remembers the
/// last plan the kernel accepted, and only that.
public final class NftablesProgrammer {
    private let runner: any CommandRunner
    /// The plan the kernel last accepted; nil until the first successful apply.
    public private(set) var applied: RulePlan?

    /// - Parameter runner: where `nft` runs: `ProcessRunner()` for this network
    ///   namespace, `NetnsRunner(namespace:)` for another.
    public init(runner: any CommandRunner = ProcessRunner()) {
        self.runner = runner
    }

    /// Makes the kernel's table equal `plan` in one `nft -f` transaction: only
    /// the difference from the last applied plan, or the whole table the first
    /// time. If the difference does not apply (someone changed the table), the
    /// whole table is replaced instead, and the outcome carries nft's refusal.
    /// On failure the kernel keeps what it had (nft applies all or nothing).
    /// An agent killed at any moment relies on the same: one `nft -f` is one
    /// netlink batch, which the kernel commits whole or, if the process dies
    /// before sending its end, not at all; so no step ever needs ordering here.
    @discardableResult
    public func apply(_ plan: RulePlan) throws(DataplaneError) -> ApplyOutcome {
        // A difference says nothing of the base chain or the log limit: other
        // guards or logging need the whole table.
        guard let previous = applied, previous.guards == plan.guards, previous.logging == plan.logging,
              previous.countsConnections == plan.countsConnections else {
            try replace(plan)
            return .replaced(fallback: nil)
        }
        let diff = plan.diff(from: previous)
        applied = plan
        return try write(diff, restoring: previous)
    }

    /// Writes a difference the caller worked out, as `apply(_ plan:)` writes
    /// the one it works out itself. The applied plan is updated in place.
    @discardableResult
    public func apply(_ diff: PlanDiff) throws(DataplaneError) -> ApplyOutcome {
        guard applied != nil else { throw DataplaneError(.nothingApplied, "no whole plan applied yet: replace the table first") }
        applied?.apply(diff)
        return try write(diff, restoring: nil)
    }

    /// Writes `diff`, which leads to `applied`, in one transaction; if the
    /// kernel refuses it, replaces the table with `applied` whole. If that
    /// fails too, the kernel still holds the plan before (nft commits all or
    /// nothing), which becomes `applied` again when the caller still has it.
    private func write(_ diff: PlanDiff, restoring previous: RulePlan?) throws(DataplaneError) -> ApplyOutcome {
        let script = NftablesRenderer.script(diff, logging: applied?.logging, counting: applied?.countsConnections ?? false)
        if script.isEmpty { return .incremental(diff) }
        do {
            try runner.check(Command("nft", ["-f", "-"], input: script))
        } catch {
            guard let plan = applied else { throw error }
            applied = previous
            try replace(plan)
            return .replaced(fallback: error)
        }
        return .incremental(diff)
    }

    /// Replaces the whole table with `plan` in one transaction, whatever the
    /// kernel holds: for the first apply, a restart, and repairing drift.
    public func replace(_ plan: RulePlan) throws(DataplaneError) {
        try runner.check(Command("nft", ["-f", "-"], input: NftablesRenderer.script(plan)))
        applied = plan
    }

    /// Asks the kernel whether `plan` would load, without changing anything (`nft -c`).
    public func check(_ plan: RulePlan) throws(DataplaneError) {
        try runner.check(Command("nft", ["-c", "-f", "-"], input: NftablesRenderer.script(plan)))
    }

    /// `nft list table inet netpol`, or nil when there is no such table.
    public func readBack() throws(DataplaneError) -> String? {
        try list([])
    }

    /// Compares the kernel's table with the last applied plan, read back as JSON
    /// (`nft -j list table inet netpol`, in-process with `InProcessNftRunner`):
    /// every set with exactly its elements, the verdict maps with exactly the pod
    /// bindings, every chain with the same rules in order, the base chain on its
    /// hook, and no set or chain beyond the plan's. Empty when they agree or
    /// nothing was applied yet.
    public func verify() throws(DataplaneError) -> [Drift] {
        guard let plan = applied else { return [] }
        return try verify(against: plan)
    }

    /// Compares the kernel's table with `plan`, as `verify()` does with the
    /// last applied one: for checking rules another process wrote.
    ///
    /// Drift counts only when a second reading shows it too. Right after a
    /// large transaction the kernel may still be resizing a hash set, and a
    /// dump of it then can miss elements or repeat them (seen at 10,000 pods:
    /// a verify right after a full apply on the same netlink socket found
    /// 1,158 of a set's elements missing, a moment later none); real drift
    /// stays for the second look.
    public func verify(against plan: RulePlan) throws(DataplaneError) -> [Drift] {
        guard try !drift(from: plan).isEmpty else { return [] }
        return try drift(from: plan)
    }

    /// What one reading of the kernel's table shows to differ from `plan`.
    private func drift(from plan: RulePlan) throws(DataplaneError) -> [Drift] {
        guard let table = try readTable() else {
            return [Drift(.table, "\(NftablesRenderer.family) \(NftablesRenderer.table)", "missing")]
        }
        return NftablesDriftFinder.drift(plan, kernel: table)
    }

    /// The kernel's table read one set at a time, so that no more than one
    /// set's listing is in memory at once (a whole table at L holds 114,000
    /// elements, and its parsed JSON was most of the agent's peak): the table
    /// without elements (`nft -j -t`), then each set and map with its own. nil
    /// when there is no table; a set gone between the readings is missing.
    private func readTable() throws(DataplaneError) -> KernelTable? {
        guard let shape = try list(["-j", "-t"]) else { return nil }
        var table = try NftablesTableReader.table(fromJSON: shape)
        for (name, set) in table.sets {
            var elements: KernelSet?
            if let json = try list(["-j"], set.isVerdictMap ? "map" : "set", name) {
                elements = try NftablesTableReader.table(fromJSON: json).sets[name]
            }
            table.sets[name] = elements
        }
        return table
    }

    /// The counters on the applied plan's chains, from one listing of the
    /// table without set elements (`nft -j -t`).
    public func readCounters() throws(DataplaneError) -> [RuleCounter] {
        guard let plan = applied, let json = try list(["-j", "-t"]) else { return [] }
        return KernelCounters.nftables(plan, table: try NftablesTableReader.table(fromJSON: json))
    }

    /// `nft [OPTIONS] list table inet netpol` (or `list set|map inet netpol
    /// NAME`), or nil when there is no such table (or set).
    private func list(_ options: [String], _ object: String = "table", _ name: String? = nil) throws(DataplaneError) -> String? {
        let command = Command("nft", options + ["list", object, NftablesRenderer.family, NftablesRenderer.table] + (name.map { [$0] } ?? []))
        let output = try runner.run(command)
        guard output.status == 0 else {
            let error = DataplaneError.failed(command, output)
            if error.code == .notFound { return nil }
            throw error
        }
        return output.output
    }

    /// Removes netpol's table and everything in it; nothing else. Idempotent.
    public func cleanup() throws(DataplaneError) {
        try runner.check(Command("nft", ["-f", "-"], input: NftablesRenderer.cleanupScript))
        applied = nil
    }
}
