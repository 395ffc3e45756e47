import Foundation
import NetpolModel
import NetpolRender

/// netpol's table as the kernel holds it, read from `nft -j list table inet netpol`
/// and normalised so that it compares with a plan whatever form nft prints:
/// addresses parsed (IPv6 has many spellings), interval sets as merged address
/// ranges (nft prints a prefix as a range, or two adjacent ones as one), rules
/// as `NftRuleShape`s (nft folds `meta l4proto tcp th dport 80` into `tcp dport 80`).
struct KernelTable: Sendable {
    /// Peer sets and verdict maps, by name.
    var sets: [String: KernelSet] = [:]
    /// Chains by name, rules in kernel order.
    var chains: [String: KernelChain] = [:]
    /// Named limit objects, by name: `rate 10/second burst 50 packets`.
    var limits: [String: String] = [:]
}

/// One set or map of the table.
struct KernelSet: Sendable {
    var name: String
    /// The key type, `ipv4_addr . inet_proto . inet_service` for a concatenation.
    var type: String
    var isInterval: Bool
    /// A verdict map (`type ... : verdict`) rather than a set.
    var isVerdictMap: Bool
    var elements: [KernelElement]
}

/// One element of a set or map, as nft printed it.
enum KernelElement: Hashable, Sendable {
    /// An address, a prefix or a range: the addresses it covers.
    case addresses(AddressRange)
    /// `address . protocol . port`.
    case service(IPAddress, String, Int)
    /// A verdict map entry: `address : jump chain`.
    case binding(IPAddress, String)
    /// Anything else, as compact JSON (never in a table netpol wrote).
    case other(String)
}

/// The addresses from `first` to `last`, both included, of one family.
struct AddressRange: Hashable, Sendable, Comparable, CustomStringConvertible {
    var first: IPAddress
    var last: IPAddress

    init(_ first: IPAddress, _ last: IPAddress) {
        self.first = first
        self.last = last
    }

    init(_ cidr: CIDR) {
        let hostBits = cidr.family.bitCount - cidr.prefixLength
        let span: UInt128 = hostBits >= 128 ? .max : (UInt128(1) << hostBits) - 1
        self.init(cidr.network, IPAddress(family: cidr.family, bits: cidr.network.bits | span))
    }

    static func < (lhs: AddressRange, rhs: AddressRange) -> Bool { (lhs.first, lhs.last) < (rhs.first, rhs.last) }

    /// A single address, a prefix when the range is exactly one, else `first-last`.
    var description: String {
        if first == last { return first.description }
        let size = last.bits - first.bits
        if size < .max, (size + 1) & size == 0 {
            let prefix = first.family.bitCount - (size + 1).trailingZeroBitCount
            if first.masked(to: prefix) == first { return "\(first)/\(prefix)" }
        }
        return "\(first)-\(last)"
    }

    /// Sorted, with overlapping and adjacent ranges joined: the one form of a set of addresses.
    static func merged(_ ranges: [AddressRange]) -> [AddressRange] {
        var result: [AddressRange] = []
        for range in ranges.sorted() {
            if let last = result.last, last.first.family == range.first.family, last.last.bits == .max || last.last.bits + 1 >= range.first.bits {
                if range.last > last.last { result[result.count - 1].last = range.last }
            } else {
                result.append(range)
            }
        }
        return result
    }
}

/// One chain: its hook (base chains only) and its rules.
struct KernelChain: Sendable {
    var name: String
    /// `filter hook forward priority 0 policy accept`; nil for a regular chain.
    var hook: String?
    var rules: [NftRuleShape]
    /// Each rule's counter value, beside `rules`: nil for a rule without a
    /// counter. Never part of a rule's shape, so a count is never drift.
    var packets: [UInt64?] = []
}

/// What a rule does, in the terms netpol writes rules in, so that a rule read
/// back compares equal to the plan rule it came from.
struct NftRuleShape: Hashable, Sendable, CustomStringConvertible {
    /// The set the other end is looked up in: `ip saddr @pods-...`,
    /// `ip daddr . meta l4proto . th dport @named-...`.
    var lookup: String?
    /// `tcp`, `udp`, `sctp`.
    var `protocol`: String?
    /// Destination ports, merged; empty for every port.
    var ports: [ClosedRange<Int>] = []
    /// `ct state established,related`, `ip saddr vmap @egress-pods-v4`: the base chain's statements.
    var statements: [String] = []
    /// `accept`, `return`, `drop`, `jump NAME`, `goto NAME`.
    var verdict: String?
    var comment: String?

    var description: String {
        var parts = statements
        if let lookup { parts.append(lookup) }
        if let `protocol` { parts.append(`protocol`) }
        if !ports.isEmpty { parts.append("dport " + ports.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")) }
        if let verdict { parts.append(verdict) }
        if let comment { parts.append("comment \"\(comment)\"") }
        return parts.joined(separator: " ")
    }

    /// `ip saddr 10.0.1.0-10.0.2.127`: an address match in one form, however
    /// nft merged the prefixes it was written with.
    static func addressMatch(_ key: String, _ ranges: [AddressRange]) -> String {
        let merged = AddressRange.merged(ranges).map(\.description)
        return "\(key) " + (merged.count == 1 ? merged[0] : "{ " + merged.joined(separator: ", ") + " }")
    }

    /// Port ranges sorted, with overlapping and adjacent ones joined.
    static func merged(_ ranges: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, last.upperBound + 1 >= range.lowerBound {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}

/// Reads `nft -j list table` output into a `KernelTable`.
enum NftablesTableReader {
    /// Parses the JSON nft printed for one table.
    static func table(fromJSON text: String) throws(DataplaneError) -> KernelTable {
        let objects: [[String: Any]]
        do {
            guard let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let list = root["nftables"] as? [[String: Any]] else {
                throw DataplaneError(.readBackMismatch, "nft -j printed no `nftables` list")
            }
            objects = list
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.readBackMismatch, "nft -j printed what is not JSON: \(error)")
        }
        var table = KernelTable()
        for object in objects {
            if let set = (object["set"] ?? object["map"]) as? [String: Any], let name = set["name"] as? String {
                table.sets[name] = kernelSet(name, set, isMap: object["map"] != nil)
            } else if let limit = object["limit"] as? [String: Any], let name = limit["name"] as? String {
                table.limits[name] = limitText(limit)
            } else if let chain = object["chain"] as? [String: Any], let name = chain["name"] as? String {
                table.chains[name, default: KernelChain(name: name, rules: [])].hook = hook(chain)
            } else if let rule = object["rule"] as? [String: Any], let chain = rule["chain"] as? String {
                let (shape, packets) = shape(rule)
                table.chains[chain, default: KernelChain(name: chain, rules: [])].rules.append(shape)
                table.chains[chain]?.packets.append(packets)
            }
        }
        return table
    }

    private static func kernelSet(_ name: String, _ json: [String: Any], isMap: Bool) -> KernelSet {
        let type = (json["type"] as? [String])?.joined(separator: " . ") ?? (json["type"] as? String) ?? "?"
        let flags = json["flags"] as? [String] ?? []
        let elements = (json["elem"] as? [Any] ?? []).map(element)
        return KernelSet(name: name, type: type, isInterval: flags.contains("interval"), isVerdictMap: isMap && json["map"] as? String == "verdict", elements: elements)
    }

    private static func element(_ json: Any) -> KernelElement {
        if let text = json as? String, let address = IPAddress(text) { return .addresses(AddressRange(address, address)) }
        if let object = json as? [String: Any] {
            // Set elements with a comment or timeout come wrapped as {"elem": {"val": ...}}.
            if let wrapped = object["elem"] as? [String: Any], let value = wrapped["val"] { return element(value) }
            if let prefix = object["prefix"] as? [String: Any], let text = prefix["addr"] as? String, let length = prefix["len"] as? Int,
               let address = IPAddress(text) {
                return .addresses(AddressRange(CIDR(network: address, prefixLength: length)))
            }
            if let range = object["range"] as? [String], range.count == 2, let first = IPAddress(range[0]), let last = IPAddress(range[1]) {
                return .addresses(AddressRange(first, last))
            }
            if let parts = object["concat"] as? [Any], parts.count == 3, let text = parts[0] as? String, let address = IPAddress(text),
               let proto = parts[1] as? String, let port = parts[2] as? Int {
                return .service(address, proto, port)
            }
        }
        if let pair = json as? [Any], pair.count == 2, let text = pair[0] as? String, let address = IPAddress(text),
           let verdict = pair[1] as? [String: Any], let jump = verdict["jump"] as? [String: Any], let target = jump["target"] as? String {
            return .binding(address, target)
        }
        return .other(compact(json))
    }

    /// A limit object as `nft list` prints its body: `rate 10/second burst 50 packets`.
    private static func limitText(_ limit: [String: Any]) -> String {
        let unit = limit["rate_unit"] as? String ?? "packets"
        let rate = "rate \(limit["rate"] as? Int ?? 0)" + (unit == "packets" ? "" : " \(unit)") + "/\(limit["per"] as? String ?? "?")"
        return rate + " burst \(limit["burst"] as? Int ?? 0) \(limit["burst_unit"] as? String ?? unit)"
    }

    private static func hook(_ chain: [String: Any]) -> String? {
        guard let hook = chain["hook"] as? String else { return nil }
        return "\(chain["type"] as? String ?? "?") hook \(hook) priority \(chain["prio"] as? Int ?? 0) policy \(chain["policy"] as? String ?? "accept")"
    }

    /// The shape of one rule, and its counter's packets if it has one;
    /// statements netpol never writes are kept as JSON, so they never compare equal.
    private static func shape(_ rule: [String: Any]) -> (NftRuleShape, UInt64?) {
        var shape = NftRuleShape(comment: rule["comment"] as? String)
        var packets: UInt64?
        for statement in rule["expr"] as? [[String: Any]] ?? [] {
            if let counter = statement["counter"] as? [String: Any], let count = (counter["packets"] as? NSNumber)?.uint64Value {
                shape.statements.append(NftablesRenderer.counterStatement)
                packets = count
                continue
            }
            if let match = statement["match"] as? [String: Any], read(match, into: &shape) { continue }
            if let vmap = statement["vmap"] as? [String: Any], let key = field(vmap["key"]), let data = vmap["data"] as? String {
                shape.statements.append("\(key) vmap \(data)")
                continue
            }
            if let verdict = ["accept", "drop", "return"].first(where: { statement.keys.contains($0) }) {
                shape.verdict = verdict
                continue
            }
            if let name = statement["limit"] as? String {
                shape.statements.append("limit name \"\(name)\"")
                continue
            }
            if let log = statement["log"] as? [String: Any], let prefix = log["prefix"] as? String, let group = log["group"] as? Int, log.count == 2 {
                shape.statements.append("log prefix \"\(prefix)\" group \(group)")
                continue
            }
            if let kind = ["jump", "goto"].first(where: { statement.keys.contains($0) }),
               let jump = statement[kind] as? [String: Any], let target = jump["target"] as? String {
                shape.verdict = "\(kind) \(target)"
                continue
            }
            shape.statements.append(compact(statement))
        }
        shape.ports = NftRuleShape.merged(shape.ports)
        return (shape, packets)
    }

    /// Reads one match statement netpol writes; false for any other.
    private static func read(_ match: [String: Any], into shape: inout NftRuleShape) -> Bool {
        let left = match["left"], right = match["right"], op = match["op"] as? String ?? "=="
        if let reference = right as? String, reference.hasPrefix("@"), let key = field(left) {
            if op == "==" { shape.lookup = "\(key) \(reference)" } else { shape.statements.append("\(key) \(op) \(reference)") }
            return true
        }
        if op == "==", let key = field(left), let ranges = addressRanges(right) {
            shape.statements.append(NftRuleShape.addressMatch(key, ranges))
            return true
        }
        if let masked = (left as? [String: Any])?["&"] as? [Any], masked.count == 2, let key = field(masked[0]),
           let mask = masked[1] as? [String], let value = right as? String {
            shape.statements.append("\(key) \(op) \(value) / \(mask.joined(separator: ","))")
            return true
        }
        if let meta = (left as? [String: Any])?["meta"] as? [String: Any], meta["key"] as? String == "l4proto", let proto = right as? String {
            shape.protocol = proto
            return true
        }
        if let payload = (left as? [String: Any])?["payload"] as? [String: Any], payload["field"] as? String == "dport",
           let proto = payload["protocol"] as? String, let ports = portRanges(right) {
            if proto != "th" { shape.protocol = proto }
            shape.ports += ports
            return true
        }
        if let ct = (left as? [String: Any])?["ct"] as? [String: Any], ct["key"] as? String == "state" {
            let states = (right as? [String]) ?? [(right as? String) ?? "?"]
            shape.statements.append("ct state " + states.sorted().joined(separator: ","))
            return true
        }
        return false
    }

    /// `ip saddr`, `ip6 daddr`, `ip daddr . meta l4proto . th dport`.
    private static func field(_ json: Any?) -> String? {
        guard let object = json as? [String: Any] else { return nil }
        if let payload = object["payload"] as? [String: Any], let proto = payload["protocol"] as? String, let name = payload["field"] as? String {
            return "\(proto) \(name)"
        }
        if let meta = object["meta"] as? [String: Any], let key = meta["key"] as? String { return "meta \(key)" }
        if let parts = object["concat"] as? [Any] {
            let fields = parts.compactMap(field)
            return fields.count == parts.count ? fields.joined(separator: " . ") : nil
        }
        return nil
    }

    /// Addresses, prefixes and ranges as nft writes them, alone or in a `{"set": [...]}`.
    private static func addressRanges(_ json: Any?) -> [AddressRange]? {
        let items = ((json as? [String: Any])?["set"] as? [Any]) ?? [json as Any]
        var ranges: [AddressRange] = []
        for item in items {
            guard case .addresses(let range) = element(item) else { return nil }
            ranges.append(range)
        }
        return ranges
    }

    /// A port, `{"range": [a, b]}`, or `{"set": [...]}` of those.
    private static func portRanges(_ json: Any?) -> [ClosedRange<Int>]? {
        if let port = json as? Int { return [port...port] }
        if let object = json as? [String: Any] {
            if let range = object["range"] as? [Int], range.count == 2, range[0] <= range[1] { return [range[0]...range[1]] }
            if let items = object["set"] as? [Any] {
                var ranges: [ClosedRange<Int>] = []
                for item in items {
                    guard let more = portRanges(item) else { return nil }
                    ranges += more
                }
                return ranges
            }
        }
        return nil
    }

    private static func compact(_ json: Any) -> String {
        guard JSONSerialization.isValidJSONObject(json) || json is NSNull,
              let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .fragmentsAllowed]) else { return "\(json)" }
        return String(decoding: data, as: UTF8.self)
    }
}
