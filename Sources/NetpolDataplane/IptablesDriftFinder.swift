import NetpolModel
import NetpolRender
import NetpolRules

/// Compares netpol's ipsets and iptables chains with the plan last applied:
/// every `netpol-*` set with exactly its members (temporary `netpol-t-*` sets
/// are an apply's scratch space, not drift), every `NETPOL-*` chain with the
/// rules `IptablesRenderer` writes, in order, and nothing more.
enum IptablesDriftFinder {
    /// Drift in the sets, from `ipset save` output.
    static func setDrift(_ plan: RulePlan, ipsetSave: String) -> [Drift] {
        var held: [String: Set<String>] = [:]
        for line in ipsetSave.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 2, words[1].hasPrefix(IptablesRenderer.setPrefix), !words[1].hasPrefix(IptablesRenderer.temporaryPrefix) else { continue }
            if words[0] == "create" { held[words[1], default: []] = [] }
            if words[0] == "add", words.count >= 3 { held[words[1], default: []].insert(member(words[2])) }
        }
        var drift: [Drift] = []
        let sets = IptablesRenderer.allSets(plan)
        let bindingSets = Set(plan.chains.flatMap { chain in IPAddress.Family.allCases.map { IptablesRenderer.bindingSetName(chain, $0) } })
        for set in sets {
            let kind: Drift.Kind = bindingSets.contains(set.name) ? .binding : .set
            guard let members = held[set.name] else {
                drift.append(Drift(kind, set.name, "missing"))
                continue
            }
            let wanted = Set(set.elements.map(member))
            if wanted == members { continue }
            let missing = wanted.subtracting(members).sorted(), unexpected = members.subtracting(wanted).sorted()
            let detail = [(missing, "missing"), (unexpected, "unexpected")].filter { !$0.0.isEmpty }.map { items, word in
                "\(items.count) \(items.count == 1 ? "member" : "members") \(word): \(Drift.listing(items))"
            }.joined(separator: "; ")
            drift.append(Drift(kind, set.name, detail))
        }
        let planned = Set(sets.map(\.name))
        drift += held.keys.filter { !planned.contains($0) }.sorted().map { Drift(.set, $0, "unexpected") }
        return drift
    }

    /// A member in one spelling: addresses through `IPAddress`, a full-length prefix as its address.
    private static func member(_ text: String) -> String {
        var parts = text.split(separator: ",", maxSplits: 1).map(String.init)
        guard let first = parts.first else { return text }
        if let address = IPAddress(first) {
            parts[0] = address.description
        } else if let cidr = CIDR(first) {
            parts[0] = cidr.prefixLength == cidr.family.bitCount ? cidr.network.description : cidr.description
        }
        return parts.joined(separator: ",")
    }

    /// Drift in one family's chains, from `iptables-save -t filter` output.
    static func chainDrift(_ plan: RulePlan, family: IPAddress.Family, tool: String, save: String) -> [Drift] {
        let expected = rules(IptablesRenderer.iptablesScript(plan, family: family))
        var held: [String: [String]] = [:]
        for line in save.split(separator: "\n") {
            if line.hasPrefix(":" + IptablesRenderer.chainPrefix), let name = line.dropFirst().split(separator: " ").first {
                held[String(name), default: []] = held[String(name)] ?? []
            }
        }
        for (chain, lines) in rules(save) where chain.hasPrefix(IptablesRenderer.chainPrefix) { held[chain] = lines }
        var drift: [Drift] = []
        for chain in ([IptablesRenderer.forwardChain] + IptablesRenderer.chainNames(plan, family: family)) {
            let wanted = expected[chain] ?? []
            guard let actual = held[chain] else {
                drift.append(Drift(.chain, chain, "missing from \(tool)"))
                continue
            }
            guard let difference = Drift.ruleDifference(expected: wanted, held: actual) else { continue }
            let detail = "\(tool): \(difference)"
            drift.append(Drift(.chain, chain, detail))
        }
        let planned = Set([IptablesRenderer.forwardChain] + IptablesRenderer.chainNames(plan, family: family))
        drift += held.keys.filter { !planned.contains($0) }.sorted().map { Drift(.chain, $0, "unexpected in \(tool)") }
        return drift
    }

    /// The `-A` lines of iptables-restore or iptables-save text, normalised, by chain.
    private static func rules(_ text: String) -> [String: [String]] {
        var rules: [String: [String]] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("-A ") {
            let words = normalized(String(line))
            guard words.count > 1 else { continue }
            rules[words[1], default: []].append(words.dropFirst(2).joined(separator: " "))
        }
        return rules
    }

    /// The words of a rule, unquoted, with `-p PROTO` first after the chain
    /// (where iptables-save prints it) and the implicit `-m PROTO` dropped.
    private static func normalized(_ line: String) -> [String] {
        var words: [String] = []
        var current = "", quoted = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
            } else if character == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        guard let index = words.firstIndex(of: "-p"), index + 1 < words.count, words.count > 2 else { return words }
        let proto = Array(words[index...index + 1])
        words.removeSubrange(index...index + 1)
        words.insert(contentsOf: proto, at: 2)
        if let implicit = words.indices.first(where: { words[$0] == "-m" && $0 + 1 < words.count && words[$0 + 1] == proto[1] }) {
            words.removeSubrange(implicit...implicit + 1)
        }
        return words
    }
}
