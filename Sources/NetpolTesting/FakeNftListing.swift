import Foundation
import NetpolModel

/// Reads the rule statements netpol writes into the expression list `nft -j`
/// prints for them, folding `meta l4proto tcp th dport 80` into `tcp dport 80`
/// as nft does.
enum FakeRuleParser {
    static func parse(_ text: String) throws(FakeNftError) -> FakeRule {
        var body = text
        var comment: String?
        if let range = text.range(of: " comment \"") ?? (text.hasPrefix("comment \"") ? text.range(of: "comment \"") : nil) {
            comment = String(text[range.upperBound...].dropLast())
            body = String(text[..<range.lowerBound])
        }
        var words = body.split(separator: " ").map(String.init)[...]
        var expression: [[String: Any]] = []
        var sets: [String] = [], jumps: [String] = [], limits: [String] = []
        func refuse(_ word: String) -> FakeNftError { FakeNftError(line: 0, text: text, message: "syntax error, unexpected \(word)") }
        func match(_ left: Any, _ right: Any, op: String = "==") -> [String: Any] {
            ["match": ["op": op, "left": left, "right": right]]
        }
        func payload(_ proto: String, _ field: String) -> [String: Any] { ["payload": ["protocol": proto, "field": field]] }
        func ports(_ words: inout ArraySlice<String>) throws(FakeNftError) -> Any {
            guard let first = words.popFirst() else { throw refuse("end of rule") }
            if first == "{" {
                var items: [Any] = []
                while let item = words.popFirst(), item != "}" {
                    items.append(try port(item.trimmingCharacters(in: CharacterSet(charactersIn: ","))))
                }
                return ["set": items]
            }
            return try port(first)
        }
        func port(_ word: String) throws(FakeNftError) -> Any {
            let bounds = word.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 { return bounds[0] }
            guard bounds.count == 2 else { throw refuse(word) }
            return ["range": bounds]
        }
        while let word = words.popFirst() {
            switch word {
            case "ct":
                guard words.popFirst() == "state", let states = words.popFirst() else { throw refuse(word) }
                expression.append(match(["ct": ["key": "state"]], states.split(separator: ",").map(String.init), op: "in"))
            case "tcp":
                // `tcp flags != syn / fin,syn,rst,ack`
                guard words.popFirst() == "flags", let op = words.popFirst(), let value = words.popFirst(), words.popFirst() == "/",
                      let mask = words.popFirst() else { throw refuse(word) }
                expression.append(match(["&": [payload("tcp", "flags"), mask.split(separator: ",").map(String.init)]], value, op: op))
            case "ip", "ip6":
                guard let field = words.popFirst(), let next = words.popFirst() else { throw refuse(word) }
                if next == "!=", let reference = words.popFirst(), reference.hasPrefix("@") {
                    sets.append(String(reference.dropFirst()))
                    expression.append(match(payload(word, field), reference, op: "!="))
                    continue
                }
                if next == "{" || CIDR(next) != nil || IPAddress(next) != nil {
                    var items: [String] = []
                    if next == "{" {
                        while let item = words.popFirst(), item != "}" { items.append(item.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }
                    } else {
                        items = [next]
                    }
                    let prefixes: [Any] = try items.map { item throws(FakeNftError) -> Any in
                        if IPAddress(item) != nil { return item }
                        guard let cidr = CIDR(item) else { throw refuse(item) }
                        return ["prefix": ["addr": cidr.network.description, "len": cidr.prefixLength]]
                    }
                    expression.append(match(payload(word, field), next == "{" ? ["set": prefixes] : prefixes[0]))
                    continue
                }
                if next == "vmap", let map = words.popFirst(), map.hasPrefix("@") {
                    sets.append(String(map.dropFirst()))
                    expression.append(["vmap": ["key": payload(word, field), "data": map]])
                } else if next.hasPrefix("@") {
                    sets.append(String(next.dropFirst()))
                    expression.append(match(payload(word, field), next))
                } else if next == ".", Array(words.prefix(6)) == ["meta", "l4proto", ".", "th", "dport", words.dropFirst(5).first ?? ""],
                          let set = words.dropFirst(5).first, set.hasPrefix("@") {
                    words = words.dropFirst(6)
                    sets.append(String(set.dropFirst()))
                    expression.append(match(["concat": [payload(word, field), ["meta": ["key": "l4proto"]], payload("th", "dport")]], set))
                } else {
                    throw refuse(next)
                }
            case "meta":
                guard words.popFirst() == "l4proto", let proto = words.popFirst() else { throw refuse(word) }
                if words.first == "th", words.dropFirst().first == "dport" {
                    words = words.dropFirst(2)
                    expression.append(match(payload(proto, "dport"), try ports(&words)))
                } else {
                    expression.append(match(["meta": ["key": "l4proto"]], proto))
                }
            case "th":
                guard words.popFirst() == "dport" else { throw refuse(word) }
                expression.append(match(payload("th", "dport"), try ports(&words)))
            case "limit":
                // `limit name "deny-log"`
                guard words.popFirst() == "name", let quoted = words.popFirst(), quoted.count > 2, quoted.hasPrefix("\""), quoted.hasSuffix("\"") else { throw refuse(word) }
                let name = String(quoted.dropFirst().dropLast())
                limits.append(name)
                expression.append(["limit": name])
            case "log":
                // `log prefix "np:..." group 5`
                guard words.popFirst() == "prefix", let quoted = words.popFirst(), quoted.count > 2, quoted.hasPrefix("\""), quoted.hasSuffix("\""),
                      words.popFirst() == "group", let group = words.popFirst().flatMap({ Int($0) }) else { throw refuse(word) }
                expression.append(["log": ["prefix": String(quoted.dropFirst().dropLast()), "group": group]])
            case "counter":
                // Its packets are the rule's; the listing fills them in.
                expression.append(["counter": ["packets": 0, "bytes": 0]])
            case "accept", "drop", "return":
                expression.append([word: NSNull()])
            case "jump", "goto":
                guard let target = words.popFirst() else { throw refuse(word) }
                jumps.append(target)
                expression.append([word: ["target": target]])
            default:
                throw refuse(word)
            }
        }
        let packets: UInt64? = expression.contains { $0["counter"] != nil } ? 0 : nil
        return FakeRule(text: text, expression: expression, comment: comment, sets: sets, jumps: jumps, limits: limits, packets: packets)
    }
}

/// The table as `nft list table inet netpol` prints it (text: close to nft's,
/// sets and chains in creation order) and as `nft -j` prints it (JSON: the
/// same objects and fields real nft 1.0 prints).
enum FakeListing {
    static func text(_ table: FakeTable) -> String {
        var blocks = table.limits.sorted { $0.key < $1.key }.map { "\tlimit \($0.key) {\n\t\t\($0.value)\n\t}" }
        for name in table.order {
            if let set = table.sets[name] {
                var lines = ["\t\(set.isMap ? "map" : "set") \(name) {", "\t\ttype \(set.type)\(set.isMap ? " : verdict" : "")"]
                if set.interval { lines.append("\t\tflags interval") }
                if let comment = set.comment { lines.append("\t\tcomment \"\(comment)\"") }
                if !set.elements.isEmpty {
                    let items = set.elements.sorted { $0.key < $1.key }.map { set.isMap ? "\($0.key) : jump \($0.value)" : $0.key }
                    lines.append("\t\telements = { " + items.joined(separator: ", ") + " }")
                }
                blocks.append((lines + ["\t}"]).joined(separator: "\n"))
            } else if let chain = table.chains[name] {
                let lines = ["\tchain \(name) {"] + (chain.hook.map { ["\t\t" + $0] } ?? []) + chain.rules.map { "\t\t" + $0.text } + ["\t}"]
                blocks.append(lines.joined(separator: "\n"))
            }
        }
        return "table inet netpol {\n" + blocks.joined(separator: "\n\n") + "\n}\n"
    }

    /// `nft -j list set|map inet netpol NAME`, or nil when there is no such set.
    static func json(_ table: FakeTable, only name: String) -> String? {
        guard let set = table.sets[name] else { return nil }
        let objects: [[String: Any]] = [
            ["metainfo": ["version": "1.0.6", "release_name": "fake", "json_schema_version": 1]],
            [set.isMap ? "map" : "set": setObject(set, handle: 2)],
        ]
        return encoded(objects)
    }

    /// `nft -j [-t] list table inet netpol`; terse leaves out set elements, as `-t` does.
    static func json(_ table: FakeTable, terse: Bool = false) -> String {
        var objects: [[String: Any]] = [
            ["metainfo": ["version": "1.0.6", "release_name": "fake", "json_schema_version": 1]],
            ["table": ["family": "inet", "name": "netpol", "handle": 1]],
        ]
        var handle = 2
        for (name, text) in table.limits.sorted(by: { $0.key < $1.key }) {
            // `rate N/second burst M packets`, as the interpreter accepted it.
            let words = text.split(separator: " ")
            let rate = Int(words[1].prefix { $0.isNumber }) ?? 0, burst = Int(words[3]) ?? 0
            objects.append(["limit": ["family": "inet", "name": name, "table": "netpol", "handle": handle, "rate": rate, "per": "second", "burst": burst]])
            handle += 1
        }
        var rules: [[String: Any]] = []
        for name in table.order {
            handle += 1
            if let set = table.sets[name] {
                var object = setObject(set, handle: handle)
                if terse { object["elem"] = nil }
                objects.append([set.isMap ? "map" : "set": object])
            } else if let chain = table.chains[name] {
                var object: [String: Any] = ["family": "inet", "table": "netpol", "name": name, "handle": handle]
                if chain.hook != nil {
                    object.merge(["type": "filter", "hook": "forward", "prio": 0, "policy": "accept"]) { $1 }
                }
                objects.append(["chain": object])
                for rule in chain.rules {
                    handle += 1
                    let expression = rule.expression.map { statement in
                        statement["counter"] == nil ? statement : ["counter": ["packets": rule.packets ?? 0, "bytes": 0]]
                    }
                    var object: [String: Any] = ["family": "inet", "table": "netpol", "chain": name, "handle": handle, "expr": expression]
                    object["comment"] = rule.comment
                    rules.append(["rule": object])
                }
            }
        }
        return encoded(objects + rules)
    }

    private static func encoded(_ objects: [[String: Any]]) -> String {
        let root: [String: Any] = ["nftables": objects]
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]) else { return "{\"nftables\": []}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func setObject(_ set: FakeSet, handle: Int) -> [String: Any] {
        let types = set.type.components(separatedBy: " . ")
        var object: [String: Any] = ["family": "inet", "name": set.name, "table": "netpol", "type": types.count == 1 ? types[0] : types, "handle": handle]
        if set.isMap { object["map"] = "verdict" }
        if set.interval { object["flags"] = ["interval"] }
        object["comment"] = set.comment
        let elements: [Any] = set.elements.sorted { $0.key < $1.key }.map { key, target in
            if set.isMap { return [key, ["jump": ["target": target]]] as [Any] }
            if let cidr = CIDR(key), key.contains("/") { return ["prefix": ["addr": cidr.network.description, "len": cidr.prefixLength]] }
            let parts = key.components(separatedBy: " . ")
            if parts.count == 3, let port = Int(parts[2]) { return ["concat": [parts[0], parts[1], port]] }
            return key
        }
        if !elements.isEmpty { object["elem"] = elements }
        return object
    }
}
