import Foundation
import Testing

@Suite("netpol validate, run as a user runs it")
struct ValidateCommandTests {
    @Test func validExamplesPass() throws {
        let result = try CLIRunner.run(["validate", "-f", "examples/three-tier"])
        #expect(result.status == 0)
        #expect(result.output == "Checked 18 objects in 4 files (4 Namespaces, 6 Pods, 8 NetworkPolicies): all valid.\n")
        #expect(result.errors == "")
    }

    @Test func invalidPoliciesExitOne() throws {
        let result = try CLIRunner.run(["validate", "-f", "examples/invalid/ports.yaml", "-f", "examples/invalid/typo.yaml"])
        #expect(result.status == 1)
        #expect(result.outputLines == [
            "examples/invalid/ports.yaml:1: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to `port`",
            "examples/invalid/ports.yaml:1: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "examples/invalid/ports.yaml:1: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[2].endPort: Invalid value: 8080: may not be specified when `port` is non-numeric",
            "examples/invalid/ports.yaml:1: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[3].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
            "examples/invalid/ports.yaml:1: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[4].port: Invalid value: \"Web_UI\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            "examples/invalid/typo.yaml:1: NetworkPolicy shop/Allow_Web: spec.podSelecter: Unknown field: not a field of NetworkPolicy",
            "examples/invalid/typo.yaml:1: NetworkPolicy shop/Allow_Web: metadata.name: Invalid value: \"Allow_Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "examples/invalid/typo.yaml:1: NetworkPolicy shop/Allow_Web: spec.policyTypes[1]: Duplicate value: \"Ingress\"",
            "Checked 2 objects in 2 files (2 NetworkPolicies): 2 invalid objects with 8 problems.",
        ])
    }

    @Test func undecodableInputExitsTwo() throws {
        let result = try CLIRunner.run(["validate", "-f", "examples/invalid"])
        #expect(result.status == 2)
        #expect(result.outputLines.first == "examples/invalid/wrong-type.yaml:1: NetworkPolicy shop/wrong-type: spec.ingress: expected a list, got a string (\"allow-all\") (line 9)")
        #expect(result.outputLines.last == "Checked 3 objects in 4 files (3 NetworkPolicies): 3 invalid objects with 15 problems, 1 input error.")
    }

    @Test func standardInput() throws {
        let manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: Shop}\n"
        let result = try CLIRunner.run(["validate", "-f", "-"], input: manifest)
        #expect(result.status == 1)
        #expect(result.outputLines.first?.hasPrefix("-:1: Namespace Shop: metadata.name: Invalid value: \"Shop\": a lowercase RFC 1123 label") == true)
    }

    @Test func warningsDoNotFail() throws {
        let manifest = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec: {}
            """
        let result = try CLIRunner.run(["validate", "-f", "-"], input: manifest)
        #expect(result.status == 0)
        #expect(result.outputLines == [
            "warning: -:1: NetworkPolicy x/p: spec.egress[0].to[0].ipBlock.cidr: CIDR value \"10.0.0.1/8\" is ambiguous in this context (should be \"10.0.0.0/8\" or \"10.0.0.1/32\"?)",
            "warning: -:2: NetworkPolicy x/p: defined again (first at -:1); the last definition wins",
            "Checked 2 objects in 1 file (2 NetworkPolicies): all valid, 2 warnings.",
        ])
    }

    @Test func aMistypedModeIsAWarningAndEnforced() throws {
        let manifest = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x, annotations: {netpol.io/mode: dry-run}}
            spec: {podSelector: {}}
            """
        let result = try CLIRunner.run(["validate", "-f", "-"], input: manifest)
        #expect(result.status == 0)
        #expect(result.outputLines == [
            "warning: -:1: NetworkPolicy x/p: metadata.annotations[netpol.io/mode]: Unsupported value: \"dry-run\": supported values: \"enforce\", \"audit\": the policy is enforced",
            "Checked 1 object in 1 file (1 NetworkPolicy): all valid, 1 warning.",
        ])
    }

    @Test func clusterNetworkPoliciesAndNodes() throws {
        let file = "examples/cluster-policies/platform.yaml"
        let result = try CLIRunner.run(["validate", "-f", file])
        #expect(result.status == 0)
        #expect(result.outputLines == [
            "warning: \(file):4: ClusterNetworkPolicy monitoring-only-prometheus: spec.priority: Admin tier policy with the same priority (10) as ClusterNetworkPolicy egress-to-nodes, and their subjects may select the same pods: upstream leaves their order undefined; netpol orders them by name (egress-to-nodes first)",
            "warning: \(file):5: ClusterNetworkPolicy egress-to-nodes: spec.egress[1].to[0].domainNames: not enforced by netpol, which fails closed: this Accept rule matches no traffic",
            "Checked 7 objects in 1 file (2 Namespaces, 2 Nodes, 3 ClusterNetworkPolicies): all valid, 2 warnings.",
        ])
    }

    @Test func invalidClusterNetworkPolicyExitsOne() throws {
        let manifest = """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: bad}
            spec:
              tier: Foo
              priority: 1001
              subject: {namespaces: {}}
              egress:
              - action: Accept
                to: [{networks: [10.0.0.0/33]}]
                protocols: [{destinationNamedPort: http}]
                port: 80
            """
        let result = try CLIRunner.run(["validate", "-f", "-"], input: manifest)
        #expect(result.status == 1)
        #expect(result.outputLines == [
            "-:1: ClusterNetworkPolicy bad: spec.egress[0].port: Unknown field: not a field of ClusterNetworkPolicy",
            "-:1: ClusterNetworkPolicy bad: spec.tier: Unsupported value: \"Foo\": supported values: \"Admin\", \"Baseline\"",
            "-:1: ClusterNetworkPolicy bad: spec.priority: Invalid value: 1001: spec.priority in body should be less than or equal to 1000",
            "-:1: ClusterNetworkPolicy bad: spec.egress[0].to[0].networks[0]: Invalid value: \"10.0.0.0/33\": Invalid CIDR format provided",
            "-:1: ClusterNetworkPolicy bad: spec.egress[0]: Invalid value: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames",
            "Checked 1 object in 1 file (1 ClusterNetworkPolicy): 1 invalid object with 5 problems.",
        ])
    }

    @Test(arguments: [
        (["validate"], "Missing input: give at least one -f PATH"),
        (["validate", "-f", "-", "-f", "-"], "Standard input (-f -) can be read only once."),
        (["validate", "-f", "examples", "--frobnicate"], "Unknown option '--frobnicate'"),
        (["frobnicate"], "Unexpected argument 'frobnicate'"),
    ])
    func usageErrorsExitTwo(arguments: [String], message: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.errors.contains(message))
        #expect(result.output == "")
    }

    /// The parser checks for unknown options last; missing input is checked after
    /// it, so a misspelt option is what the user reads first.
    @Test(arguments: [
        (["validate", "--file", "x"], "Error: Unknown option '--file'\nUsage: netpol validate"),
        (["validate", "--bogus"], "Error: Unknown option '--bogus'\nUsage: netpol validate"),
        (["explain", "--fil", "x", "--from", "a/b", "--to", "a/c", "--port", "80"], "Error: Unknown option '--fil'. Did you mean '--from'?"),
        (["matrix"], "Error: Missing input: give at least one -f PATH (a file, a directory, or - for standard input), or read a live cluster with --kubeconfig, --context or --live-cluster.\nUsage: netpol matrix [-f <path> ...]"),
    ])
    func aMisspeltOptionIsNamedBeforeMissingInput(arguments: [String], message: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.errors.hasPrefix(message), "stderr: \(result.errors)")
        #expect(result.output == "")
    }

    @Test func unreadableInputExitsTwo() throws {
        let result = try CLIRunner.run(["validate", "-f", "no/such/dir"])
        #expect(result.status == 2)
        #expect(result.outputLines == ["no/such/dir: no such file or directory", "Checked 0 objects in 0 files: 1 input error."])
    }

    @Test func helpTeaches() throws {
        let result = try CLIRunner.run(["validate", "--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("FILE:DOC: KIND NAMESPACE/NAME: FIELD: MESSAGE"))
        #expect(result.output.contains("kubectl get ns,pods,networkpolicies -A -o yaml | netpol validate -f -"))
        let root = try CLIRunner.run(["--help"])
        #expect(root.status == 0)
        #expect(root.output.contains("validate"))
    }
}
