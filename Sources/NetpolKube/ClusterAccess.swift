import Foundation
import Yams

/// How to reach and authenticate to one API server: its address, the CA that
/// signs its certificate, and the credentials to present. Built from a
/// kubeconfig or from a pod's service account.
public struct ClusterAccess: Sendable, Equatable {
    public enum Credential: Sendable, Equatable {
        case none
        case token(String)
        /// Read again before each request: service-account tokens are rotated.
        case tokenFile(String)
    }

    /// `https://host:port`, without a trailing slash.
    public var server: String
    /// PEM of the CA bundle to trust; nil trusts the system's roots.
    public var certificateAuthority: Data?
    /// PEM client certificate chain and key, for clusters that authenticate by certificate.
    public var clientCertificate: Data?
    public var clientKey: Data?
    public var credential: Credential
    /// Only for clusters set up with `insecure-skip-tls-verify: true`.
    public var skipTLSVerify: Bool
    /// The host name to check the server certificate against, when it differs from `server`'s.
    public var tlsServerName: String?

    public init(
        server: String, certificateAuthority: Data? = nil, clientCertificate: Data? = nil, clientKey: Data? = nil,
        credential: Credential = .none, skipTLSVerify: Bool = false, tlsServerName: String? = nil
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.credential = credential
        self.skipTLSVerify = skipTLSVerify
        self.tlsServerName = tlsServerName
    }

    /// The `Authorization` header value, or nil when there is no token.
    func authorization() throws(KubeError) -> String? {
        switch credential {
        case .none:
            return nil
        case .token(let token):
            return "Bearer " + token
        case .tokenFile(let path):
            let token = String(decoding: try Self.read(path, what: "token file"), as: UTF8.self)
            return "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func read(_ path: String, what: String) throws(KubeError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeError(.configuration, "cannot read \(what) \(path)")
        }
        return data
    }
}

// MARK: - In-cluster

extension ClusterAccess {
    /// Where Kubernetes mounts a pod's service-account credentials.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The access a pod has through its service account, as client-go's
    /// `rest.InClusterConfig` builds it; nil when not running in a pod.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws(KubeError) -> ClusterAccess? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"],
              !host.isEmpty, !port.isEmpty
        else { return nil }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return ClusterAccess(
            server: "https://\(hostPart):\(port)",
            certificateAuthority: try read(directory + "/ca.crt", what: "service-account CA"),
            credential: .tokenFile(directory + "/token"))
    }
}

// MARK: - Choosing

extension ClusterAccess {
    /// The access a netpol command uses, chosen as the agent chooses it: the
    /// kubeconfig `kubeconfig` names, or `context` of the kubeconfig kubectl
    /// would use; with neither, the pod's service account when running in a
    /// pod, else the current context of `$KUBECONFIG` or `~/.kube/config`.
    public static func resolve(
        kubeconfig: String?, context: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccount: String = serviceAccountDirectory
    ) throws(KubeError) -> ClusterAccess {
        if kubeconfig == nil, context == nil, let inCluster = try inCluster(environment: environment, directory: serviceAccount) {
            return inCluster
        }
        return try ClusterAccess.kubeconfig(at: kubeconfigPath(explicit: kubeconfig, environment: environment), context: context)
    }
}

// MARK: - Kubeconfig

extension ClusterAccess {
    /// The kubeconfig path kubectl would use: `explicit`, else the first file of
    /// `$KUBECONFIG` that exists, else `~/.kube/config`.
    public static func kubeconfigPath(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit { return explicit }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init)
            return paths.first { FileManager.default.fileExists(atPath: $0) } ?? paths[0]
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.kube/config"
    }

    /// Reads the current context (or `context`) of a kubeconfig file. Relative
    /// file paths inside it are relative to the file, as kubectl reads them.
    public static func kubeconfig(at path: String, context: String? = nil) throws(KubeError) -> ClusterAccess {
        let data = try read(path, what: "kubeconfig")
        let config: Kubeconfig
        do {
            config = try YAMLDecoder().decode(Kubeconfig.self, from: data)
        } catch {
            throw KubeError(.configuration, "\(path): not a kubeconfig: \(error)")
        }
        let base = (path as NSString).deletingLastPathComponent
        return try config.access(context: context, base: base, file: path)
    }

    /// The names of the contexts a kubeconfig defines, for shell completion;
    /// none when it cannot be read.
    public static func contextNames(inKubeconfigAt path: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path),
              let config = try? YAMLDecoder().decode(Kubeconfig.self, from: data)
        else { return [] }
        return (config.contexts ?? []).map(\.name)
    }
}

/// The parts of kubeconfig's format that netpol reads.
private struct Kubeconfig: Decodable {
    struct Named<T: Decodable>: Decodable {
        var name: String
        var value: T?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            name = try container.decode(String.self, forKey: AnyKey("name"))
            // The payload sits under `cluster`, `user` or `context`.
            value = try container.allKeys.first { $0.stringValue != "name" }.flatMap { try container.decodeIfPresent(T.self, forKey: $0) }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    struct Cluster: Decodable {
        var server: String
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    struct User: Decodable {
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var token: String?
        var tokenFile: String?
        var exec: ExecPlugin?

        struct ExecPlugin: Decodable { var command: String? }

        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case token, tokenFile, exec
        }
    }

    struct Context: Decodable {
        var cluster: String
        var user: String?
    }

    var clusters: [Named<Cluster>]?
    var users: [Named<User>]?
    var contexts: [Named<Context>]?
    var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    func access(context wanted: String?, base: String, file: String) throws(KubeError) -> ClusterAccess {
        guard let contextName = wanted ?? currentContext, !contextName.isEmpty else {
            throw KubeError(.configuration, "\(file): no current-context; pass --context or set one with kubectl config use-context")
        }
        guard let context = contexts?.first(where: { $0.name == contextName })?.value else {
            throw KubeError(.configuration, "\(file): context \"\(contextName)\" is not defined")
        }
        guard let cluster = clusters?.first(where: { $0.name == context.cluster })?.value else {
            throw KubeError(.configuration, "\(file): context \"\(contextName)\": cluster \"\(context.cluster)\" is not defined")
        }
        let user = context.user.flatMap { name in users?.first { $0.name == name }?.value }
        if user?.exec != nil, user?.token == nil, user?.tokenFile == nil, user?.clientCertificateData == nil, user?.clientCertificate == nil {
            throw KubeError(.configuration, "\(file): user \"\(context.user ?? "")\" authenticates with an exec plugin, which netpol does not run; use a token or a client certificate")
        }
        func material(inline: String?, path: String?, field: String) throws(KubeError) -> Data? {
            if let inline {
                guard let data = Data(base64Encoded: inline, options: .ignoreUnknownCharacters) else {
                    throw KubeError(.configuration, "\(file): \(field)-data is not base64")
                }
                return data
            }
            guard let path else { return nil }
            return try ClusterAccess.read(path.hasPrefix("/") ? path : base + "/" + path, what: field)
        }
        let credential: ClusterAccess.Credential
        if let token = user?.token {
            credential = .token(token)
        } else if let tokenFile = user?.tokenFile {
            credential = .tokenFile(tokenFile.hasPrefix("/") ? tokenFile : base + "/" + tokenFile)
        } else {
            credential = .none
        }
        return ClusterAccess(
            server: cluster.server,
            certificateAuthority: try material(inline: cluster.certificateAuthorityData, path: cluster.certificateAuthority, field: "certificate-authority"),
            clientCertificate: try material(inline: user?.clientCertificateData, path: user?.clientCertificate, field: "client-certificate"),
            clientKey: try material(inline: user?.clientKeyData, path: user?.clientKey, field: "client-key"),
            credential: credential,
            skipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
            tlsServerName: cluster.tlsServerName)
    }
}
