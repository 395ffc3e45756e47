/// How the kernel logs denied connections: before every deny point of a plan
/// (see `DenyPoint`), a rule sends the packet to an NFLOG group with the
/// point's prefix, within one rate limit that every deny point shares, so that
/// a flood of denied packets cannot flood the log reader. nftables has one
/// bucket for the node (its `inet` table holds both families); iptables one
/// per family (a hashlimit table belongs to iptables or ip6tables), so there
/// denials of both families together may reach twice the rate.
///
/// Only packets that would open a connection reach a deny point (established
/// and related traffic is accepted first), so the log holds one record per
/// denied connection attempt, up to the limit.
public struct DenyLogging: Hashable, Sendable {
    /// The NFLOG group the agent reads (`PacketLogReader`); 0...65535.
    public var group: UInt16
    /// Records per second, on average, across every deny point.
    public var rate: Int
    /// Records allowed at once above the rate, after a quiet spell.
    public var burst: Int

    public init(group: UInt16, rate: Int = 10, burst: Int = 50) {
        self.group = group
        self.rate = max(1, rate)
        self.burst = max(1, burst)
    }
}
