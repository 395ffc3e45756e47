import NetpolEngine
import NetpolModel
import NetpolRules

/// Renders a `RulePlan` for iptables with ipset: `ipset restore` input for the
/// sets and `iptables-restore --noflush` / `ip6tables-restore --noflush` input
/// for netpol's own chains in the filter table.
///
/// Layout, per address family: `NETPOL-FORWARD` (jumped from `FORWARD`) returns
/// established and related packets, then sends packets from local isolated pods
/// to their egress chain and packets to them to their ingress chain. Which pods
/// use which chain is itself an ipset (one per chain), so the dispatch grows
/// with distinct chains, not pods. Chains `RETURN` what they allow and `DROP`
/// the rest: netpol only ever drops, so rules after the jump in `FORWARD`
/// (kube-proxy's, a CNI's) still see every allowed packet.
public enum IptablesRenderer {
    public static let forwardChain = "NETPOL-FORWARD"
    public static let chainPrefix = "NETPOL-"
    public static let setPrefix = "netpol-"
    /// iptables' multiport match takes at most 15 ports (a range counts twice).
    static let multiportLimit = 15

    /// The ipset name of a plan set (ipset allows 31 characters).
    public static func setName(_ planName: String) -> String { setPrefix + planName }

    /// The prefix of temporary sets: an apply's scratch space, never drift.
    public static let temporaryPrefix = "netpol-t-"

    /// The temporary set a new content is built in before the swap.
    public static func temporaryName(_ planName: String) -> String { temporaryPrefix + StableHash.hex(planName, digits: 12) }

    /// The ipset holding the local pod addresses bound to `chain` for `family`:
    /// `netpol-bi-<hash>-v4` (ingress) or `netpol-be-<hash>-v6` (egress).
    public static func bindingSetName(_ chain: PlanChain, _ family: IPAddress.Family) -> String {
        setPrefix + (chain.direction == .ingress ? "bi-" : "be-") + hash(chain) + (family == .ipv4 ? "-v4" : "-v6")
    }

    /// The iptables chain of a plan chain: `NETPOL-I-<hash>` or `NETPOL-E-<hash>`.
    public static func chainName(_ chain: PlanChain) -> String {
        chainPrefix + (chain.direction == .ingress ? "I-" : "E-") + hash(chain)
    }

    /// The iptables chains the plan has for `family` (none where no pod is bound).
    public static func chainNames(_ plan: RulePlan, family: IPAddress.Family) -> [String] {
        boundFamilies(plan).contains(family) ? plan.chains.map(chainName) : []
    }

    /// The hash part of a plan chain's name (`ingress-<hash>`).
    private static func hash(_ chain: PlanChain) -> String {
        String(chain.name.drop { $0 != "-" }.dropFirst())
    }

    // MARK: - ipset

    /// Every set the plan needs, each filled in a temporary set and swapped in,
    /// so a set is never seen half-filled and exists before any rule uses it.
    public static func ipsetScript(_ plan: RulePlan) -> String {
        var lines: [String] = []
        for set in allSets(plan) {
            let type = "\(set.type) family \(set.family == .ipv4 ? "inet" : "inet6")"
            let temporary = set.temporary
            lines.append("create \(set.name) \(type) -exist")
            lines.append("create \(temporary) \(type) -exist")
            lines.append("flush \(temporary)")
            lines += set.elements.map { "add \(temporary) \($0)" }
            lines.append("swap \(temporary) \(set.name)")
            lines.append("destroy \(temporary)")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The names of every ipset the plan uses, peer and binding sets alike.
    public static func setNames(_ plan: RulePlan) -> [String] {
        allSets(plan).map(\.name)
    }

    /// A set as ipset sees it: name, type, elements.
    public struct IpsetSet: Sendable {
        public var name: String
        public var temporary: String
        public var type: String
        public var family: IPAddress.Family
        public var elements: [String]
    }

    /// The plan's peer sets and the binding sets, by ipset name.
    public static func allSets(_ plan: RulePlan) -> [IpsetSet] {
        var sets = plan.sets.map { set -> IpsetSet in
            let type: String
            switch set.kind {
            case .addresses: type = "hash:ip"
            case .prefixes: type = "hash:net"
            case .services: type = "hash:ip,port"
            }
            return IpsetSet(name: setName(set.name), temporary: temporaryName(set.name), type: type, family: set.family, elements: set.elements.map(element))
        }
        for chain in plan.chains {
            for family in boundFamilies(plan) {
                let name = bindingSetName(chain, family)
                let members = plan.bindings.filter { $0.chain == chain.name && $0.address.family == family }.map(\.address.description)
                sets.append(IpsetSet(name: name, temporary: temporaryName(name), type: "hash:ip", family: family, elements: members))
            }
        }
        return sets
    }

    /// The families some local pod is bound in: only those get dispatch rules.
    static func boundFamilies(_ plan: RulePlan) -> [IPAddress.Family] {
        IPAddress.Family.allCases.filter { family in plan.bindings.contains { $0.address.family == family } }
    }

    private static func element(_ element: AddressSet.Element) -> String {
        switch element {
        case .address(let address): return address.description
        case .prefix(let cidr): return cidr.description
        case .service(let address, let proto, let port): return "\(address),\(proto.rawValue.lowercased()):\(port)"
        }
    }

    // MARK: - iptables

    /// `iptables-restore --noflush` input for `family`: declares (and so flushes)
    /// netpol's chains, fills them, and removes `staleChains` (netpol chains in
    /// the kernel the plan no longer has) once nothing jumps to them. One COMMIT:
    /// the filter table changes all at once.
    public static func iptablesScript(_ plan: RulePlan, family: IPAddress.Family, staleChains: [String] = []) -> String {
        var lines = ["*filter", ":\(forwardChain) - [0:0]"]
        lines.append("-A \(forwardChain) -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
        // A family no local pod is bound in needs no chains: nothing would jump to them.
        let chains = boundFamilies(plan).contains(family) ? plan.chains : []
        lines.insert(contentsOf: chains.map { ":\(chainName($0)) - [0:0]" }, at: 2)
        for direction in [Direction.egress, .ingress] {
            for chain in chains where chain.direction == direction {
                let end = direction == .egress ? "src" : "dst"
                lines.append("-A \(forwardChain) -m set --match-set \(bindingSetName(chain, family)) \(end) -j \(chainName(chain))")
            }
        }
        for chain in chains {
            for rule in chain.rules where rule.family == nil || rule.family == family {
                lines += ruleLines(rule, chain: chain)
            }
            lines.append("-A \(chainName(chain)) -j DROP")
        }
        for stale in staleChains where stale != forwardChain {
            lines += ["-F \(stale)", "-X \(stale)"]
        }
        lines.append("COMMIT")
        return lines.map { $0 + "\n" }.joined()
    }

    private static func ruleLines(_ rule: PlanRule, chain: PlanChain) -> [String] {
        let end = chain.direction == .ingress ? "src" : "dst"
        var match = "-A \(chainName(chain))"
        switch rule.peer {
        case .any: break
        case .set(let name, _): match += " -m set --match-set \(setName(name)) \(end)"
        case .services(let name, _): match += " -m set --match-set \(setName(name)) dst,dst"
        }
        let tail = " -m comment --comment \(quoted(rule.origin)) -j RETURN"
        guard let ports = rule.ports else { return [match + tail] }
        let proto = " -p \(ports.protocol.rawValue.lowercased())"
        guard !ports.ranges.isEmpty else { return [match + proto + tail] }
        return portGroups(ports.ranges).map { group in
            let items = group.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            return match + proto + " -m multiport --dports " + items.joined(separator: ",") + tail
        }
    }

    /// Ranges split so that no multiport match exceeds its limit.
    package static func portGroups(_ ranges: [ClosedRange<Int>]) -> [[ClosedRange<Int>]] {
        var groups: [[ClosedRange<Int>]] = [[]]
        var used = 0
        for range in ranges {
            let cost = range.count == 1 ? 1 : 2
            if used + cost > multiportLimit {
                groups.append([])
                used = 0
            }
            groups[groups.count - 1].append(range)
            used += cost
        }
        return groups
    }

    /// A double-quoted iptables-restore argument (comments may hold spaces).
    static func quoted(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 && $0.isASCII }.map(Character.init))
        return "\"" + String(cleaned.prefix(250)) + "\""
    }
}

extension PlanRule {
    /// The address family the rule is limited to by its peer set; nil for any.
    public var family: IPAddress.Family? {
        switch peer {
        case .any: return nil
        case .set(_, let family), .services(_, let family): return family
        }
    }
}
