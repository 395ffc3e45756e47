import NetpolModel
import NetpolRender
import NetpolRules

/// The kernel's counters on a plan's chain lines, mapped back to plan rules
/// through the renderers' own line layout (`NftablesRenderer.countedRules`,
/// `IptablesRenderer.chainLines`). A chain whose lines do not match the
/// layout (drift, or a chain written without counters) gives nothing: verify
/// finds and repairs it, and the next reading counts again.
enum KernelCounters {
    /// From a table read with `nft -j -t list table inet netpol`.
    static func nftables(_ plan: RulePlan, table: KernelTable) -> [RuleCounter] {
        plan.chains.flatMap { chain -> [RuleCounter] in
            let held = table.chains[chain.name]?.packets.compactMap { $0 } ?? []
            let rules = NftablesRenderer.countedRules(chain)
            guard held.count == rules.count else { return [] }
            return zip(rules, held).enumerated().map { line, counted in
                RuleCounter(chain: chain.name, rule: counted.0, line: line, packets: counted.1)
            }
        }
    }

    /// From one family's `iptables-save -c -t filter` output; log lines count nothing.
    static func iptables(_ plan: RulePlan, family: IPAddress.Family, save: String) -> [RuleCounter] {
        let held = packetsByChain(save)
        return plan.chains.flatMap { chain -> [RuleCounter] in
            let lines = IptablesRenderer.chainLines(chain, family: family, logging: plan.logging)
            guard let packets = held[IptablesRenderer.chainName(chain)], packets.count == lines.count else { return [] }
            return zip(lines, packets).enumerated().compactMap { position, line in
                line.0.logs ? nil : RuleCounter(chain: chain.name, rule: line.0.rule, family: family, line: position, packets: line.1)
            }
        }
    }

    /// Each NETPOL chain's lines' packet counts, in order, from `[packets:bytes] -A CHAIN ...` lines.
    static func packetsByChain(_ save: String) -> [String: [UInt64]] {
        var chains: [String: [UInt64]] = [:]
        for line in save.split(separator: "\n") where line.hasPrefix("[") {
            let words = line.split(separator: " ", maxSplits: 3)
            guard words.count >= 3, words[1] == "-A", words[2].hasPrefix(IptablesRenderer.chainPrefix),
                  let packets = words[0].dropFirst().split(separator: ":").first.flatMap({ UInt64($0) }) else { continue }
            chains[String(words[2]), default: []].append(packets)
        }
        return chains
    }
}
