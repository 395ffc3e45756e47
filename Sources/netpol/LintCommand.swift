import ArgumentParser
import NetpolLint
import NetpolModel

struct LintCommand: ReadsClusters {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Find policies that are valid but almost certainly not what was meant.",
        usage: """
            netpol lint [-f <path> ...] [--kubeconfig <path>] [--context <name>]
              [--live-cluster] [--output <output>]
            """,
        discussion: """
            Reads manifests as `validate` does (invalid input stops the command with \
            exit status 2) and prints one line per finding:

              FILE:DOC: SEVERITY CODE: KIND NAMESPACE/NAME: FIELD: WHY

            Checks about "today" (a selector that selects nothing, a named port no \
            pod declares, pods inside an ipBlock) use the pods and namespaces of the \
            input, and only where it has some: lint policies together with the \
            cluster's pods and namespaces, or lint the live cluster (--live-cluster, \
            --kubeconfig, --context; `cluster` stands in for FILE:DOC), with -f files \
            laid over it to lint a change before it is applied.

            Codes (stable; warnings fail the check, info findings do not):
            \(codeTable)

            Exit status: 0 no warning, 1 some warning, 2 the input could not be read \
            or has invalid objects.

            -o json prints one object on one line:
              {"findings":[{"code","severity","kind","namespace","name",
                "location","field","message"}],"warnings":N,"info":N}

            Examples:
              netpol lint -f examples/three-tier
              kubectl get ns,pods,netpol -A -o yaml | netpol lint -f - -o json
              netpol lint --context prod -f proposed-policy.yaml
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var cluster: ClusterOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: Format = .text

    /// `  NP001  warning  spec.podSelector selects no pod of the input`, one line per code.
    static var codeTable: String {
        LintCode.allCases.map { "  \($0.rawValue)  \($0.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  \($0.summary)" }
            .joined(separator: "\n")
    }

    func run() throws {
        let objects = try cluster.inputs(with: manifests).validObjects().map { LocatedObject($0.object, at: $0.location, retypedScalars: $0.retypedScalars) }
        let findings = Linter(objects: objects).findings()
        switch output {
        case .text:
            for finding in findings { print(Self.line(finding)) }
            print(Self.summary(findings, objects: objects))
        case .json:
            print(Self.json(findings))
        }
        if findings.contains(where: { $0.severity == .warning }) { throw ExitStatus.findings.exitCode }
    }

    static func line(_ finding: Finding) -> String {
        "\(finding.location): \(finding.severity.rawValue) \(finding.code.rawValue): \(finding.object): \(finding.field): \(finding.message)"
    }

    /// `Linted 8 NetworkPolicies (6 Pods, 4 Namespaces in the input): 1 warning, 2 info.`
    static func summary(_ findings: [Finding], objects: [LocatedObject]) -> String {
        let policies = Set(objects.filter { $0.object.kind == "NetworkPolicy" }.map(\.object.reference)).count
        let pods = Set(objects.filter { $0.object.kind == "Pod" }.map(\.object.reference)).count
        let namespaces = Set(objects.filter { $0.object.kind == "Namespace" }.map(\.object.reference)).count
        let warnings = findings.filter { $0.severity == .warning }.count
        let head = "Linted \(policies) \(policies == 1 ? "NetworkPolicy" : "NetworkPolicies") "
            + "(with \(pods) \(pods == 1 ? "Pod" : "Pods") and \(namespaces) \(namespaces == 1 ? "Namespace" : "Namespaces"))"
        guard !findings.isEmpty else { return head + ": no findings." }
        return head + ": \(warnings) \(warnings == 1 ? "warning" : "warnings"), \(findings.count - warnings) info."
    }

    static func json(_ findings: [Finding]) -> String {
        let items = findings.map { finding in
            JSONText.object([
                "code": JSONText.string(finding.code.rawValue),
                "severity": JSONText.string(finding.severity.rawValue),
                "kind": JSONText.string(finding.object.kind),
                "namespace": JSONText.string(finding.object.namespace),
                "name": JSONText.string(finding.object.name),
                "location": JSONText.string(finding.location),
                "field": JSONText.string(finding.field.description),
                "message": JSONText.string(finding.message),
            ])
        }
        let warnings = findings.filter { $0.severity == .warning }.count
        return JSONText.object([
            "findings": JSONText.array(items),
            "warnings": String(warnings),
            "info": String(findings.count - warnings),
        ])
    }
}
