import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules

/// Compares the `inet netpol` table the kernel holds with the plan netpol last
/// applied: every set with exactly its elements, the four verdict maps with
/// exactly the pod bindings, every chain with the same rules in the same order
/// (final drop included), the base chain on its hook, and nothing more.
enum NftablesDriftFinder {
    static func drift(_ plan: RulePlan, kernel: KernelTable) -> [Drift] {
        var drift: [Drift] = []
        let maps = Set(Direction.allCases.flatMap { direction in IPAddress.Family.allCases.map { NftablesRenderer.mapName(direction, $0) } })
        for set in plan.sets {
            guard let held = kernel.sets[set.name] else {
                drift.append(Drift(.set, set.name, "missing"))
                continue
            }
            if let difference = typeDifference(set, held) {
                drift.append(Drift(.set, set.name, difference))
            } else if let difference = elementDifference(expected: elements(set), held: held) {
                drift.append(Drift(.set, set.name, difference))
            }
        }
        for name in maps.sorted() {
            let bindings = plan.bindings.filter { NftablesRenderer.mapName($0.direction, $0.address.family) == name }
            guard let held = kernel.sets[name], held.isVerdictMap else {
                drift.append(Drift(.binding, name, "missing"))
                continue
            }
            if let difference = elementDifference(expected: bindings.map { .binding($0.address, $0.chain) }, held: held) {
                drift.append(Drift(.binding, name, difference))
            }
        }
        let planned = Set(plan.sets.map(\.name))
        drift += kernel.sets.keys.filter { !planned.contains($0) && !maps.contains($0) }.sorted().map { Drift(.set, $0, "unexpected") }

        for chain in plan.chains {
            guard let held = kernel.chains[chain.name] else {
                drift.append(Drift(.chain, chain.name, "missing"))
                continue
            }
            if let difference = Drift.ruleDifference(expected: shapes(chain, logging: plan.logging, counting: plan.countsConnections), held: held.rules) {
                drift.append(Drift(.chain, chain.name, difference))
            }
        }
        drift += limitDrift(plan, kernel: kernel)
        drift += forwardDrift(kernel.chains[forward], plan)
        let chains = Set(plan.chains.map(\.name) + [forward])
        drift += kernel.chains.keys.filter { !chains.contains($0) }.sorted().map { Drift(.chain, $0, "unexpected") }
        return drift
    }

    private static let forward = "forward"

    // MARK: - Sets

    private static func keyType(_ family: IPAddress.Family) -> String { family == .ipv4 ? "ipv4_addr" : "ipv6_addr" }

    private static func typeDifference(_ set: AddressSet, _ held: KernelSet) -> String? {
        let type = set.kind == .services ? "\(keyType(set.family)) . inet_proto . inet_service" : keyType(set.family)
        let interval = set.kind == .prefixes
        guard held.type != type || held.isInterval != interval || held.isVerdictMap else { return nil }
        func describe(_ type: String, _ interval: Bool) -> String { type + (interval ? " (interval)" : "") }
        return "type \(describe(held.type, held.isInterval)), plan has \(describe(type, interval))"
    }

    /// The plan's elements in the form the reader gives the kernel's.
    private static func elements(_ set: AddressSet) -> [KernelElement] {
        set.elements.map { element in
            switch element {
            case .address(let address): return .addresses(AddressRange(address, address))
            case .prefix(let cidr): return .addresses(AddressRange(cidr))
            case .service(let address, let proto, let port): return .service(address, proto.rawValue.lowercased(), port)
            }
        }
    }

    /// What the kernel's elements lack and hold beyond `expected`, or nil when
    /// they agree. Interval sets are compared as merged ranges, since nft may
    /// print a prefix as a range and join adjacent ones.
    private static func elementDifference(expected: [KernelElement], held: KernelSet) -> String? {
        var wanted = Set(expected), actual = Set(held.elements)
        if held.isInterval {
            wanted = Set(mergedRanges(expected))
            actual = Set(mergedRanges(held.elements))
        }
        if wanted == actual { return nil }
        let missing = wanted.subtracting(actual).map(text).sorted(), unexpected = actual.subtracting(wanted).map(text).sorted()
        return [(missing, "missing"), (unexpected, "unexpected")].filter { !$0.0.isEmpty }.map { items, word in
            "\(items.count) \(items.count == 1 ? "element" : "elements") \(word): \(Drift.listing(items))"
        }.joined(separator: "; ")
    }

    private static func mergedRanges(_ elements: [KernelElement]) -> [KernelElement] {
        let ranges = elements.compactMap { element -> AddressRange? in
            if case .addresses(let range) = element { return range }
            return nil
        }
        return AddressRange.merged(ranges).map(KernelElement.addresses) + elements.filter {
            if case .addresses = $0 { return false }
            return true
        }
    }

    private static func text(_ element: KernelElement) -> String {
        switch element {
        case .addresses(let range): return range.description
        case .service(let address, let proto, let port): return "\(address) . \(proto) . \(port)"
        case .binding(let address, let chain): return "\(address) : jump \(chain)"
        case .other(let json): return json
        }
    }

    // MARK: - Chains

    /// A plan chain's rules as the reader shapes the kernel's, its end
    /// included, with a log rule before each deny point when the plan logs
    /// and a counter on every other rule when it counts.
    private static func shapes(_ chain: PlanChain, logging: DenyLogging?, counting: Bool) -> [NftRuleShape] {
        let counter = counting ? [NftablesRenderer.counterStatement] : []
        let end = chain.direction == .ingress ? "saddr" : "daddr"
        func address(_ family: IPAddress.Family) -> String { family == .ipv4 ? "ip" : "ip6" }
        func logShape(_ index: Int?, _ matches: NftRuleShape) -> [NftRuleShape] {
            guard let logging, let point = chain.denyPoint(rule: index) else { return [] }
            var shape = matches
            shape.statements = NftablesRenderer.logStatements(point, logging)
            return [shape]
        }
        var shapes: [NftRuleShape] = []
        for (index, rule) in chain.rules.enumerated() {
            var shape = NftRuleShape()
            switch rule.peer {
            case .any: break
            case .set(let name, let family): shape.lookup = "\(address(family)) \(end) @\(name)"
            case .services(let name, let family): shape.lookup = "\(address(family)) \(end) . meta l4proto . th dport @\(name)"
            }
            if let ports = rule.ports {
                shape.protocol = ports.protocol.rawValue.lowercased()
                shape.ports = NftRuleShape.merged(ports.ranges)
            }
            shapes += logShape(index, shape)
            shape.statements = counter
            shape.verdict = NftablesRenderer.verdict(rule.action, chain.direction)
            shape.comment = NftablesRenderer.commentText(rule.origin)
            shapes.append(shape)
        }
        return shapes + logShape(nil, NftRuleShape()) + [NftRuleShape(statements: counter, verdict: NftablesRenderer.verdict(chain.end, chain.direction))]
    }

    /// The shared log limit with the plan's rate and burst, when the plan
    /// logs, and no other limit object.
    private static func limitDrift(_ plan: RulePlan, kernel: KernelTable) -> [Drift] {
        let expected = plan.logging.map { [NftablesRenderer.denyLogLimit: NftablesRenderer.limitText($0)] } ?? [:]
        func object(_ name: String) -> String { "\(NftablesRenderer.family) \(NftablesRenderer.table) limit \(name)" }
        var drift: [Drift] = []
        for (name, text) in expected where kernel.limits[name] != text {
            drift.append(Drift(.table, object(name), kernel.limits[name].map { "`\($0)`, plan has `\(text)`" } ?? "missing"))
        }
        drift += kernel.limits.keys.filter { expected[$0] == nil }.sorted().map { Drift(.table, object($0), "unexpected") }
        return drift
    }

    /// The base chain: on the forward hook at filter priority, with the rules
    /// `NftablesRenderer.baseRules` gives.
    private static func forwardDrift(_ held: KernelChain?, _ plan: RulePlan) -> [Drift] {
        let object = "\(NftablesRenderer.family) \(NftablesRenderer.table) \(forward)"
        guard let held else { return [Drift(.table, object, "missing")] }
        let hook = "filter hook forward priority 0 policy accept"
        guard held.hook == hook else { return [Drift(.table, object, "hook `\(held.hook ?? "none")`, expected `\(hook)`")] }
        let expected = NftablesRenderer.baseRules(plan).map { rule in
            NftRuleShape(statements: rule.statements.map(addressesAsRead), verdict: rule.verdict, comment: rule.comment.map(NftablesRenderer.commentText))
        }
        return Drift.ruleDifference(expected: expected, held: held.rules).map { [Drift(.table, object, $0)] } ?? []
    }

    /// A statement as the reader gives it back: the prefixes of an address
    /// match (`ip saddr { 10.0.1.0/24, 10.0.2.0/25 }`) merged as nft merges them.
    private static func addressesAsRead(_ statement: String) -> String {
        let words = statement.split(separator: " ").map(String.init)
        guard words.count >= 3, ["ip", "ip6"].contains(words[0]), ["saddr", "daddr"].contains(words[1]) else { return statement }
        let items = words.dropFirst(2).filter { $0 != "{" && $0 != "}" }.map { $0.trimmingCharacters(in: [","]) }
        let ranges = items.compactMap { CIDR($0) ?? IPAddress($0).map { CIDR(network: $0, prefixLength: $0.family.bitCount) } }.map(AddressRange.init)
        guard ranges.count == items.count else { return statement }
        return NftRuleShape.addressMatch("\(words[0]) \(words[1])", ranges)
    }
}
