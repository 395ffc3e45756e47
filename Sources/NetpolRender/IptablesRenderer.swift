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
/// what they deny: netpol only ever drops, so rules after the jump in `FORWARD`
/// (kube-proxy's, a CNI's) still see every allowed packet. An Admin-tier Pass
/// (and the end of the Admin tier) is `-g` to the chain of the NetworkPolicy
/// and Baseline rules, whose `RETURN` goes back to `NETPOL-FORWARD` as the
/// pod's own chain would. With `RulePlan.logging`, a line before each deny
/// point (same matches) sends the packet to `NFLOG` with the point's prefix,
/// within the shared hashlimit `netpol-deny-log`.
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
        bindingSetName(chain: chain.name, chain.direction, family)
    }

    /// The binding set a pod binding is a member of.
    static func bindingSetName(_ binding: PodBinding) -> String {
        bindingSetName(chain: binding.chain, binding.direction, binding.address.family)
    }

    private static func bindingSetName(chain: String, _ direction: Direction, _ family: IPAddress.Family) -> String {
        setPrefix + (direction == .ingress ? "bi-" : "be-") + hash(chain) + (family == .ipv4 ? "-v4" : "-v6")
    }

    /// The iptables chain of a plan chain: `NETPOL-I-<hash>` or `NETPOL-E-<hash>`.
    public static func chainName(_ chain: PlanChain) -> String {
        chainName(chain.name, chain.direction)
    }

    private static func chainName(_ planChain: String, _ direction: Direction) -> String {
        chainPrefix + (direction == .ingress ? "I-" : "E-") + hash(planChain)
    }

    /// The iptables chains the plan has for `family` (none where no pod is bound).
    public static func chainNames(_ plan: RulePlan, family: IPAddress.Family) -> [String] {
        boundFamilies(plan).contains(family) ? plan.chains.map(chainName) : []
    }

    /// The hash part of a plan chain's name (`ingress-<hash>`).
    private static func hash(_ chain: PlanChain) -> String { hash(chain.name) }

    private static func hash(_ chainName: String) -> String {
        String(chainName.drop { $0 != "-" }.dropFirst())
    }

    // MARK: - ipset

    /// Every set the plan needs, each filled in a temporary set and swapped in,
    /// so a set is never seen half-filled and ends exactly as the plan has it.
    /// Swapping widens as well as narrows, so a replace runs it only once the
    /// chains are the plan's (see `narrowingScript(_:kernel:)`).
    public static func ipsetScript(_ plan: RulePlan) -> String {
        var lines: [String] = []
        for set in allSets(plan) {
            let temporary = set.temporary
            lines.append("create \(set.name) \(set.typeAndFamily) -exist")
            lines.append("create \(temporary) \(set.typeAndFamily) -exist")
            lines.append("flush \(temporary)")
            lines += set.elements.map { "add \(temporary) \($0)" }
            lines.append("swap \(temporary) \(set.name)")
            lines.append("destroy \(temporary)")
        }
        return script(lines)
    }

    /// The names of every ipset the plan uses, peer and binding sets alike.
    public static func setNames(_ plan: RulePlan) -> [String] {
        plan.sets.map { setName($0.name) } + bindingSetNames(plan)
    }

    // What a member change does to the rules: a peer set of NetworkPolicy and
    // Accept rules is only matched by rules that let traffic through, a binding
    // set only by dispatch rules that send a pod to a chain that can only drop
    // more, and the known-pod set of a pod-range guard only negated
    // (`! --match-set ... -j DROP`), which makes it act like a peer set. So
    // adding a pod to a binding set or removing an address from a peer or
    // known-pod set can only narrow what passes; the opposite changes can only
    // widen it. A set that a ClusterNetworkPolicy Deny or Pass matches works the
    // other way round: an address joining it narrows (a set that an allow and a
    // Deny both match has no safe order; it counts as a Deny's). An update narrows before the chains
    // change and widens after: every state in between passes no more than the old
    // rules or the new ones would, whenever the agent stops.

    /// `ipset restore` input for the first step of an update from `old` to `new`
    /// (before any chain changes): creates the sets `new` adds, complete (no rule
    /// refers to them yet), adds pods to binding sets and removes addresses from
    /// peer sets. The kernel ends at most as open as under `old`.
    public static func narrowingScript(_ diff: PlanDiff, from old: RulePlan, to new: RulePlan) -> String {
        let oldBindingSets = Set(bindingSetNames(old))
        // A new binding set starts empty: every pod bound to it is an added binding.
        let created = diff.addedSets.map(ipsetSet) + bindingSets(new, members: []).filter { !oldBindingSets.contains($0.name) }
        var lines = created.flatMap(creationLines)
        lines += diff.addedBindings.map { "add \(bindingSetName($0)) \($0.address) -exist" }
        let denying = new.denyingSets
        for change in diff.elementChanges {
            lines += denying.contains(change.set) ? change.added.flatMap(members).map { "add \(setName(change.set)) \($0) -exist" }
                : change.removed.flatMap(members).map { "del \(setName(change.set)) \($0) -exist" }
        }
        return script(lines)
    }

    /// `ipset restore` input for the step after the chains changed: adds
    /// addresses to peer sets and removes pods from binding sets that stay, which
    /// takes the kernel from stricter than `new` to exactly `new`.
    public static func wideningScript(_ diff: PlanDiff, to new: RulePlan) -> String {
        var lines: [String] = []
        let denying = new.denyingSets
        for change in diff.elementChanges {
            lines += denying.contains(change.set) ? change.removed.flatMap(members).map { "del \(setName(change.set)) \($0) -exist" }
                : change.added.flatMap(members).map { "add \(setName(change.set)) \($0) -exist" }
        }
        let kept = Set(bindingSetNames(new))
        lines += diff.removedBindings.filter { kept.contains(bindingSetName($0)) }.map { "del \(bindingSetName($0)) \($0.address) -exist" }
        return script(lines)
    }

    /// The sets of `old` that `new` no longer has: destroyed last, once no rule refers to them.
    public static func staleSetNames(_ diff: PlanDiff, from old: RulePlan, to new: RulePlan) -> [String] {
        let kept = Set(bindingSetNames(new))
        return diff.removedSets.map(setName) + bindingSetNames(old).filter { !kept.contains($0) }
    }

    /// `ipset restore` input for the first step of a replace, when the kernel's
    /// sets are known only by what `ipset save` printed (`kernel`: set name to
    /// members): the same narrowing as an update's first step. Sets the kernel
    /// lacks are created complete, every bound pod is added to the binding set
    /// that exists, and peer sets lose the members the plan does not have. A
    /// member printed otherwise than netpol renders it is removed too, which is
    /// safe: `ipsetScript` puts it back after the chains are rewritten.
    public static func narrowingScript(_ plan: RulePlan, kernel: [String: Set<String>]) -> String {
        var lines: [String] = []
        let denying = Set(plan.denyingSets.map(setName))
        for set in allSets(plan) {
            guard let members = kernel[set.name] else {
                lines += creationLines(set)
                continue
            }
            if set.isBinding || denying.contains(set.name) {
                lines += set.elements.map { "add \(set.name) \($0) -exist" }
            } else {
                let wanted = Set(set.elements.map(savedForm))
                lines += members.filter { !wanted.contains($0) }.sorted().map { "del \(set.name) \($0) -exist" }
            }
        }
        return script(lines)
    }

    /// The members of netpol's sets in `ipset save` output, by set name.
    public static func savedSets(_ saved: String) -> [String: Set<String>] {
        var sets: [String: Set<String>] = [:]
        for line in saved.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, words[1].hasPrefix(setPrefix) else { continue }
            let name = String(words[1])
            if words[0] == "create", sets[name] == nil { sets[name] = [] }
            if words[0] == "add", words.count >= 3 { sets[name, default: []].insert(String(words[2])) }
        }
        return sets
    }

    /// A set as ipset sees it: name, type, elements.
    public struct IpsetSet: Sendable {
        public var name: String
        public var temporary: String
        public var type: String
        public var family: IPAddress.Family
        public var elements: [String]
        /// A binding set (pods judged by a chain) rather than a peer set.
        public var isBinding: Bool

        var typeAndFamily: String { "\(type) family \(family == .ipv4 ? "inet" : "inet6")" }
    }

    /// The plan's peer sets and the binding sets, by ipset name.
    public static func allSets(_ plan: RulePlan) -> [IpsetSet] {
        plan.sets.map(ipsetSet) + bindingSets(plan, members: plan.bindings)
    }

    private static func ipsetSet(_ set: AddressSet) -> IpsetSet {
        let type: String
        switch set.kind {
        case .addresses: type = "hash:ip"
        case .prefixes: type = "hash:net"
        case .services: type = "hash:ip,port"
        }
        return IpsetSet(name: setName(set.name), temporary: temporaryName(set.name), type: type, family: set.family, elements: set.elements.flatMap(members), isBinding: false)
    }

    /// One binding set per chain and bound family of `plan`, holding the addresses of `members` bound to it.
    private static func bindingSets(_ plan: RulePlan, members bindings: [PodBinding]) -> [IpsetSet] {
        var members: [String: [String]] = [:]
        for binding in bindings { members[bindingSetName(binding), default: []].append(binding.address.description) }
        return plan.chains.flatMap { chain in
            boundFamilies(plan).map { family in
                let name = bindingSetName(chain, family)
                return IpsetSet(name: name, temporary: temporaryName(name), type: "hash:ip", family: family, elements: members[name] ?? [], isBinding: true)
            }
        }
    }

    private static func bindingSetNames(_ plan: RulePlan) -> [String] {
        bindingSets(plan, members: []).map(\.name)
    }

    /// A set made from nothing: safe only while no rule refers to it.
    private static func creationLines(_ set: IpsetSet) -> [String] {
        ["create \(set.name) \(set.typeAndFamily) -exist", "flush \(set.name)"] + set.elements.map { "add \(set.name) \($0)" }
    }

    /// The families some local pod is bound in: only those get dispatch rules.
    static func boundFamilies(_ plan: RulePlan) -> [IPAddress.Family] {
        IPAddress.Family.allCases.filter { family in plan.bindings.contains { $0.address.family == family } }
    }

    /// The ipset members of one element. `hash:net` refuses a prefix length of 0,
    /// so every address (`0.0.0.0/0`, `::/0`) is written as its two halves.
    private static func members(_ element: AddressSet.Element) -> [String] {
        switch element {
        case .address(let address): return [address.description]
        case .prefix(let cidr) where cidr.prefixLength == 0:
            let halfBit = UInt128(1) << (cidr.family.bitCount - 1)
            return [CIDR(network: IPAddress(family: cidr.family, bits: 0), prefixLength: 1).description,
                    CIDR(network: IPAddress(family: cidr.family, bits: halfBit), prefixLength: 1).description]
        case .prefix(let cidr): return [cidr.description]
        case .service(let address, let proto, let port): return ["\(address),\(proto.rawValue.lowercased()):\(port)"]
        }
    }

    /// A member as `ipset save` prints it: a single-address prefix without its length.
    private static func savedForm(_ member: String) -> String {
        for suffix in ["/32", "/128"] where member.hasSuffix(suffix) { return String(member.dropLast(suffix.count)) }
        return member
    }

    private static func script(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }

    // MARK: - iptables

    /// `iptables-restore --noflush` input for `family`: declares (and so flushes)
    /// netpol's chains, fills them, and removes `staleChains` (netpol chains in
    /// the kernel the plan no longer has) once nothing jumps to them. One COMMIT:
    /// the filter table changes all at once.
    /// - Parameter rewriting: the plan chains to write (nil: all); the others
    ///   must already be in the kernel as the plan has them. The dispatch chain
    ///   is always written whole.
    public static func iptablesScript(_ plan: RulePlan, family: IPAddress.Family, rewriting: Set<String>? = nil, staleChains: [String] = []) -> String {
        var lines = ["*filter", ":\(forwardChain) - [0:0]"]
        // A family no local pod is bound in needs no chains: nothing would jump to them.
        let chains = boundFamilies(plan).contains(family) ? plan.chains : []
        let written = chains.filter { rewriting?.contains($0.name) ?? true }
        lines += written.map { ":\(chainName($0)) - [0:0]" }
        lines.append("-A \(forwardChain) -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
        lines += guardLines(plan, family: family)
        for direction in [Direction.egress, .ingress] {
            for chain in chains where chain.direction == direction {
                let end = direction == .egress ? "src" : "dst"
                lines.append("-A \(forwardChain) -m set --match-set \(bindingSetName(chain, family)) \(end) -j \(chainName(chain))")
            }
        }
        for chain in written {
            lines += chainLines(chain, family: family, logging: plan.logging).map(\.text)
        }
        // All emptied before any is removed: one may go to another.
        let stale = staleChains.filter { $0 != forwardChain }
        lines += stale.map { "-F \($0)" } + stale.map { "-X \($0)" }
        lines.append("COMMIT")
        return script(lines)
    }

    /// `iptables-restore --noflush` input that turns `family`'s chains from
    /// `old` into `new`: the added and rewritten chains, the dispatch chain, and
    /// the removal of chains `new` no longer has, in one COMMIT. Nil when the
    /// family's chains are the same in both.
    public static func iptablesScript(_ diff: PlanDiff, from old: RulePlan, to new: RulePlan, family: IPAddress.Family) -> String? {
        let wasBound = boundFamilies(old).contains(family), isBound = boundFamilies(new).contains(family)
        let rewriting: Set<String>
        switch (wasBound, isBound) {
        case (true, true): rewriting = Set((diff.addedChains + diff.changedChains).map(\.name))
        case (false, true): rewriting = Set(new.chains.map(\.name))
        default: rewriting = []
        }
        let removed = isBound ? Set(diff.removedChains) : Set(old.chains.map(\.name))
        let stale = wasBound ? old.chains.filter { removed.contains($0.name) }.map(chainName) : []
        if rewriting.isEmpty && stale.isEmpty { return nil }
        return iptablesScript(new, family: family, rewriting: rewriting, staleChains: stale)
    }

    /// The base chain's guards for `family`, as iptables-save prints them:
    /// only a SYN opens a TCP connection (with `synOnlyOpens`), and an address
    /// in the pod ranges that no known pod holds is dropped either way (logged
    /// first, with logging).
    private static func guardLines(_ plan: RulePlan, family: IPAddress.Family) -> [String] {
        var lines: [String] = []
        if plan.guards.synOnlyOpens {
            lines.append("-A \(forwardChain) -p tcp -m conntrack --ctstate NEW -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN"
                         + " -m comment --comment \(quoted("only a SYN opens a TCP connection (established=recheck)")) -j DROP")
        }
        for rangeGuard in plan.podRangeGuards where rangeGuard.family == family {
            for range in rangeGuard.ranges {
                for (flag, end, role) in [("-s", "src", "source"), ("-d", "dst", "destination")] {
                    let match = "-A \(forwardChain) \(flag) \(range) -m set ! --match-set \(setName(rangeGuard.knownPods)) \(end)"
                    if let logging = plan.logging { lines.append(match + " " + logTarget(.podRangeGuard, logging)) }
                    lines.append(match + " -m comment --comment \(quoted("a pod-range \(role) no known pod holds (isolate-new-pods)")) -j DROP")
                }
            }
        }
        return lines
    }

    /// One line of a chain, as iptables-restore takes it and iptables-save
    /// gives it back in the same place, with the plan rule it renders.
    public struct ChainLine: Hashable, Sendable {
        public var text: String
        /// The plan rule's index; nil for the chain's end.
        public var rule: Int?
        /// A line that only logs (and so counts nothing anyone decided).
        public var logs: Bool
    }

    /// The lines of `chain` for `family`, in kernel order: each plan rule of
    /// the family (one line per group of at most 15 ports), then the end;
    /// with logging, each deny point preceded by a line with the same matches
    /// that only logs. The one mapping from the kernel's lines, and so their
    /// counters, back to plan rules.
    public static func chainLines(_ chain: PlanChain, family: IPAddress.Family, logging: DenyLogging?) -> [ChainLine] {
        func logLines(_ index: Int?, _ match: String) -> [ChainLine] {
            guard let logging, let point = chain.denyPoint(rule: index) else { return [] }
            return [ChainLine(text: match + " " + logTarget(point, logging), rule: index, logs: true)]
        }
        var lines: [ChainLine] = []
        for (index, rule) in chain.rules.enumerated() where rule.family == nil || rule.family == family {
            let tail = " -m comment --comment \(quoted(rule.origin)) " + target(rule.action, chain.direction)
            for match in matchLines(rule, chain: chain) {
                lines += logLines(index, match) + [ChainLine(text: match + tail, rule: index, logs: false)]
            }
        }
        let end = "-A \(chainName(chain))"
        return lines + logLines(nil, end) + [ChainLine(text: end + " " + target(chain.end, chain.direction), rule: nil, logs: false)]
    }

    /// `-A CHAIN` and a rule's matches: the other end's set, the protocol and
    /// a group of ports.
    private static func matchLines(_ rule: PlanRule, chain: PlanChain) -> [String] {
        let end = chain.direction == .ingress ? "src" : "dst"
        var match = "-A \(chainName(chain))"
        switch rule.peer {
        case .any: break
        case .set(let name, _): match += " -m set --match-set \(setName(name)) \(end)"
        case .services(let name, _): match += " -m set --match-set \(setName(name)) dst,dst"
        }
        guard let ports = rule.ports else { return [match] }
        let proto = " -p \(ports.protocol.rawValue.lowercased())"
        guard !ports.ranges.isEmpty else { return [match + proto] }
        return portGroups(ports.ranges).map { group in
            let items = group.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            return match + proto + " -m multiport --dports " + items.joined(separator: ",")
        }
    }

    /// The hashlimit table every log rule of a family shares: with one name
    /// and no `--hashlimit-mode`, one bucket for all of them.
    public static let denyLogLimit = "netpol-deny-log"

    /// What a log line adds to its matches, as iptables-save prints it: within
    /// the shared limit, to the NFLOG group with the deny point's prefix (NFLOG
    /// keeps at most 63 bytes of it; a `DenyPoint` prefix fits).
    static func logTarget(_ point: DenyPoint, _ logging: DenyLogging) -> String {
        "-m hashlimit --hashlimit-upto \(logging.rate)/sec --hashlimit-burst \(logging.burst) --hashlimit-name \(denyLogLimit)"
            + " -j NFLOG --nflog-prefix \(quoted(point.prefix)) --nflog-group \(logging.group)"
    }

    /// The target of an action: `-j RETURN` for an allow (netpol only drops),
    /// `-j DROP`, or `-g` to the chain that decides instead.
    static func target(_ action: PlanRule.Action, _ direction: Direction) -> String {
        switch action {
        case .allow: return "-j RETURN"
        case .deny: return "-j DROP"
        case .goto(let chain): return "-g " + chainName(chain, direction)
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
