import Foundation
import NetpolDataplane
import NetpolModel

/// A stand-in for the kernel's nftables, for netpol's `inet netpol` table, so
/// that programmers and the agent's loop run without root: it interprets the
/// scripts `NftablesRenderer` writes (whole table, differences, cleanup) with
/// `nft -f -` and `nft -c -f -`, and answers `nft [-j] list table inet netpol`
/// in the shapes real nft prints.
///
/// Like nft, a transaction applies all or nothing, and it refuses what nft
/// refuses in netpol's scripts: a rule or map element referring to a missing
/// set or chain, deleting a missing table, set, chain or element, deleting a
/// set or chain still referred to, a map key bound twice, overlapping
/// intervals. Errors read like nft's and exit with status 1.
public final class FakeNftKernel: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var table: FakeTable?
    private var refusalsLeft = 0
    private var transactions = 0

    public init() {}

    /// Transactions applied (refused and check-only ones not counted).
    public var transactionCount: Int { locked { transactions } }

    /// Whether the table `inet netpol` exists.
    public var hasTable: Bool { locked { table != nil } }

    /// Refuses the next `count` transactions (`nft -f -`), as a kernel short of memory would.
    public func failNext(_ count: Int) {
        locked { refusalsLeft = count }
    }

    // MARK: - Drift behind the programmer's back

    /// Removes one element (`10.0.0.1`, `10.0.0.0/8`, `10.0.0.1 . tcp . 80`, or a map key).
    public func tamperDeleteElement(_ element: String, from set: String) {
        locked { _ = table?.sets[set]?.elements.removeValue(forKey: FakeSet.key(element.components(separatedBy: " : ")[0])) }
    }

    /// Adds one element (for a map: `ADDRESS : jump CHAIN`).
    public func tamperAddElement(_ element: String, to set: String) {
        locked {
            guard let entry = table?.sets[set]?.entry(element) else { return }
            table?.sets[set]?.elements[entry.key] = entry.target
        }
    }

    /// Removes a set or map, whoever refers to it.
    public func tamperDeleteSet(_ name: String) {
        locked { _ = table?.sets.removeValue(forKey: name) }
    }

    /// Removes every rule of a chain.
    public func tamperFlushChain(_ name: String) {
        locked { table?.chains[name]?.rules = [] }
    }

    /// Removes the last rule of a chain.
    public func tamperDeleteLastRule(of chain: String) {
        locked { _ = table?.chains[chain]?.rules.popLast() }
    }

    /// Removes the whole table.
    public func tamperDeleteTable() {
        locked { table = nil }
    }

    // MARK: - Traffic

    /// Counts `packets` on the first counted rule of `chain` whose text (as
    /// written, `... counter accept comment "x/allow spec.ingress[0]"`)
    /// satisfies `matches`, as if that many connections had reached it. False
    /// when there is no such rule.
    @discardableResult
    public func countPackets(_ packets: UInt64, chain: String, where matches: (String) -> Bool) -> Bool {
        locked {
            guard let index = table?.chains[chain]?.rules.firstIndex(where: { $0.packets != nil && matches($0.text) }) else { return false }
            table?.chains[chain]?.rules[index].packets? += packets
            return true
        }
    }

    // MARK: - CommandRunner

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        guard command.executable == "nft" else {
            return CommandOutput(status: 127, output: "", errors: "\(command.executable): not found in the fake nftables kernel\n")
        }
        return locked {
            switch command.arguments {
            case ["-f", "-"]: return transaction(command.input ?? "", checkOnly: false)
            case ["-c", "-f", "-"]: return transaction(command.input ?? "", checkOnly: true)
            case ["list", "table", "inet", "netpol"]: return listing { FakeListing.text($0) }
            case ["-j", "list", "table", "inet", "netpol"]: return listing { FakeListing.json($0) }
            case ["-j", "-t", "list", "table", "inet", "netpol"]: return listing { FakeListing.json($0, terse: true) }
            case let arguments where arguments.count == 6 && arguments[0] == "-j" && arguments[1] == "list" && ["set", "map"].contains(arguments[2])
                && arguments[3...4] == ["inet", "netpol"]:
                return listing { FakeListing.json($0, only: arguments[5]) } ?? CommandOutput(
                    status: 1, output: "", errors: "Error: No such file or directory\nlist \(arguments[2]) inet netpol \(arguments[5])\n")
            default: return CommandOutput(status: 1, output: "", errors: "Error: the fake nftables kernel does not know `\(command)`\n")
            }
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func listing(_ render: (FakeTable) -> String) -> CommandOutput {
        guard let table else {
            return CommandOutput(status: 1, output: "", errors: "Error: No such file or directory\nlist table inet netpol\n                ^^^^^^\n")
        }
        return CommandOutput(status: 0, output: render(table), errors: "")
    }

    /// One set's listing, or nil when the table has no such set.
    private func listing(_ render: (FakeTable) -> String?) -> CommandOutput? {
        guard let table, let output = render(table) else { return nil }
        return CommandOutput(status: 0, output: output, errors: "")
    }

    private func transaction(_ script: String, checkOnly: Bool) -> CommandOutput {
        if !checkOnly, refusalsLeft > 0 {
            refusalsLeft -= 1
            return CommandOutput(status: 1, output: "", errors: "Error: Could not process rule: Cannot allocate memory\n")
        }
        var interpreter = FakeScriptInterpreter(table: table)
        do {
            try interpreter.run(script)
        } catch {
            return CommandOutput(status: 1, output: "", errors: "/dev/stdin:\(error.line):1-1: Error: \(error.message)\n\(error.text)\n")
        }
        if !checkOnly {
            table = interpreter.table
            transactions += 1
        }
        return CommandOutput(status: 0, output: "", errors: "")
    }
}

// MARK: - State

struct FakeTable {
    var sets: [String: FakeSet] = [:]
    var chains: [String: FakeChain] = [:]
    /// Named limit objects: name to `rate 10/second burst 50 packets`.
    var limits: [String: String] = [:]
    /// Creation order, as nft lists objects.
    var order: [String] = []
}

struct FakeSet {
    var name: String
    /// `ipv4_addr`, `ipv4_addr . inet_proto . inet_service`.
    var type: String
    var interval = false
    var isMap = false
    var comment: String?
    /// Normalised key to jump target (empty for a set).
    var elements: [String: String] = [:]

    /// An element's key in one spelling: addresses and prefixes through `IPAddress` and `CIDR`.
    static func key(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let address = IPAddress(trimmed) { return address.description }
        if let cidr = CIDR(trimmed) {
            return cidr.prefixLength == cidr.family.bitCount ? cidr.network.description : cidr.description
        }
        let parts = trimmed.components(separatedBy: " . ")
        if parts.count == 3, let address = IPAddress(parts[0]) { return "\(address) . \(parts[1]) . \(parts[2])" }
        return trimmed
    }

    /// `KEY` or `KEY : jump CHAIN` split into its key and target; nil when malformed.
    func entry(_ text: String) -> (key: String, target: String)? {
        guard isMap else { return (Self.key(text), "") }
        let parts = text.components(separatedBy: " : jump ")
        guard parts.count == 2 else { return nil }
        return (Self.key(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
    }
}

struct FakeChain {
    var name: String
    /// `type filter hook forward priority filter; policy accept;` for a base chain.
    var hook: String?
    var rules: [FakeRule] = []
}

/// One rule: its text, and what it refers to.
struct FakeRule {
    var text: String
    var expression: [[String: Any]]
    var comment: String?
    var sets: [String]
    var jumps: [String]
    /// Named limits it uses.
    var limits: [String] = []
    /// Its counter's packets; nil without a `counter` statement.
    var packets: UInt64?
}

/// Why a script was refused: nft's message, and the line it refers to.
struct FakeNftError: Error {
    var line: Int
    var text: String
    var message: String
}

// MARK: - Scripts

/// Applies one `nft -f` script to a copy of the table, line by line.
struct FakeScriptInterpreter {
    var table: FakeTable?
    private var lineNumber = 0
    private var lineText = ""
    /// The block being read: `table`, or a set, map or chain inside it.
    private var block: Block?
    private var pendingElements: String?

    private enum Block {
        case table
        case set(String)
        case chain(String)
        case limit(String)
    }

    init(table: FakeTable?) {
        self.table = table
    }

    mutating func run(_ script: String) throws(FakeNftError) {
        for (index, line) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            lineNumber = index + 1
            lineText = String(line)
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || (text.hasPrefix("#") && pendingElements == nil) { continue }
            try statement(text)
        }
        if block != nil { throw fail("syntax error, unexpected end of file") }
    }

    private func fail(_ message: String) -> FakeNftError {
        FakeNftError(line: lineNumber, text: lineText, message: message)
    }

    private static let prefix = "inet netpol"

    private mutating func statement(_ text: String) throws(FakeNftError) {
        if let pending = pendingElements {
            try collectElements(pending + " " + text)
            return
        }
        switch block {
        case nil: try command(text)
        case .table: try tableLine(text)
        case .set(let name): try setLine(text, name)
        case .chain(let name): try chainLine(text, name)
        case .limit(let name): try limitLine(text, name)
        }
    }

    /// A top-level command: `add table`, `delete table`, `table ... {`, and the incremental ones.
    private mutating func command(_ text: String) throws(FakeNftError) {
        if text == "add table \(Self.prefix)" {
            if table == nil { table = FakeTable() }
            return
        }
        if text == "delete table \(Self.prefix)" {
            guard table != nil else { throw fail("Could not process rule: No such file or directory") }
            table = nil
            return
        }
        if text == "table \(Self.prefix) {" {
            if table == nil { table = FakeTable() }
            block = .table
            return
        }
        let words = text.split(separator: " ", maxSplits: 4).map(String.init)
        guard words.count >= 4, "\(words[2]) \(words[3])" == Self.prefix else {
            throw fail("syntax error, unexpected \(text)")
        }
        guard table != nil else { throw fail("No such file or directory") }
        let rest = words.count > 4 ? words[4] : ""
        let object = rest.split(separator: " ", maxSplits: 1).map(String.init)
        let name = object.first ?? ""
        let tail = object.count > 1 ? object[1] : ""
        switch (words[0], words[1]) {
        case ("add", "set"):
            try addSet(name, properties: Self.properties(Self.braced(tail)), isMap: false)
        case ("delete", "set"): try deleteSet(name)
        case ("add", "element"): try addElements(Self.braced(tail), to: name)
        case ("delete", "element"): try deleteElements(Self.braced(tail), from: name)
        case ("add", "chain"):
            if table?.chains[name] == nil { addChain(name) }
        case ("flush", "chain"):
            guard table?.chains[name] != nil else { throw fail("Could not process rule: No such file or directory") }
            table?.chains[name]?.rules = []
        case ("delete", "chain"): try deleteChain(name)
        case ("add", "rule"):
            guard table?.chains[name] != nil else { throw fail("Could not process rule: No such file or directory") }
            try addRule(tail, to: name)
        default:
            throw fail("syntax error, unexpected \(words[0]) \(words[1])")
        }
    }

    /// `type ...; comment "a; b"; ` split at the semicolons outside quotes.
    private static func properties(_ text: String) -> [String] {
        var parts = [""], quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                parts.append("")
            } else {
                parts[parts.count - 1].append(character)
            }
        }
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func braced(_ text: String) -> String {
        var inner = text.trimmingCharacters(in: .whitespaces)
        if inner.hasPrefix("{") { inner.removeFirst() }
        if inner.hasSuffix("}") { inner.removeLast() }
        return inner
    }

    private mutating func tableLine(_ text: String) throws(FakeNftError) {
        let words = text.split(separator: " ").map(String.init)
        if text == "}" {
            block = nil
        } else if words.count == 3, words[2] == "{", ["set", "map"].contains(words[0]) {
            try addSet(words[1], properties: [], isMap: words[0] == "map")
            block = .set(words[1])
        } else if words.count == 3, words[0] == "limit", words[2] == "{" {
            table?.limits[words[1]] = ""
            block = .limit(words[1])
        } else if words.count == 3, words[0] == "chain", words[2] == "{" {
            if table?.chains[words[1]] == nil { addChain(words[1]) }
            block = .chain(words[1])
        } else {
            throw fail("syntax error, unexpected \(text)")
        }
    }

    /// `rate N/second burst M packets`, the only limit netpol writes.
    private mutating func limitLine(_ text: String, _ name: String) throws(FakeNftError) {
        let words = text.split(separator: " ")
        if text == "}" {
            block = .table
        } else if words.count == 5, words[0] == "rate", words[1].hasSuffix("/second"), Int(words[1].dropLast("/second".count)) != nil,
                  words[2] == "burst", Int(words[3]) != nil, words[4] == "packets" {
            table?.limits[name] = text
        } else {
            throw fail("syntax error, unexpected \(text)")
        }
    }

    private mutating func setLine(_ text: String, _ name: String) throws(FakeNftError) {
        if text == "}" {
            block = .table
        } else if text.hasPrefix("elements = {") {
            try collectElements(text)
        } else {
            try setProperty(text, name)
        }
    }

    /// Gathers `elements = { ... }` over as many lines as it takes.
    private mutating func collectElements(_ text: String) throws(FakeNftError) {
        guard text.hasSuffix("}"), case .set(let name) = block else {
            pendingElements = text
            return
        }
        pendingElements = nil
        try addElements(Self.braced(String(text.dropFirst("elements =".count))), to: name)
    }

    private mutating func setProperty(_ text: String, _ name: String) throws(FakeNftError) {
        if text.hasPrefix("type ") {
            let type = String(text.dropFirst(5))
            if type.hasSuffix(" : verdict") {
                table?.sets[name]?.type = String(type.dropLast(" : verdict".count))
                table?.sets[name]?.isMap = true
            } else {
                table?.sets[name]?.type = type
            }
        } else if text == "flags interval" {
            table?.sets[name]?.interval = true
        } else if text.hasPrefix("comment ") {
            table?.sets[name]?.comment = Self.unquoted(String(text.dropFirst(8)))
        } else {
            throw fail("syntax error, unexpected \(text)")
        }
    }

    private static func unquoted(_ text: String) -> String {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
    }

    private mutating func chainLine(_ text: String, _ name: String) throws(FakeNftError) {
        if text == "}" {
            block = .table
        } else if text.hasPrefix("type ") {
            table?.chains[name]?.hook = text
        } else if !text.hasPrefix("#") {
            try addRule(text, to: name)
        }
    }

    // MARK: Objects

    private mutating func addSet(_ name: String, properties: [String], isMap: Bool) throws(FakeNftError) {
        var set = FakeSet(name: name, type: "", isMap: isMap)
        let existing = table?.sets[name]
        if existing == nil {
            table?.sets[name] = set
            table?.order.append(name)
        }
        for property in properties where !property.isEmpty { try setProperty(property, name) }
        set = table?.sets[name] ?? set
        if let existing, !properties.isEmpty, existing.type != set.type || existing.interval != set.interval {
            throw fail("Could not process rule: File exists")
        }
    }

    private mutating func deleteSet(_ name: String) throws(FakeNftError) {
        guard table?.sets[name] != nil else { throw fail("Could not process rule: No such file or directory") }
        if table?.chains.values.contains(where: { $0.rules.contains { $0.sets.contains(name) } }) == true {
            throw fail("Could not process rule: Device or resource busy")
        }
        table?.sets[name] = nil
        table?.order.removeAll { $0 == name }
    }

    private mutating func addChain(_ name: String) {
        table?.chains[name] = FakeChain(name: name)
        table?.order.append(name)
    }

    private mutating func deleteChain(_ name: String) throws(FakeNftError) {
        guard let table, table.chains[name] != nil else { throw fail("Could not process rule: No such file or directory") }
        let bound = table.sets.values.contains { $0.elements.values.contains(name) }
        let jumped = table.chains.values.contains { $0.rules.contains { $0.jumps.contains(name) } }
        if bound || jumped { throw fail("Could not process rule: Device or resource busy") }
        self.table?.chains[name] = nil
        self.table?.order.removeAll { $0 == name }
    }

    private mutating func addElements(_ list: String, to name: String) throws(FakeNftError) {
        guard var set = table?.sets[name] else { throw fail("No such file or directory") }
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let entry = set.entry(item) else { throw fail("syntax error, unexpected \(item)") }
            if set.isMap, table?.chains[entry.target] == nil { throw fail("Could not process rule: No such file or directory") }
            if let target = set.elements[entry.key] {
                if target != entry.target { throw fail("Could not process rule: File exists") }
                continue
            }
            if set.interval, let range = CIDR(entry.key) ?? IPAddress(entry.key).map({ CIDR(network: $0, prefixLength: $0.family.bitCount) }),
               set.elements.keys.contains(where: { other in
                   guard let held = CIDR(other) ?? IPAddress(other).map({ CIDR(network: $0, prefixLength: $0.family.bitCount) }) else { return false }
                   return held.contains(range) || range.contains(held)
               }) {
                throw fail("interval overlaps with an existing one")
            }
            set.elements[entry.key] = entry.target
        }
        table?.sets[name] = set
    }

    private mutating func deleteElements(_ list: String, from name: String) throws(FakeNftError) {
        guard var set = table?.sets[name] else { throw fail("No such file or directory") }
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            // A map element is deleted by its key alone.
            let key = FakeSet.key(item.components(separatedBy: " : ")[0])
            guard set.elements.removeValue(forKey: key) != nil else {
                throw fail("Could not process rule: No such file or directory")
            }
        }
        table?.sets[name] = set
    }

    private mutating func addRule(_ text: String, to chain: String) throws(FakeNftError) {
        let rule: FakeRule
        do {
            rule = try FakeRuleParser.parse(text)
        } catch {
            throw fail(error.message)
        }
        if rule.sets.contains(where: { table?.sets[$0] == nil }) || rule.jumps.contains(where: { table?.chains[$0] == nil })
            || rule.limits.contains(where: { table?.limits[$0] == nil }) {
            throw fail("No such file or directory")
        }
        table?.chains[chain]?.rules.append(rule)
    }
}
