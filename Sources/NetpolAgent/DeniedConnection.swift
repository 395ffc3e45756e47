import Glibc
import NetpolEngine
import NetpolModel
import NetpolRules

/// One connection the kernel denied, as the denied-connection log writes it:
/// one JSON line, whose shape README's "Denied-connection log" documents.
public struct DeniedConnection: Hashable, Sendable {
    /// One end of the connection: its address, and the pod holding it when the
    /// agent knows one.
    public struct End: Hashable, Sendable {
        public var address: IPAddress
        public var pod: PodID?

        public init(address: IPAddress, pod: PodID? = nil) {
            self.address = address
            self.pod = pod
        }

        /// `namespace/pod`, or the address for one no known pod holds.
        public var name: String { pod?.description ?? address.description }
    }

    /// Who or what denied a connection.
    public enum Cause: Hashable, Sendable {
        /// Policies, as the plan in force says (`RulePlan.denial(at:)`).
        case policies(DeniedBy)
        /// `--isolate-new-pods`: an address in the node's pod ranges that no
        /// pod the agent knows holds.
        case newPodGuard
        /// A prefix the plan in force does not know (an older plan's, or not netpol's).
        case unknown
    }

    /// When the agent read it, in seconds since 1970.
    public var time: Double
    public var node: String
    /// nil when the log prefix is not one the current plan knows.
    public var direction: Direction?
    public var source: End
    public var destination: End
    /// The IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, ...).
    public var protocolNumber: Int
    /// The destination port; nil for a protocol without ports.
    public var port: Int?
    /// The chain whose deny point logged it (the raw prefix for one netpol did not write).
    public var chain: String
    public var cause: Cause

    public init(
        time: Double, node: String, direction: Direction?, source: End, destination: End, protocolNumber: Int, port: Int?, chain: String,
        cause: Cause
    ) {
        self.time = time
        self.node = node
        self.direction = direction
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.port = port
        self.chain = chain
        self.cause = cause
    }

    /// TCP, UDP or SCTP as Kubernetes names them, ICMP and ICMPv6, else the number.
    public var protocolName: String {
        switch protocolNumber {
        case Int(IPPROTO_TCP): return PortProtocol.tcp.rawValue
        case Int(IPPROTO_UDP): return PortProtocol.udp.rawValue
        case Int(IPPROTO_SCTP): return PortProtocol.sctp.rawValue
        case Int(IPPROTO_ICMP): return "ICMP"
        case Int(IPPROTO_ICMPV6): return "ICMPv6"
        default: return String(protocolNumber)
        }
    }

    /// The record as one line of JSON, members in a fixed order, without the newline.
    public var jsonLine: String {
        var members: [(String, String)] = [
            ("time", jsonQuoted(Self.rfc3339(time))),
            ("node", jsonQuoted(node)),
            ("direction", direction.map { jsonQuoted($0.rulesField) } ?? "null"),
            ("src", jsonQuoted(source.name)),
            ("src_ip", jsonQuoted(source.address.description)),
            ("dst", jsonQuoted(destination.name)),
            ("dst_ip", jsonQuoted(destination.address.description)),
            ("protocol", jsonQuoted(protocolName)),
            ("port", port.map(String.init) ?? "null"),
            ("decided_by", "[" + deciders.joined(separator: ",") + "]"),
            ("chain", jsonQuoted(chain)),
        ]
        if cause == .unknown { members.append(("unattributed", "true")) }
        if case .policies(.audit) = cause { members.append(("audit", "true")) }
        return "{" + members.map { jsonQuoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// The `decided_by` objects: each isolating NetworkPolicy (or audited one
    /// that would isolate), the cluster policy's rule, or the new-pod guard.
    private var deciders: [String] {
        switch cause {
        case .unknown:
            return []
        case .newPodGuard:
            return [#"{"kind":"NewPodGuard","reason":"isolate-new-pods"}"#]
        case .policies(.isolation(let policies)):
            return policies.map { Self.networkPolicy($0, reason: "default-deny") }
        case .policies(.audit(let policies)):
            return policies.map { Self.networkPolicy($0, reason: "audit-default-deny") }
        case .policies(.clusterRule(let rule)):
            return [
                "{\"kind\":\"ClusterNetworkPolicy\",\"tier\":\(jsonQuoted(rule.tier.rawValue)),\"name\":\(jsonQuoted(rule.policy)),"
                    + "\"rule\":\(rule.index),\"ruleName\":\(jsonQuoted(rule.name)),\"action\":\(jsonQuoted(rule.action.rawValue))}"
            ]
        }
    }

    private static func networkPolicy(_ policy: PolicyID, reason: String) -> String {
        "{\"kind\":\"NetworkPolicy\",\"namespace\":\(jsonQuoted(policy.namespace)),\"name\":\(jsonQuoted(policy.name)),\"reason\":\(jsonQuoted(reason))}"
    }

    /// `2026-11-30T17:40:50.123Z`: RFC 3339, UTC, milliseconds.
    static func rfc3339(_ seconds: Double) -> String {
        let milliseconds = Int64((seconds * 1000).rounded(.down))
        var whole = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&whole, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(parts.tm_year + 1900, 4) + "-" + padded(parts.tm_mon + 1, 2) + "-" + padded(parts.tm_mday, 2)
            + "T" + padded(parts.tm_hour, 2) + ":" + padded(parts.tm_min, 2) + ":" + padded(parts.tm_sec, 2)
            + "." + padded(Int32(milliseconds % 1000), 3) + "Z"
    }
}
