import NetpolEngine
import NetpolModel
import NetpolRules

/// Renders a `RulePlan` as an `nft -f` script for nftables 1.0 or later.
///
/// The script replaces the whole `inet netpol` table in one transaction (`add`
/// then `delete` then the full definition), so the kernel never holds half a
/// ruleset: on first start, on every later apply, and over a table left by an
/// earlier run. Layout: one base chain on the forward hook at filter priority
/// that accepts established and related packets, then looks the source address
/// up in the egress maps and the destination address in the ingress maps; those
/// verdict maps jump to one chain per distinct rule list. A chain's rules
/// decide in order: an allow is `accept` on ingress and `return` on egress
/// (back to the base chain, on to the destination's ingress check), a deny is
/// `drop`, and an Admin-tier Pass is `goto` the chain of the NetworkPolicy and
/// Baseline rules, whose end returns to the base chain as the pod's own would.
/// With `RulePlan.logging`, a rule before each deny point (same matches, no
/// verdict) logs the packet to an NFLOG group with the point's prefix, within
/// the table's named limit `deny-log`. With `RulePlan.countsConnections`,
/// every chain rule and chain end (not the log rules, not the base chain)
/// carries a `counter`, which `NftablesProgrammer.readCounters()` reads.
public enum NftablesRenderer {
    public static let table = "netpol"
    public static let family = "inet"

    /// The script that makes the kernel's `inet netpol` table equal `plan`.
    public static func script(_ plan: RulePlan) -> String {
        var lines = [
            "# netpol ruleset for node \(quotedComment(plan.node)): \(plan.chains.count) chains, \(plan.ruleCount) rules, \(plan.elementCount) set and map elements",
            "add table \(family) \(table)",
            "delete table \(family) \(table)",
        ]
        lines += definition(plan)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `table inet netpol { ... }` alone, as `nft list table inet netpol` would show it.
    public static func definition(_ plan: RulePlan) -> [String] {
        var lines = ["table \(family) \(table) {"]
        if let logging = plan.logging {
            lines += ["\tlimit \(denyLogLimit) {", "\t\t" + limitText(logging), "\t}"]
        }
        for set in plan.sets {
            lines += setLines(set)
        }
        let podsByChain = plan.podsByChain
        for chain in plan.chainsInDefinitionOrder {
            let pods = podsByChain[chain.name]?.map(\.description).joined(separator: ", ") ?? "no pod now (kept for reuse)"
            lines.append("\tchain \(chain.name) {")
            lines.append("\t\t# \(chain.direction.rawValue.lowercased()) of \(pods)")
            lines += chainRules(chain, logging: plan.logging, counting: plan.countsConnections).map { "\t\t" + $0 }
            lines.append("\t}")
        }
        for direction in Direction.allCases {
            for addressFamily in IPAddress.Family.allCases {
                let bindings = plan.bindings.filter { $0.direction == direction && $0.address.family == addressFamily }
                lines.append("\tmap \(mapName(direction, addressFamily)) {")
                lines.append("\t\ttype \(addressType(addressFamily)) : verdict")
                if !bindings.isEmpty {
                    lines += elementLines(bindings.map { "\($0.address) : jump \($0.chain)" })
                }
                lines.append("\t}")
            }
        }
        lines += ["\tchain forward {", "\t\ttype filter hook forward priority filter; policy accept;"]
        lines += baseRules(plan).map { "\t\t" + $0.text }
        lines += ["\t}", "}"]
        return lines
    }

    /// A rule of the base chain, in the words `nft -j` reads back as.
    public struct BaseRule: Hashable, Sendable {
        public var statements: [String]
        public var verdict: String?
        public var comment: String?

        var text: String {
            (statements + [verdict].compactMap { $0 } + [comment.map { "comment \(quotedComment($0))" }].compactMap { $0 }).joined(separator: " ")
        }
    }

    /// The base chain on the forward hook: established and related packets
    /// pass; with `synOnlyOpens`, a TCP packet other than a SYN opens nothing;
    /// an address in the pod ranges that no known pod holds is dropped either
    /// way (logged first, with logging); then the maps hand local pods to
    /// their chains, egress first.
    public static func baseRules(_ plan: RulePlan) -> [BaseRule] {
        var rules = [BaseRule(statements: ["ct state established,related"], verdict: "accept")]
        if plan.guards.synOnlyOpens {
            rules.append(BaseRule(statements: ["ct state new", "tcp flags != syn / fin,syn,rst,ack"], verdict: "drop",
                                  comment: "only a SYN opens a TCP connection (established=recheck)"))
        }
        for rangeGuard in plan.podRangeGuards {
            let family = rangeGuard.family == .ipv4 ? "ip" : "ip6"
            let ranges = rangeGuard.ranges.map(rangeText)
            let rangesText = ranges.count == 1 ? ranges[0] : "{ " + ranges.joined(separator: ", ") + " }"
            for (end, role) in [("saddr", "source"), ("daddr", "destination")] {
                let matches = ["\(family) \(end) \(rangesText)", "\(family) \(end) != @\(rangeGuard.knownPods)"]
                if let logging = plan.logging {
                    rules.append(BaseRule(statements: matches + logStatements(.podRangeGuard, logging)))
                }
                rules.append(BaseRule(statements: matches, verdict: "drop", comment: "a pod-range \(role) no known pod holds (isolate-new-pods)"))
            }
        }
        for (end, direction) in [("saddr", Direction.egress), ("daddr", .ingress)] {
            for family in IPAddress.Family.allCases {
                rules.append(BaseRule(statements: ["\(family == .ipv4 ? "ip" : "ip6") \(end) vmap @\(mapName(direction, family))"]))
            }
        }
        return rules
    }

    /// A pod range as nft prints it: a single address without its length.
    private static func rangeText(_ range: CIDR) -> String {
        range.prefixLength == range.family.bitCount ? range.network.description : range.description
    }

    /// The verdict map of local pod addresses for one direction and family.
    public static func mapName(_ direction: Direction, _ family: IPAddress.Family) -> String {
        "\(direction.rulesField)-pods-\(family == .ipv4 ? "v4" : "v6")"
    }

    /// The script that changes a kernel holding one plan into holding the next,
    /// as one transaction: new sets and chains first, then set elements, rewritten
    /// chains and pod bindings, and last the chains and sets nothing refers to
    /// any more. Empty when there is nothing to change.
    /// - Parameters:
    ///   - logging: the logging of the plans on both sides (a change of it
    ///     needs the whole table written): rewritten chains keep their log rules.
    ///   - counting: their `countsConnections`, likewise.
    public static func script(_ diff: PlanDiff, logging: DenyLogging? = nil, counting: Bool = false) -> String {
        guard !diff.isEmpty else { return "" }
        let prefix = "\(family) \(table)"
        var lines = ["# netpol incremental update: \(diff.elementCount) elements, \(diff.ruleCount) rules"]
        for set in diff.addedSets {
            lines.append("add set \(prefix) \(set.name) { \(setProperties(set).joined(separator: "; ")); }")
            lines += elementStatements("add", set.name, set.elements.map(elementText))
        }
        // Every new chain exists before any rule goes to it.
        lines += diff.addedChains.map { "add chain \(prefix) \($0.name)" }
        for chain in diff.addedChains {
            lines += chainRules(chain, logging: logging, counting: counting).map { "add rule \(prefix) \(chain.name) \($0)" }
        }
        for change in diff.elementChanges {
            lines += elementStatements("delete", change.set, change.removed.map(elementText))
            lines += elementStatements("add", change.set, change.added.map(elementText))
        }
        for chain in diff.changedChains {
            lines.append("flush chain \(prefix) \(chain.name)")
            lines += chainRules(chain, logging: logging, counting: counting).map { "add rule \(prefix) \(chain.name) \($0)" }
        }
        for binding in diff.removedBindings {
            lines += elementStatements("delete", mapName(binding.direction, binding.address.family), [binding.address.description])
        }
        for binding in diff.addedBindings {
            lines += elementStatements("add", mapName(binding.direction, binding.address.family), ["\(binding.address) : jump \(binding.chain)"])
        }
        // Emptied first, so that no chain that goes to another stops its deletion.
        lines += diff.removedChains.map { "flush chain \(prefix) \($0)" }
        lines += diff.removedChains.map { "delete chain \(prefix) \($0)" }
        lines += diff.removedSets.map { "delete set \(prefix) \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `VERB element inet netpol SET { ... }`, in statements of at most 500 elements.
    private static func elementStatements(_ verb: String, _ set: String, _ elements: [String]) -> [String] {
        stride(from: 0, to: elements.count, by: 500).map { start in
            "\(verb) element \(family) \(table) \(set) { " + elements[start..<min(start + 500, elements.count)].joined(separator: ", ") + " }"
        }
    }

    /// `nft delete table inet netpol`, the whole cleanup.
    public static var cleanupScript: String {
        "add table \(family) \(table)\ndelete table \(family) \(table)\n"
    }

    // MARK: - Pieces

    private static func setLines(_ set: AddressSet) -> [String] {
        var lines = ["\tset \(set.name) {"]
        lines += setProperties(set).map { "\t\t" + $0 }
        if !set.elements.isEmpty {
            lines += elementLines(set.elements.map(elementText))
        }
        lines.append("\t}")
        return lines
    }

    /// `elements = { a, b, ... }`, several per line so that big sets stay readable.
    private static func elementLines(_ elements: [String]) -> [String] {
        let perLine = 8
        var lines: [String] = []
        for start in stride(from: 0, to: elements.count, by: perLine) {
            let chunk = elements[start..<min(start + perLine, elements.count)].joined(separator: ", ")
            let opening = start == 0 ? "\t\telements = { " : "\t\t\t     "
            let closing = start + perLine >= elements.count ? " }" : ","
            lines.append(opening + chunk + closing)
        }
        return lines
    }

    /// The type, flags and comment of a set.
    private static func setProperties(_ set: AddressSet) -> [String] {
        switch set.kind {
        case .addresses:
            return ["type \(addressType(set.family))", "comment \(quotedComment(set.origin))"]
        case .prefixes:
            return ["type \(addressType(set.family))", "flags interval", "comment \(quotedComment(set.origin))"]
        case .services:
            return ["type \(addressType(set.family)) . inet_proto . inet_service", "comment \(quotedComment(set.origin))"]
        }
    }

    /// A chain's rules, its end included; with logging, each deny point is
    /// preceded by a rule with the same matches that only logs; with
    /// counting, every rule but those has a counter before its verdict.
    private static func chainRules(_ chain: PlanChain, logging: DenyLogging?, counting: Bool) -> [String] {
        let counter = counting ? [counterStatement] : []
        func logLine(_ index: Int?, _ matches: [String]) -> [String] {
            guard let logging, let point = chain.denyPoint(rule: index) else { return [] }
            return [(matches + logStatements(point, logging)).joined(separator: " ")]
        }
        var lines: [String] = []
        for (index, rule) in chain.rules.enumerated() {
            let matches = matchText(rule, direction: chain.direction)
            lines += logLine(index, matches)
            lines.append((matches + counter + [verdict(rule.action, chain.direction), "comment \(quotedComment(rule.origin))"]).joined(separator: " "))
        }
        return lines + logLine(nil, []) + [(counter + [verdict(chain.end, chain.direction)]).joined(separator: " ")]
    }

    /// The statement that counts a rule's packets (nft lists it with its
    /// values: `counter packets 3 bytes 180`).
    public static let counterStatement = "counter"

    /// The plan rule each counted rule of `chain` renders, in kernel order
    /// (nil: the chain's end): every plan rule is one nft rule, so this is the
    /// whole mapping from the kernel's counted rules back to the plan.
    public static func countedRules(_ chain: PlanChain) -> [Int?] {
        chain.positions
    }

    /// The named limit object every log rule of the table shares: one bucket
    /// for the node (both families), so a flood cannot outrun the log reader.
    public static let denyLogLimit = "deny-log"

    /// The limit object's body, as `nft list` prints it.
    public static func limitText(_ logging: DenyLogging) -> String {
        "rate \(logging.rate)/second burst \(logging.burst) packets"
    }

    /// The statements of a log rule, as `nft list` prints them: within the
    /// shared limit, to the NFLOG group with the deny point's prefix.
    public static func logStatements(_ point: DenyPoint, _ logging: DenyLogging) -> [String] {
        ["limit name \"\(denyLogLimit)\"", "log prefix \"\(point.prefix)\" group \(logging.group)"]
    }

    /// The nft verdict of an action: an allow accepts on ingress and returns to
    /// the base chain on egress (the destination's ingress check comes next).
    public static func verdict(_ action: PlanRule.Action, _ direction: Direction) -> String {
        switch action {
        case .allow: return direction == .ingress ? "accept" : "return"
        case .deny: return "drop"
        case .goto(let chain): return "goto \(chain)"
        }
    }

    private static func elementText(_ element: AddressSet.Element) -> String {
        switch element {
        case .address(let address): return address.description
        case .prefix(let cidr): return cidr.description
        case .service(let address, let proto, let port): return "\(address) . \(proto.rawValue.lowercased()) . \(port)"
        }
    }

    /// A rule's matches: the other end's address (source for ingress,
    /// destination for egress), the protocol and ports.
    static func matchText(_ rule: PlanRule, direction: Direction) -> [String] {
        let end = direction == .ingress ? "saddr" : "daddr"
        var parts: [String] = []
        switch rule.peer {
        case .any:
            break
        case .set(let name, let family):
            parts.append("\(family == .ipv4 ? "ip" : "ip6") \(end) @\(name)")
        case .services(let name, let family):
            parts.append("\(family == .ipv4 ? "ip" : "ip6") \(end) . meta l4proto . th dport @\(name)")
        }
        if let ports = rule.ports {
            parts.append("meta l4proto \(ports.protocol.rawValue.lowercased())")
            if !ports.ranges.isEmpty {
                let items = ports.ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                parts.append("th dport " + (items.count == 1 ? items[0] : "{ " + items.joined(separator: ", ") + " }"))
            }
        }
        return parts
    }

    private static func addressType(_ family: IPAddress.Family) -> String {
        family == .ipv4 ? "ipv4_addr" : "ipv6_addr"
    }

    /// A double-quoted nft string: at most 128 bytes (the kernel's limit for
    /// comments), without quotes or control characters.
    static func quotedComment(_ text: String) -> String {
        "\"" + commentText(text) + "\""
    }

    /// A comment as nft stores it: at most 127 bytes of printable ASCII, without
    /// quotes; what `nft list` shows between the quotes.
    public static func commentText(_ text: String) -> String {
        var cleaned = String(text.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 && $0.isASCII }.map(Character.init))
        while cleaned.utf8.count > 127 { cleaned.removeLast() }
        return cleaned
    }
}
