import Foundation
import Testing

@Suite("netpol lint, run as a user runs it")
struct LintCommandTests {
    static let mistakes = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.244.1.10}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web-from-anywhere, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: wbe}}
          ingress: [{from: [{namespaceSelector: {}}], ports: [{port: http}]}]
        """

    @Test func findingsExitOne() throws {
        let result = try CLIRunner.run(["lint", "-f", "-"], input: Self.mistakes)
        #expect(result.status == 1)
        #expect(result.outputLines == [
            "-:2: warning NP001: NetworkPolicy shop/web-from-anywhere: spec.podSelector: selects none of the 1 pods of namespace shop in the input: the policy applies to nothing",
            "-:2: info NP015: NetworkPolicy shop/web-from-anywhere: spec.ingress[0].from[0].namespaceSelector: namespaceSelector {} matches every namespace: this peer is every pod of the cluster, not only of shop",
            "Linted 1 NetworkPolicy (with 1 Pod and 0 Namespaces): 1 warning, 1 info.",
        ])
        #expect(result.errors == "")
    }

    @Test func infoAloneExitsZero() throws {
        let fixed = Self.mistakes.replacingOccurrences(of: "app: wbe", with: "app: web")
        let result = try CLIRunner.run(["lint", "-f", "-"], input: fixed)
        #expect(result.status == 0)
        #expect(result.outputLines.last == "Linted 1 NetworkPolicy (with 1 Pod and 0 Namespaces): 0 warnings, 1 info.")
    }

    @Test func invalidInputExitsTwo() throws {
        let result = try CLIRunner.run(["lint", "-f", "examples/invalid/ports.yaml"])
        #expect(result.status == 2)
        #expect(result.output == "")
        #expect(result.errors.contains("spec.ingress[0].ports[1].port: Invalid value: 0"))
        let missing = try CLIRunner.run(["lint", "-f", "no/such/file.yaml"])
        #expect(missing.status == 2)
    }

    @Test func jsonShape() throws {
        let result = try CLIRunner.run(["lint", "-f", "-", "-o", "json"], input: Self.mistakes)
        #expect(result.status == 1)
        #expect(result.outputLines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["findings", "warnings", "info"])
        #expect(object["warnings"] as? Int == 1 && object["info"] as? Int == 1)
        let findings = try #require(object["findings"] as? [[String: String]])
        #expect(findings.first == [
            "code": "NP001", "severity": "warning", "kind": "NetworkPolicy", "namespace": "shop", "name": "web-from-anywhere",
            "location": "-:2", "field": "spec.podSelector",
            "message": "selects none of the 1 pods of namespace shop in the input: the policy applies to nothing",
        ])
        #expect(findings.map { $0["code"] } == ["NP001", "NP015"])
    }

    /// The examples lint clean but for findings that are true of them: the lab's
    /// shop isolates egress and allows no DNS (its pods are reached by address).
    @Test func examplesLintWithoutFalseWarnings() throws {
        let threeTier = try CLIRunner.run(["lint", "-f", "examples/three-tier"])
        #expect(threeTier.status == 0, "\(threeTier.output)")
        #expect(threeTier.outputLines == ["Linted 8 NetworkPolicies (with 6 Pods and 4 Namespaces): no findings."])
        let lab = try CLIRunner.run(["lint", "-f", "examples/lab"])
        #expect(lab.status == 1)
        #expect(lab.outputLines.filter { $0.contains(": warning ") }.map { $0.split(separator: ":").prefix(3).joined(separator: ":") } == [
            "examples/lab/shop.yaml:8: warning NP011",
        ])
    }
}

@Suite("netpol lint in README and help")
struct LintDocumentationTests {
    static let readme = (try? String(contentsOf: CLIRunner.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""

    /// README shows what `netpol lint -f examples/lint` prints today, line for line.
    @Test func readmeExampleIsReal() throws {
        let result = try CLIRunner.run(["lint", "-f", "examples/lint"])
        #expect(result.status == 1)
        #expect(result.outputLines.count > 5)
        let section = Self.readme.components(separatedBy: "## netpol lint").dropFirst().first ?? ""
        for line in result.outputLines {
            #expect(section.contains(line + "\n"), "README does not show: \(line)")
        }
    }

    /// Every code is in README's table and in `netpol lint --help`, with its severity.
    @Test func everyCodeIsDocumented() throws {
        let help = try CLIRunner.run(["lint", "--help"], environment: ["COLUMNS": "80"]).output
        let codes = help.split(separator: "\n").filter { $0.hasPrefix("  NP") }
        #expect(codes.count >= 16)
        for line in codes {
            let fields = line.split(separator: " ")
            #expect(Self.readme.contains("| \(fields[0]) | \(fields[1]) |"), "README's table lacks \(fields[0]) (\(fields[1]))")
        }
    }
}

@Suite("netpol lint on a live cluster (the fake API server)")
struct LintLiveClusterTests {
    /// The cluster's findings are the files' findings, at `cluster`; a file laid
    /// over a live policy is linted in its place.
    @Test func lintsTheClusterAndAChangeToIt() async throws {
        try await LiveCluster.with("examples/lint") { cluster in
            let live = try cluster.run(["lint", "--kubeconfig", cluster.kubeconfig])
            let files = try CLIRunner.run(["lint", "-f", "examples/lint"])
            #expect(live.status == 1, "\(live.errors)")
            // `examples/lint/mistakes.yaml:7: warning ...` becomes `cluster: warning ...`.
            let placedAtCluster = files.outputLines.map { line in
                guard line.hasPrefix("examples/lint/"), let colon = line.range(of: ": ") else { return line }
                return "cluster" + line[colon.lowerBound...]
            }
            #expect(live.outputLines == placedAtCluster)

            let fixedDNS = try cluster.file("dns.yaml", """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: allow-dns, namespace: shop}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                  egress:
                  - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
                """)
            let change = try cluster.run(["lint", "--kubeconfig", cluster.kubeconfig, "-f", fixedDNS, "-o", "json"])
            #expect(change.status == 1)
            #expect(!change.output.contains("NP012"), "\(change.output)")
            #expect(change.output.contains("\"location\":\"cluster\""))
        }
    }
}
