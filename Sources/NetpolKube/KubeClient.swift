import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import NetpolModel

/// Lists and watches the API server's collections over HTTPS, verifying the
/// server's certificate. One client serves every reflector; call `shutdown()`
/// when done.
public final class KubeClient: Sendable {
    private let access: ClusterAccess
    private let http: HTTPClient
    private let requestTimeout: TimeAmount

    /// Largest watch line or error body accepted: an object is at most 1.5 MB in etcd.
    private static let maximumLine = 16 << 20

    /// - Parameters:
    ///   - requestTimeout: how long a list (each page) may take.
    ///   - retriesConnecting: whether a refused or failed connection is tried
    ///     again until the 10-second connect timeout; a one-shot read turns it
    ///     off to report an unreachable server at once.
    public init(access: ClusterAccess, requestTimeout: Duration = .seconds(60), retriesConnecting: Bool = true) throws(KubeError) {
        self.access = access
        self.requestTimeout = TimeAmount(requestTimeout)
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let authority = access.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority)))
            }
            if let certificate = access.clientCertificate, let key = access.clientKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate)).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key), format: .pem))
            }
        } catch {
            throw KubeError(.configuration, "cannot read the cluster's TLS material: \(error)")
        }
        if access.skipTLSVerify { tls.certificateVerification = .none }
        if let name = access.tlsServerName, name != URL(string: access.server)?.host {
            // The HTTP client checks the certificate against the URL's host only.
            throw KubeError(.configuration, "tls-server-name \(name) differs from the server's host; netpol cannot check the certificate against another name: set server to an address the certificate names")
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            timeout: .init(connect: .seconds(10)))
        configuration.httpVersion = .http1Only
        configuration.connectionPool.retryConnectionEstablishment = retriesConnecting
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// The whole collection, page by page (`limit`/`continue`), and the resource
    /// version a watch continues from.
    public func list(_ kind: ResourceKind, pageSize: Int = 500) async throws -> APIList {
        var items: [APIItem] = []
        var continueToken = ""
        while true {
            var query = "limit=\(pageSize)"
            if !continueToken.isEmpty { query += "&continue=" + escaped(continueToken) }
            let response = try await send(kind.path + "?" + query, deadline: .now() + requestTimeout)
            let body = try await collect(response.body, what: "list \(kind.path)")
            let page: APIList
            do {
                page = try APIDecoder.list(body, kind: kind.kind, apiVersion: kind.apiVersion)
            } catch {
                throw KubeError(.malformed, "not a list the API defines", location: "list \(kind.path)", cause: error)
            }
            items += page.items
            continueToken = page.continueToken
            if continueToken.isEmpty { return APIList(resourceVersion: page.resourceVersion, items: items) }
        }
    }

    /// The pod address ranges the cluster gave node `name` (`spec.podCIDRs`,
    /// or the older `spec.podCIDR`); empty when it allocates none per node
    /// (a CNI with its own address management).
    public func podCIDRs(ofNode name: String) async throws -> [String] {
        let path = "/api/v1/nodes/" + escaped(name)
        let response = try await send(path, deadline: .now() + requestTimeout)
        let body = try await collect(response.body, what: "GET \(path)")
        guard let node = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw KubeError(.malformed, "not a JSON object", location: "GET \(path)")
        }
        let spec = node["spec"] as? [String: Any] ?? [:]
        return spec["podCIDRs"] as? [String] ?? (spec["podCIDR"] as? String).map { [$0] } ?? []
    }

    /// Watches `kind` from `resourceVersion`, handing each event to `receive`,
    /// until the server ends the watch (after `timeoutSeconds`) or the
    /// connection fails. Bookmarks are asked for.
    public func watch(
        _ kind: ResourceKind, from resourceVersion: String, timeoutSeconds: Int,
        receive: (APIWatchEvent) async throws -> Void
    ) async throws {
        let query = "watch=1&allowWatchBookmarks=true&resourceVersion=\(escaped(resourceVersion))&timeoutSeconds=\(timeoutSeconds)"
        let response = try await send(kind.path + "?" + query, deadline: .now() + .seconds(Int64(timeoutSeconds) + 30))
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending += chunk.readableBytesView
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Data(pending[..<newline])
                    pending.removeSubrange(...newline)
                    if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                    let event: APIWatchEvent
                    do {
                        event = try APIDecoder.watchEvent(line)
                    } catch {
                        throw KubeError(.malformed, "watch \(kind.path): \(error)")
                    }
                    try await receive(event)
                }
                if pending.count > Self.maximumLine {
                    throw KubeError(.malformed, "watch \(kind.path): an event longer than \(Self.maximumLine) bytes")
                }
            }
        } catch let error as KubeError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubeError(.transport, "the watch broke off", location: "watch \(kind.path)", cause: error)
        }
    }

    /// Sends a GET and returns the response when it is 200; any other status is
    /// a `KubeError` carrying the Status message the server sent.
    private func send(_ pathAndQuery: String, deadline: NIODeadline) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: access.server + pathAndQuery)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "netpol-agent")
        if let authorization = try access.authorization() {
            request.headers.add(name: "Authorization", value: authorization)
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: deadline)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubeError(.transport, "no answer", location: "GET \(pathAndQuery)", cause: error)
        }
        guard response.status == .ok else {
            let body = (try? await collect(response.body, what: pathAndQuery)) ?? Data()
            throw KubeError(
                .status(Int(response.status.code)), "\(response.status.code) \(response.status.reasonPhrase): \(Self.statusMessage(body))",
                location: "GET \(pathAndQuery)")
        }
        return response
    }

    private func collect(_ body: HTTPClientResponse.Body, what: String) async throws -> Data {
        do {
            var buffer = try await body.collect(upTo: Self.maximumLine * 64)
            return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubeError(.transport, "the answer broke off", location: what, cause: error)
        }
    }

    /// The `message` of a Kubernetes Status body, or the body itself.
    private static func statusMessage(_ body: Data) -> String {
        if let status = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let message = status["message"] as? String {
            return message
        }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }

    private func escaped(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
    }
}
