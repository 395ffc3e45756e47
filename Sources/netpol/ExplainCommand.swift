import ArgumentParser
import Foundation
import NetpolEngine
import NetpolModel

struct ExplainCommand: ReadsClusters {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say whether one connection is allowed, and which policy and rule decide it.",
        usage: """
            netpol explain [-f <path> ...] [--kubeconfig <path>] [--context <name>]
              [--live-cluster] --from <src> --to <dst> --port <port>
              [--protocol <protocol>] [--family <family>] [--output <output>]
            """,
        discussion: """
            SRC and DST are NAMESPACE/POD, or an IP address (an address of a pod in \
            the input is that pod; any other is outside the cluster). The answer names \
            the policies that isolate each side and the rule, peer and port entry that \
            allowed the connection, or for every rule of the isolating policies what \
            did not match.

            When NetworkPolicies are audited (annotated `netpol.io/mode: audit`: \
            evaluated, never enforced) and enforcing them would change the verdict, \
            an `audit:` block follows: the verdict they would give, the audited \
            policies that would decide, and the sides that would change (-o json: \
            an `audit` object, absent when nothing would change).

            Exit status 0 whatever the verdict; 2 on bad usage, unknown pods, or input \
            with problems.

            Examples:
              netpol explain -f examples/lab --from shop/web-1 --to shop/api --port http
              netpol explain -f examples/lab --from 10.244.1.20 --to shop/db --port 5432
              netpol explain -f examples/lab --from shop/api --to 1.1.1.1 --port 53 -o json
              kubectl netpol explain --from shop/web-1 --to shop/db --port 5432
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("The source: NAMESPACE/POD or an IP address.", valueName: "src"))
    var from: String

    @Option(help: ArgumentHelp("The destination: NAMESPACE/POD or an IP address.", valueName: "dst"))
    var to: String

    @Option(help: "Destination port: a number, or a container port name of the destination.", transform: PortArgument.parse)
    var port: PortArgument

    @Option(name: .customLong("protocol"), help: "TCP, UDP or SCTP.")
    var proto: PortProtocol = .tcp

    @Option(help: "Address family (ipv4 or ipv6); by default the destination's first.")
    var family: IPAddress.Family?

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: Format = .text

    func run() throws {
        let comparison = AuditComparison(snapshot: try cluster.snapshot(with: manifests))
        let engine = comparison.enforced
        let source: Endpoint, destination: Endpoint
        do {
            source = try engine.endpoint(from)
            destination = try engine.endpoint(to)
        } catch {
            FileHandle.standardError.write(Data("netpol explain: \(error)\n".utf8))
            throw ExitStatus.usageOrInput.exitCode
        }
        let verdict = engine.verdict(for: Connection(from: source, to: destination, protocol: proto, port: port.value, family: family))
        let audit = comparison.audit(verdict)
        switch output {
        case .text: print(([verdict.explanation] + (audit.map { [$0.explanation] } ?? [])).joined(separator: "\n"))
        case .json: print(try VerdictJSON(verdict, audit: audit).encoded())
        }
    }
}

/// The JSON shape of `netpol explain -o json`.
struct VerdictJSON: Encodable {
    struct Side: Encodable {
        var pod: String?
        /// notApplicable, notIsolated, allowed or denied.
        var outcome: String
        var reason: String?
        /// admin, networkPolicy, baseline or default; null when nothing applies.
        var decidedBy: String?
        var admin: Tier?
        var isolatingPolicies: [String]
        var rules: [Rule]
        var baseline: Tier?
    }

    /// One tier of cluster policies on one side: its policies in evaluation
    /// order, and the rule that matched first (null: none did).
    struct Tier: Encodable {
        var policies: [String]
        var match: TierMatch?
    }

    struct TierMatch: Encodable {
        var policy: String
        var priority: Int
        var rule: String
        var name: String
        /// Accept, Deny or Pass.
        var action: String
        var peer: String
        var `protocol`: String
        /// Policies of the same priority, ordered by name.
        var tiedWith: [String]
    }

    struct Rule: Encodable {
        var policy: String
        var rule: String
        var allows: Bool
        /// `from[1]`, `all`, or null when no peer matched.
        var peer: String?
        var port: String?
    }

    var from: String
    var to: String
    var `protocol`: String
    var port: String
    var resolvedPort: Int?
    var family: String?
    var allowed: Bool
    var exemption: String?
    var egress: Side
    var ingress: Side
    /// Absent unless enforcing the audited policies would change the verdict.
    var audit: Audit?

    /// What the connection would be with the audited policies enforced.
    struct Audit: Encodable {
        var allowed: Bool
        /// The audited policies that would decide.
        var policies: [String]
        var egress: Side
        var ingress: Side
    }

    init(_ verdict: Verdict, audit: AuditedVerdict? = nil) {
        from = verdict.connection.source.description
        to = verdict.connection.destination.description
        self.protocol = verdict.connection.protocol.rawValue
        port = verdict.connection.port.description
        resolvedPort = verdict.port
        family = verdict.family?.rawValue
        allowed = verdict.allowed
        exemption = verdict.exemption
        egress = Self.side(verdict.egress)
        ingress = Self.side(verdict.ingress)
        self.audit = audit.map { audit in
            Audit(allowed: audit.wouldBe.allowed, policies: audit.decidingPolicies.map(\.description),
                  egress: Self.side(audit.wouldBe.egress), ingress: Self.side(audit.wouldBe.ingress))
        }
    }

    private static func side(_ side: SideDecision) -> Side {
        let (outcome, reason): (String, String?) = switch side.outcome {
        case .notApplicable(let reason): ("notApplicable", reason)
        case .notIsolated: ("notIsolated", nil)
        case .allowed: ("allowed", nil)
        case .denied: ("denied", nil)
        }
        let decidedBy: String? = switch side.decidedBy {
        case .nothing: nil
        case .adminTier: "admin"
        case .networkPolicy: "networkPolicy"
        case .baselineTier: "baseline"
        case .defaultAllow: "default"
        }
        return Side(
            pod: side.pod?.description, outcome: outcome, reason: reason, decidedBy: decidedBy, admin: side.admin.map(tier),
            isolatingPolicies: side.isolatingPolicies.map(\.description),
            rules: side.rules.map { rule in
                Rule(policy: rule.policy.description, rule: rule.path, allows: rule.allows,
                     peer: rule.peer.map { text($0, field: rule.direction.peersField) },
                     port: rule.port.map { text($0, field: "ports") })
            },
            baseline: side.baseline.map(tier))
    }

    private static func tier(_ evaluation: TierEvaluation) -> Tier {
        Tier(policies: evaluation.policies.map(\.name), match: evaluation.match.map { match in
            TierMatch(policy: match.policy.name, priority: match.policy.priority, rule: match.path, name: match.name,
                      action: match.action.rawValue, peer: "\(match.direction.peersField)[\(match.peer)]",
                      protocol: text(match.protocolEntry, field: "protocols"), tiedWith: match.tiedWith)
        })
    }

    private static func text(_ match: Match, field: String) -> String {
        switch match {
        case .any: return "all"
        case .entry(let index): return "\(field)[\(index)]"
        }
    }

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
