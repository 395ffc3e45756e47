import NetpolRules

/// What every backend's programmer does with a plan.
public protocol RuleProgrammer: AnyObject {
    /// The plan the kernel last accepted.
    var applied: RulePlan? { get }
    /// Makes the kernel enforce `plan`, without a moment of half-applied rules.
    /// Returns the difference written, or nil when the whole plan was written.
    @discardableResult
    func apply(_ plan: RulePlan) throws(DataplaneError) -> PlanDiff?
    /// Rewrites everything netpol owns to `plan` in one transaction, whatever the
    /// kernel holds now: the first apply after a restart, and drift repair.
    func replace(_ plan: RulePlan) throws(DataplaneError)
    /// Checks that the kernel holds what was last applied.
    func verify() throws(DataplaneError)
    /// Removes everything netpol made, and nothing else.
    func cleanup() throws(DataplaneError)
}

extension NftablesProgrammer: RuleProgrammer {}
extension IptablesProgrammer: RuleProgrammer {}

/// The packet filters netpol can program.
public enum Backend: String, Sendable, CaseIterable {
    case nftables
    case iptables

    /// A programmer for this backend, running its tools through `runner`.
    /// - Parameter iptablesMode: nft or legacy iptables; nil detects it as kube-proxy does.
    public func programmer(runner: any CommandRunner = ProcessRunner(), iptablesMode: IptablesProgrammer.Mode? = nil) -> any RuleProgrammer {
        switch self {
        case .nftables: return NftablesProgrammer(runner: runner)
        case .iptables: return IptablesProgrammer(runner: runner, mode: iptablesMode)
        }
    }
}
