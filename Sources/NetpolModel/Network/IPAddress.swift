/// An IPv4 or IPv6 address, parsed the way Kubernetes parses addresses in
/// legacy fields (`netutils.ParseIPSloppy`): IPv4 octets may carry leading zeros,
/// which count as decimal.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    public enum Family: String, Hashable, Sendable, CaseIterable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"

        public var bitCount: Int { self == .ipv4 ? 32 : 128 }
    }

    public var family: Family {
        switch self {
        case .v4: return .ipv4
        case .v6: return .ipv6
        }
    }

    /// Parses a textual address; nil when it is not one.
    /// - Parameter strict: reject IPv4 octets with leading zeros (`010.0.0.1`).
    public init?(_ text: String, strict: Bool = false) {
        if text.contains(":") {
            guard let value = Self.parseIPv6(Substring(text), strict: strict) else { return nil }
            self = .v6(value)
        } else {
            guard let value = Self.parseIPv4(Substring(text), strict: strict) else { return nil }
            self = .v4(value)
        }
    }

    /// The address as an unsigned number, widened for IPv4.
    package var bits: UInt128 {
        switch self {
        case .v4(let value): return UInt128(value)
        case .v6(let value): return value
        }
    }

    package init(family: Family, bits: UInt128) {
        self = family == .ipv4 ? .v4(UInt32(truncatingIfNeeded: bits)) : .v6(bits)
    }

    /// Dotted decimal for IPv4, RFC 5952 canonical text for IPv6.
    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xff) }.joined(separator: ".")
        case .v6(let value):
            let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * UInt128($0))) }
            return Self.formatIPv6(groups)
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let left), .v4(let right)): return left < right
        case (.v6(let left), .v6(let right)): return left < right
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }

    // MARK: - Parsing

    /// Four decimal octets of one to three digits, each at most 255; `strict`
    /// refuses leading zeros (which some parsers read as octal). Works on the
    /// UTF-8 bytes: every pod address of every sync passes through here.
    private static func parseIPv4(_ text: Substring, strict: Bool) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var octets = 0
        var leadingZero = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
                digits += 1
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                guard digits <= 3, octet <= 255 else { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, octets < 3, !(strict && leadingZero && digits > 1) else { return nil }
                value = value << 8 | octet
                octets += 1
                (octet, digits) = (0, 0)
            default:
                return nil
            }
        }
        guard digits > 0, octets == 3, !(strict && leadingZero && digits > 1) else { return nil }
        return value << 8 | octet
    }

    private static func parseIPv6(_ text: Substring, strict: Bool) -> UInt128? {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        sawGap = halves.count == 2
        func groups(_ part: String, allowIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowIPv4, piece.contains(".") {
                    guard let v4 = parseIPv4(piece, strict: strict) else { return nil }
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, let group = UInt16(piece, radix: 16),
                      piece.allSatisfy(\.isHexDigit) else { return nil }
                result.append(group)
            }
            return result
        }
        guard let first = groups(halves[0], allowIPv4: !sawGap) else { return nil }
        head = first
        if sawGap {
            guard let second = groups(halves[1], allowIPv4: true) else { return nil }
            tail = second
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard head.count == 8 else { return nil }
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    /// RFC 5952: lowercase, no leading zeros, the longest run (of two or more) of
    /// zero groups shortened to `::`.
    private static func formatIPv6(_ groups: [UInt16]) -> String {
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > bestLength, end - index >= 2 { bestStart = index; bestLength = end - index }
            index = end
        }
        let text = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return text.joined(separator: ":") }
        let left = text[..<bestStart].joined(separator: ":")
        let right = text[(bestStart + bestLength)...].joined(separator: ":")
        return left + "::" + right
    }
}
