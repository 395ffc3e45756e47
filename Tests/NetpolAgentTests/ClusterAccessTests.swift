import Foundation
import NetpolKube
import Testing

@Suite("Kubeconfig and in-cluster access")
struct ClusterAccessTests {
    private static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "netpol-kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private static let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev-cluster
          cluster:
            server: https://10.0.0.1:6443/
            certificate-authority: ca.crt
        - name: prod-cluster
          cluster:
            server: https://prod.example:443
            certificate-authority-data: \(Data("PROD CA".utf8).base64EncodedString())
            tls-server-name: kubernetes
        users:
        - name: dev-user
          user:
            token: dev-token
        - name: prod-user
          user:
            client-certificate-data: \(Data("CERT".utf8).base64EncodedString())
            client-key-data: \(Data("KEY".utf8).base64EncodedString())
        - name: sso-user
          user:
            exec:
              command: kubelogin
        contexts:
        - name: dev
          context: {cluster: dev-cluster, user: dev-user}
        - name: prod
          context: {cluster: prod-cluster, user: prod-user}
        - name: sso
          context: {cluster: prod-cluster, user: sso-user}
        - name: broken
          context: {cluster: nowhere, user: dev-user}
        """

    @Test func readsTheCurrentContextWithFilesRelativeToTheKubeconfig() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.kubeconfig, to: directory + "/config")
        try Self.write("DEV CA", to: directory + "/ca.crt")
        let access = try ClusterAccess.kubeconfig(at: directory + "/config")
        #expect(access.server == "https://10.0.0.1:6443")
        #expect(access.certificateAuthority == Data("DEV CA".utf8))
        #expect(access.credential == .token("dev-token"))
    }

    @Test func readsInlineCertificatesOfAnotherContext() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.kubeconfig, to: directory + "/config")
        let access = try ClusterAccess.kubeconfig(at: directory + "/config", context: "prod")
        #expect(access.certificateAuthority == Data("PROD CA".utf8))
        #expect(access.clientCertificate == Data("CERT".utf8))
        #expect(access.clientKey == Data("KEY".utf8))
        #expect(access.tlsServerName == "kubernetes")
        #expect(access.credential == .none)
    }

    @Test(arguments: [
        ("sso", "exec plugin"),
        ("broken", "cluster \"nowhere\" is not defined"),
        ("missing", "context \"missing\" is not defined"),
    ])
    func explainsWhatItCannotUse(context: String, message: String) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.kubeconfig, to: directory + "/config")
        #expect { try ClusterAccess.kubeconfig(at: directory + "/config", context: context) } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(directory + "/config")
        }
    }

    @Test func namesAMissingKubeconfig() {
        #expect { try ClusterAccess.kubeconfig(at: "/nonexistent/config") } throws: { "\($0)".contains("/nonexistent/config") }
    }

    @Test func findsTheKubeconfigAsKubectlDoes() {
        #expect(ClusterAccess.kubeconfigPath(explicit: "/a", environment: ["KUBECONFIG": "/b"]) == "/a")
        #expect(ClusterAccess.kubeconfigPath(explicit: nil, environment: ["KUBECONFIG": "/missing:/also-missing"]) == "/missing")
        #expect(ClusterAccess.kubeconfigPath(explicit: nil, environment: ["HOME": "/home/k"]) == "/home/k/.kube/config")
    }

    @Test func inClusterUsesTheServiceAccountAndRereadsItsToken() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write("CLUSTER CA", to: directory + "/ca.crt")
        try Self.write("first\n", to: directory + "/token")
        let environment = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let access = try #require(try ClusterAccess.inCluster(environment: environment, directory: directory))
        #expect(access.server == "https://[fd00::1]:443")
        #expect(access.certificateAuthority == Data("CLUSTER CA".utf8))
        #expect(access.credential == .tokenFile(directory + "/token"))
        #expect(try ClusterAccess.inCluster(environment: [:], directory: directory) == nil)
    }

    /// What the agent and every command that reads a live cluster use: in a pod
    /// the service account, unless --kubeconfig or --context asks for a kubeconfig.
    @Test func resolvesAsTheAgentDoes() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.kubeconfig, to: directory + "/config")
        try Self.write("DEV CA", to: directory + "/ca.crt")
        try Self.write("token\n", to: directory + "/token")
        let inPod = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBECONFIG": directory + "/config"]
        let outside = ["KUBECONFIG": directory + "/config"]
        func server(_ kubeconfig: String?, _ context: String?, _ environment: [String: String]) throws -> String {
            try ClusterAccess.resolve(kubeconfig: kubeconfig, context: context, environment: environment, serviceAccount: directory).server
        }
        #expect(try server(nil, nil, inPod) == "https://10.96.0.1:443")
        #expect(try server(nil, nil, outside) == "https://10.0.0.1:6443")
        #expect(try server(nil, "prod", inPod) == "https://prod.example:443")
        #expect(try server(directory + "/config", nil, inPod) == "https://10.0.0.1:6443")
        #expect(throws: KubeError.self) { try server(nil, "missing", inPod) }
    }

    @Test func listsTheContextsForCompletion() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.kubeconfig, to: directory + "/config")
        #expect(ClusterAccess.contextNames(inKubeconfigAt: directory + "/config") == ["dev", "prod", "sso", "broken"])
        #expect(ClusterAccess.contextNames(inKubeconfigAt: directory + "/missing").isEmpty)
    }
}
