/// An address range such as `10.0.0.0/8` or `2001:db8::/32`: the network address
/// (bits beyond the prefix cleared) and the prefix length.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init(network: IPAddress, prefixLength: Int) {
        self.network = network.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/LENGTH` as Kubernetes does for `ipBlock` (`ParseCIDRSloppy`):
    /// bits set beyond the prefix are cleared, leading zeros are accepted.
    /// nil when the text is not a CIDR.
    public init?(_ text: String) {
        guard let parsed = Self.parse(text, strict: false) else { return nil }
        self.init(network: parsed.address, prefixLength: parsed.prefixLength)
    }

    /// The address as written before masking, and the prefix length.
    static func parse(_ text: String, strict: Bool) -> (address: IPAddress, prefixLength: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0]), strict: strict),
              !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              let length = Int(parts[1]), length <= address.family.bitCount else { return nil }
        if strict, parts[1].count > 1, parts[1].first == "0" { return nil }
        return (address, length)
    }

    public var family: IPAddress.Family { network.family }

    public func contains(_ address: IPAddress) -> Bool {
        address.family == family && address.masked(to: prefixLength) == network
    }

    /// True when every address of `other` is also in this range.
    public func contains(_ other: CIDR) -> Bool {
        other.family == family && other.prefixLength >= prefixLength && contains(other.network)
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPAddress {
    /// This address with every bit beyond the first `prefixLength` cleared.
    public func masked(to prefixLength: Int) -> IPAddress {
        let width = family.bitCount
        let hostBits = width - min(max(prefixLength, 0), width)
        let allOnes: UInt128 = width == 32 ? UInt128(UInt32.max) : UInt128.max
        let mask = hostBits >= width ? 0 : (allOnes >> hostBits) << hostBits & allOnes
        return IPAddress(family: family, bits: bits & mask)
    }
}

extension CIDR {
    /// This range without the addresses of `holes`, as the fewest prefixes that
    /// cover exactly the rest (an ipBlock's `cidr` minus its `except` entries).
    public func subtracting(_ holes: [CIDR]) -> [CIDR] {
        let relevant = holes.filter { $0.family == family && (contains($0) || $0.contains(self)) }
        if relevant.contains(where: { $0.contains(self) }) { return [] }
        if relevant.isEmpty { return [self] }
        // Split in two halves and keep what each half keeps.
        let half = prefixLength + 1
        let lower = CIDR(network: network, prefixLength: half)
        let upperBits = network.bits | (UInt128(1) << UInt128(family.bitCount - half))
        let upper = CIDR(network: IPAddress(family: family, bits: upperBits), prefixLength: half)
        return lower.subtracting(relevant) + upper.subtracting(relevant)
    }
}
