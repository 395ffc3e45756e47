import ArgumentParser
import NetpolModel

struct ValidateCommand: ReadsClusters {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check manifests as the Kubernetes API server would.",
        usage: """
            netpol validate [-f <path> ...] [--kubeconfig <path>] [--context <name>]
              [--live-cluster]
            """,
        discussion: """
            Reads every Namespace, Pod, Node, NetworkPolicy (networking.k8s.io/v1) and \
            ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) in the given files, \
            directories or standard input, alone, in multi-document YAML or inside a \
            `kind: List`, and prints one line per problem:

              FILE:DOC: KIND NAMESPACE/NAME: FIELD: MESSAGE

            With --live-cluster (or --kubeconfig, --context) the live cluster's objects are \
            checked too, `cluster` standing in for FILE:DOC; a file's object replaces \
            the live one of the same kind, namespace and name, so a change can be \
            checked against the cluster it is meant for before it is applied.

            FIELD and MESSAGE are those the API server would answer with, e.g. for \
            port 0 in a policy's first ingress rule the FIELD \
            `spec.ingress[0].ports[0].port` and the MESSAGE `Invalid value: 0: must be \
            between 1 and 65535, inclusive`.

            Policies are decoded strictly: a field the API does not define (a \
            misspelt `podSelecter`, say) is a problem, as with `kubectl apply`. Objects \
            without a namespace are placed in `default`. Other kinds are skipped. \
            A ClusterNetworkPolicy is checked against its CRD's schema and CEL rules \
            (experimental channel), with the API server's words.
            Lines starting with `warning:` report what the API server accepts but \
            warns about (ambiguous CIDRs), objects defined twice, what netpol does not \
            enforce as written (a `domainNames` peer: it fails closed), and two \
            ClusterNetworkPolicies of one tier and priority whose subjects may overlap \
            (netpol orders them by name); they do not fail the check.

            Exit status: 0 all valid, 1 some object is invalid, 2 some input could not \
            be read, parsed or decoded (also reported, one line each) or the cluster \
            could not be listed.

            Examples:
              netpol validate -f examples/three-tier
              kubectl get ns,pods,networkpolicies -A -o yaml | netpol validate -f -
              netpol validate --context prod -f change.yaml
            """)

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let set = try cluster.inputs(with: manifests)
        var report = ValidationReport()
        for error in set.errors {
            print(error.description)
        }
        var firstDefinition: [String: InputSet.Object] = [:]
        let ties = Dictionary(grouping: ClusterPolicyTie.ties(among: set.objects.compactMap(\.clusterPolicy)), by: \.second)
        for entry in set.objects {
            let prefix = "\(entry.location): \(entry.object.reference)"
            let problems = entry.problems
            for problem in problems {
                print("\(prefix): \(problem)")
            }
            var warnings = Validator.warnings(entry.object) + (entry.clusterPolicy.flatMap { ties[$0] } ?? []).map(\.description)
            let identity = entry.object.reference
            if let earlier = firstDefinition[identity] {
                warnings.append("defined again (first at \(earlier.location)); the last definition wins")
            } else {
                firstDefinition[identity] = entry
            }
            for warning in warnings {
                print("warning: \(prefix): \(warning)")
            }
            report.count(entry.object, problems: problems.count, warnings: warnings.count)
        }
        report.inputErrors = set.errors.count
        print(report.summary(files: set.files.count, cluster: set.readsCluster))
        if report.inputErrors > 0 { throw ExitStatus.usageOrInput.exitCode }
        if report.invalidObjects > 0 { throw ExitStatus.findings.exitCode }
    }
}

/// Tallies for the closing line of `netpol validate`.
struct ValidationReport {
    private var kinds: [String: Int] = [:]
    private(set) var objects = 0
    private(set) var invalidObjects = 0
    private(set) var problems = 0
    private(set) var warnings = 0
    var inputErrors = 0

    mutating func count(_ object: KubeObject, problems: Int, warnings: Int) {
        objects += 1
        kinds[object.kind, default: 0] += 1
        if problems > 0 { invalidObjects += 1 }
        self.problems += problems
        self.warnings += warnings
    }

    /// `Checked 9 objects in 3 files (2 Namespaces, 5 Pods, 2 NetworkPolicies): all valid.`,
    /// or `from the cluster and 1 file` when the live cluster was read too.
    func summary(files: Int, cluster: Bool) -> String {
        let breakdown = ["Namespace", "Pod", "Node", "NetworkPolicy", "ClusterNetworkPolicy"].compactMap { kind in
            kinds[kind].map { plural($0, kind, kind.hasSuffix("Policy") ? String(kind.dropLast()) + "ies" : kind + "s") }
        }
        let sources = !cluster ? "in " + plural(files, "file", "files")
            : files == 0 ? "from the cluster" : "from the cluster and " + plural(files, "file", "files")
        var text = "Checked \(plural(objects, "object", "objects")) \(sources)"
        if !breakdown.isEmpty { text += " (" + breakdown.joined(separator: ", ") + ")" }
        var verdicts: [String] = []
        if invalidObjects > 0 {
            verdicts.append("\(plural(invalidObjects, "invalid object", "invalid objects")) with \(plural(problems, "problem", "problems"))")
        }
        if inputErrors > 0 { verdicts.append(plural(inputErrors, "input error", "input errors")) }
        if warnings > 0 { verdicts.append(plural(warnings, "warning", "warnings")) }
        let allValid = invalidObjects == 0 && inputErrors == 0
        return text + ": " + (allValid ? "all valid" : "") + (allValid && !verdicts.isEmpty ? ", " : "") + verdicts.joined(separator: ", ") + "."
    }

    private func plural(_ count: Int, _ singular: String, _ pluralForm: String) -> String {
        "\(count) \(count == 1 ? singular : pluralForm)"
    }
}

extension InputSet.Object {
    /// The object, when it is a ClusterNetworkPolicy.
    var clusterPolicy: ClusterNetworkPolicy? {
        if case .clusterNetworkPolicy(let policy) = object { return policy }
        return nil
    }
}
