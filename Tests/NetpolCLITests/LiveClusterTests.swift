import Foundation
import NetpolModel
import NetpolTesting
import Testing

/// The fake API server holding a cluster, and a kubeconfig that reaches it.
struct LiveCluster {
    let server: FakeAPIServer
    let directory: URL
    /// Its current context, `fake`, reaches the server with the right token.
    var kubeconfig: String { directory.appendingPathComponent("config").path }

    /// A cluster holding the objects of `manifests` (a path under the package root).
    static func start(_ manifests: String = "examples/three-tier") async throws -> LiveCluster {
        let set = ManifestLoader.load([CLIRunner.packageRoot.appendingPathComponent(manifests).path])
        #expect(set.errors.isEmpty, "\(set.errors)")
        let server = try await FakeAPIServer(objects: set.objects.map(\.object))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cluster = LiveCluster(server: server, directory: directory)
        _ = try cluster.file("config", server.kubeconfig)
        return cluster
    }

    /// Writes `text` into the cluster's directory and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs `body` against a cluster holding `manifests`, and stops it whatever `body` does.
    static func with(_ manifests: String = "examples/three-tier", _ body: (LiveCluster) async throws -> Void) async throws {
        let cluster = try await start(manifests)
        do {
            try await body(cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    func stop() async {
        await server.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Environment without in-cluster variables, so that a test run inside a pod
    /// still reads the kubeconfig it names.
    static let outsideAPod = ["KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": ""]

    /// Runs netpol with the live cluster's kubeconfig.
    func run(_ arguments: [String], executable: URL = CLIRunner.binary) throws -> CLIRunner.Result {
        try CLIRunner.run(arguments, environment: Self.outsideAPod, executable: executable)
    }
}

@Suite("Live clusters: --kubeconfig, --context, --live-cluster and the -f overlay against the fake API server")
struct LiveClusterTests {
    /// What each command prints for the cluster equals what it prints for the
    /// manifests the cluster was made from.
    @Test(arguments: [
        ["matrix", "--port", "api", "-o", "json"],
        ["matrix", "--port", "53", "--protocol", "udp"],
        ["explain", "--from", "shop/web", "--to", "shop/db", "--port", "postgres"],
        ["explain", "--from", "shop/web", "--to", "shop/api", "--port", "api", "-o", "json"],
        ["compile", "--node", "node-a"],
    ])
    func readsTheClusterAsTheFiles(arguments: [String]) async throws {
        try await LiveCluster.with { cluster in
            let live = try cluster.run(arguments + ["--kubeconfig", cluster.kubeconfig])
            let files = try CLIRunner.run(arguments + ["-f", "examples/three-tier"])
            #expect(live.status == 0, "\(live.errors)")
            #expect(files.status == 0 && !files.output.isEmpty)
            #expect(live.output == files.output)
            let lists = cluster.server.requests.filter { !$0.contains("watch") }
            #expect(lists.count == 5, "one list per kind: \(lists)")
            for path in ["/api/v1/namespaces?", "/api/v1/pods?", "/apis/networking.k8s.io/v1/networkpolicies?", "/api/v1/nodes?",
                         "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies?"] {
                #expect(lists.contains { $0.hasPrefix("GET " + path) }, "\(path) listed")
            }
        }
    }

    @Test func validatesTheClusterAndCountsItsObjects() async throws {
        try await LiveCluster.with { cluster in
            let result = try cluster.run(["validate", "--kubeconfig", cluster.kubeconfig])
            #expect(result.status == 0, "\(result.errors)")
            #expect(result.outputLines.last?.hasPrefix("Checked 18 objects from the cluster (") == true, "\(result.output)")
            #expect(result.outputLines.last?.hasSuffix("): all valid.") == true, "\(result.output)")
        }
    }

    /// Objects the fake server holds but the API server would refuse: reported
    /// as files are, at `cluster`.
    @Test func reportsInvalidLiveObjectsAtCluster() async throws {
        try await LiveCluster.with("examples/invalid/ports.yaml") { cluster in
            let result = try cluster.run(["validate", "--kubeconfig", cluster.kubeconfig])
            let fromFiles = try CLIRunner.run(["validate", "-f", "examples/invalid/ports.yaml"])
            #expect(result.status == 1)
            let problems = result.outputLines.filter { $0.hasPrefix("cluster: NetworkPolicy shop/bad-ports: ") }
            let fileProblems = fromFiles.outputLines.filter { $0.hasPrefix("examples/invalid/ports.yaml:") && !$0.hasPrefix("warning:") }
            #expect(!problems.isEmpty && problems.count == fileProblems.count, "\(result.output)")
            #expect(problems.contains("cluster: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive"))

            let matrix = try cluster.run(["matrix", "--kubeconfig", cluster.kubeconfig])
            #expect(matrix.status == 2)
            #expect(matrix.errors.contains("cluster: NetworkPolicy shop/bad-ports: spec.ingress[0].ports[1].port"), "\(matrix.errors)")
        }
    }

    /// A file's object replaces the live one of the same kind, namespace and name.
    @Test func filesOverlayTheLiveObjects() async throws {
        try await LiveCluster.with { cluster in
            let change = try cluster.file("db-from-web.yaml", """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: db-from-api, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  ingress:
                  - from: [{podSelector: {matchLabels: {app: web}}}]
                """)
            let explain = ["explain", "--kubeconfig", cluster.kubeconfig, "--from", "shop/web", "--to", "shop/db", "--port", "postgres", "-o", "json"]
            let before = try cluster.run(explain)
            let after = try cluster.run(explain + ["-f", change])
            #expect(before.status == 0 && after.status == 0, "\(after.errors)")
            #expect(before.output.contains(#""ingress":{"decidedBy":"networkPolicy","isolatingPolicies":["shop/db-from-api","shop/default-deny"]"#), "\(before.output)")
            #expect(before.output.contains(#""outcome":"denied""#))
            #expect(after.output.contains(#""ingress":{"decidedBy":"networkPolicy","isolatingPolicies":["shop/db-from-api","shop/default-deny"],"outcome":"allowed""#), "\(after.output)")

            let validate = try cluster.run(["validate", "--kubeconfig", cluster.kubeconfig, "-f", change])
            #expect(validate.status == 0)
            #expect(!validate.output.contains("defined again"), "an overlay is no second definition: \(validate.output)")
            #expect(validate.outputLines.last?.hasPrefix("Checked 18 objects from the cluster and 1 file (") == true, "\(validate.output)")
        }
    }

    @Test func namesAnUnreachableServer() async throws {
        let cluster = try await LiveCluster.start()
        let url = cluster.server.url
        await cluster.server.close()
        defer { try? FileManager.default.removeItem(at: cluster.directory) }
        let result = try cluster.run(["matrix", "--kubeconfig", cluster.kubeconfig])
        #expect(result.status == 2)
        #expect(result.errors.hasPrefix("netpol: \(url): cannot list Namespaces: no answer"), "\(result.errors)")
        #expect(result.output.isEmpty)
    }

    @Test func namesTheKindItMayNotList() async throws {
        try await LiveCluster.with { cluster in
            cluster.server.forbid("Pod")
            let result = try cluster.run(["explain", "--kubeconfig", cluster.kubeconfig, "--from", "shop/web", "--to", "shop/db", "--port", "5432"])
            #expect(result.status == 2)
            #expect(result.errors.contains("netpol: \(cluster.server.url): cannot list Pods: 403 Forbidden: pods is forbidden: "), "\(result.errors)")
            #expect(result.errors.contains("netpol needs list on namespaces, pods, nodes, networkpolicies.networking.k8s.io and clusternetworkpolicies.policy.networking.k8s.io"))
            #expect(result.output.isEmpty)
        }
    }

    @Test func namesRefusedCredentials() async throws {
        try await LiveCluster.with { cluster in
            let stranger = try cluster.file("stranger", cluster.server.kubeconfig.replacingOccurrences(of: "token: \(cluster.server.token)", with: "token: not-the-token"))
            let result = try cluster.run(["validate", "--kubeconfig", stranger])
            #expect(result.status == 2)
            #expect(result.errors.contains("cannot list Namespaces: 401 Unauthorized"), "\(result.errors)")
            #expect(result.errors.contains("the server refuses the credentials"))
        }
    }

    @Test func namesAWrongContextOrKubeconfig() async throws {
        try await LiveCluster.with { cluster in
            let wrongContext = try cluster.run(["matrix", "--kubeconfig", cluster.kubeconfig, "--context", "prod"])
            #expect(wrongContext.status == 2)
            #expect(wrongContext.errors == "netpol: \(cluster.kubeconfig): context \"prod\" is not defined\n")
            let notThere = try cluster.run(["matrix", "--kubeconfig", "/nonexistent/config"])
            #expect(notThere.status == 2)
            #expect(notThere.errors == "netpol: cannot read kubeconfig /nonexistent/config\n")
            // --context alone picks from $KUBECONFIG, as kubectl does.
            let fromEnvironment = try CLIRunner.run(
                ["matrix", "--context", "nowhere"], environment: LiveCluster.outsideAPod.merging(["KUBECONFIG": cluster.kubeconfig]) { $1 })
            #expect(fromEnvironment.errors == "netpol: \(cluster.kubeconfig): context \"nowhere\" is not defined\n")
            #expect(cluster.server.requests.isEmpty)
        }
    }

    /// In a pod (its environment; the service account's files are absent here),
    /// --live-cluster uses the service account, and --context the kubeconfig.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/var/run/secrets/kubernetes.io"), "runs in a pod"))
    func inAPodUsesTheServiceAccount() throws {
        let pod = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443", "KUBECONFIG": "/nonexistent/config"]
        let inCluster = try CLIRunner.run(["matrix", "--live-cluster"], environment: pod)
        #expect(inCluster.status == 2)
        #expect(inCluster.errors == "netpol: cannot read service-account CA /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n")
        let context = try CLIRunner.run(["matrix", "--context", "fake"], environment: pod)
        #expect(context.status == 2)
        #expect(context.errors == "netpol: cannot read kubeconfig /nonexistent/config\n")
    }

    @Test func withoutFilesOrClusterNamesBoth() throws {
        let result = try CLIRunner.run(["explain", "--from", "a/b", "--to", "a/c", "--port", "80"])
        #expect(result.status == 2)
        #expect(result.errors.contains("Error: Missing input: give at least one -f PATH"), "\(result.errors)")
        #expect(result.errors.contains("or read a live cluster with --kubeconfig, --context or --live-cluster"))
    }
}

/// `kubectl-NAME` on PATH is a kubectl plugin: a link named kubectl-netpol to
/// netpol makes `kubectl netpol …` read the cluster kubectl reads.
@Suite("netpol as the kubectl plugin kubectl-netpol")
struct KubectlPluginTests {
    /// A directory holding `kubectl-netpol`, a link to the built netpol.
    private static func pluginDirectory(in cluster: LiveCluster) throws -> URL {
        let directory = cluster.directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("kubectl-netpol"), withDestinationURL: CLIRunner.binary)
        return directory
    }

    private static func environment(_ cluster: LiveCluster, path: URL? = nil) -> [String: String] {
        var environment = LiveCluster.outsideAPod.merging(["KUBECONFIG": cluster.kubeconfig]) { $1 }
        if let path { environment["PATH"] = path.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") }
        return environment
    }

    /// kubectl itself, when installed.
    private static let kubectl = ["/usr/local/bin/kubectl", "/usr/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// ClusterNetworkPolicies and Nodes come from the cluster too; without the
    /// CRD (404) there are none, and the other kinds are read as before.
    @Test func readsClusterPoliciesAndNodesAndGoesOnWithoutTheirCRD() async throws {
        try await LiveCluster.with("examples/cluster-policies") { cluster in
            let live = try cluster.run(["validate", "--kubeconfig", cluster.kubeconfig])
            #expect(live.status == 0, "\(live.errors)")
            #expect(live.outputLines.last == "Checked 7 objects from the cluster (2 Namespaces, 2 Nodes, 3 ClusterNetworkPolicies): all valid, 2 warnings.")
            cluster.server.removeClusterPolicyCRD()
            let withoutCRD = try cluster.run(["validate", "--kubeconfig", cluster.kubeconfig])
            #expect(withoutCRD.status == 0, "\(withoutCRD.errors)")
            #expect(withoutCRD.output == "Checked 4 objects from the cluster (2 Namespaces, 2 Nodes): all valid.\n")
        }
    }

    /// Run by that name, the live cluster of $KUBECONFIG is the input without any flag.
    @Test func readsTheClusterByDefault() async throws {
        try await LiveCluster.with { cluster in
            let plugin = try Self.pluginDirectory(in: cluster).appendingPathComponent("kubectl-netpol")
            let arguments = ["matrix", "--port", "api", "-o", "json"]
            let live = try CLIRunner.run(arguments, environment: Self.environment(cluster), executable: plugin)
            #expect(live.status == 0, "\(live.errors)")
            #expect(live.output == (try CLIRunner.run(arguments + ["-f", "examples/three-tier"])).output)
            #expect(cluster.server.requests.count == 5, "one list per kind")
            // As netpol, the same command line has no input.
            #expect(try CLIRunner.run(arguments, environment: Self.environment(cluster)).status == 2)
        }
    }

    @Test(.enabled(if: kubectl != nil, "kubectl is not installed"))
    func runsUnderKubectl() async throws {
        try await LiveCluster.with { cluster in
            let directory = try Self.pluginDirectory(in: cluster)
            let kubectl = URL(fileURLWithPath: try #require(Self.kubectl))
            let explain = ["explain", "--from", "shop/web", "--to", "shop/api", "--port", "api"]
            let result = try CLIRunner.run(["netpol"] + explain, environment: Self.environment(cluster, path: directory), executable: kubectl)
            #expect(result.status == 0, "\(result.errors)")
            #expect(result.output == (try CLIRunner.run(explain + ["-f", "examples/three-tier"])).output)
            #expect(result.output.hasPrefix("shop/web -> shop/api, TCP port api (9000) over IPv4: ALLOWED"), "\(result.output)")
            let plugins = try CLIRunner.run(["plugin", "list"], environment: Self.environment(cluster, path: directory), executable: kubectl)
            #expect(plugins.output.contains(directory.appendingPathComponent("kubectl-netpol").path), "\(plugins.output)\(plugins.errors)")
        }
    }
}

