import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NetpolKube
import NetpolModel
import Synchronization

/// A stand-in for the Kubernetes API server, speaking its wire protocol over
/// HTTPS with a bearer token: JSON lists with `resourceVersion` and
/// `limit`/`continue` paging, chunked watch streams of ADDED, MODIFIED,
/// DELETED, BOOKMARK and ERROR events, `410` once history is compacted, and on
/// request dropped connections, 5xx answers and slow answers. Only the
/// collections netpol reads exist (ClusterNetworkPolicies only while their CRD
/// is installed, which it is unless told otherwise), and single Nodes (name
/// and pod ranges).
public final class FakeAPIServer: Sendable {
    /// Collection paths, written out here rather than shared with the client, so
    /// that a wrong path in the client fails the tests.
    static let paths = [
        "Namespace": "/api/v1/namespaces",
        "Pod": "/api/v1/pods",
        "NetworkPolicy": "/apis/networking.k8s.io/v1/networkpolicies",
        "Node": "/api/v1/nodes",
        "ClusterNetworkPolicy": "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies",
    ]

    private struct Event {
        var version: Int
        var kind: String
        var line: String
    }

    private struct Watcher {
        var kind: String
        var channel: any Channel
        var bookmarks: Bool
    }

    private struct State {
        var objects: [String: [String: KubeObject]] = [:]
        var version = 1_000
        var history: [Event] = []
        /// Watches from a version below this get 410 (history compacted).
        var oldestWatchable = 0
        var watchers: [ObjectIdentifier: Watcher] = [:]
        var failuresLeft = 0
        /// Kinds whose collections answer 403 Forbidden.
        var forbidden: Set<String> = []
        /// Whether the ClusterNetworkPolicy CRD is installed; without it its collection answers 404.
        var clusterPolicyCRD = true
        var failureStatus = HTTPResponseStatus.internalServerError
        var delay = TimeAmount.zero
        var requests: [String] = []
        /// Node name to `spec.podCIDRs`, served at `/api/v1/nodes/NAME`.
        var nodes: [String: [String]] = [:]
        /// Each kind's objects in name order, as last listed: the pages of one
        /// list come from it while nothing changes, so that a paged list of
        /// 100,000 pods does not sort them again for every page.
        var listings: [String: Listing] = [:]
    }

    private struct Listing {
        var version: Int
        var items: [KubeObject]
    }

    public let token: String
    public let certificates: TestCertificates
    private let state = Mutex(State())
    private let channel: any Channel
    public let port: Int

    /// `https://127.0.0.1:PORT`.
    public var url: String { "https://127.0.0.1:\(port)" }

    /// How a client reaches this server: its URL, its CA, its token.
    public var access: ClusterAccess {
        ClusterAccess(server: url, certificateAuthority: FileManager.default.contents(atPath: certificates.authority), credential: .token(token))
    }

    /// A kubeconfig file's text for this server (context `fake`): its URL, its CA file, its token.
    public var kubeconfig: String {
        """
        apiVersion: v1
        kind: Config
        current-context: fake
        clusters:
        - name: fake
          cluster:
            server: \(url)
            certificate-authority: \(certificates.authority)
        users:
        - name: fake
          user:
            token: \(token)
        contexts:
        - name: fake
          context:
            cluster: fake
            user: fake

        """
    }

    public init(objects: [KubeObject] = [], token: String = "netpol-test-token") async throws {
        self.token = token
        certificates = try TestCertificates.shared()
        let tls = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.serverKey, format: .pem))))
        let box = ServerBox()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    // Pipelining assistance stops reading while a response is open,
                    // so a client closing a watch would never be noticed.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        port = channel.localAddress?.port ?? 0
        box.server.withLock { $0 = self }
        for object in objects { apply(object) }
    }

    public func close() async {
        dropConnections()
        try? await channel.close()
    }

    // MARK: - Changing the cluster

    /// Creates or replaces an object; watchers get ADDED or MODIFIED. Returns its resource version.
    @discardableResult
    public func apply(_ object: KubeObject) -> Int {
        record(object, deleting: false)
    }

    /// Deletes an object; watchers get DELETED.
    @discardableResult
    public func delete(_ object: KubeObject) -> Int {
        record(object, deleting: true)
    }

    /// Sends every watcher that asked for them a BOOKMARK at the current version.
    public func sendBookmarks() {
        let (version, watchers) = state.withLock { ($0.version, $0.watchers.values.filter(\.bookmarks)) }
        for watcher in watchers {
            let object = #"{"kind":"\#(watcher.kind)","apiVersion":"\#(Self.apiVersion(watcher.kind))","metadata":{"resourceVersion":"\#(version)"}}"#
            Self.write(#"{"type":"BOOKMARK","object":\#(object)}"#, to: watcher.channel)
        }
    }

    /// Forgets history: a watch from any version before the current one gets
    /// 410 Gone and must list again.
    public func compactHistory() {
        state.withLock { state in
            state.history.removeAll()
            state.oldestWatchable = state.version
        }
    }

    /// Closes every open watch mid-stream, as a load balancer or a restarting
    /// API server would.
    public func dropConnections() {
        let channels = state.withLock { state in
            defer { state.watchers.removeAll() }
            return state.watchers.values.map(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Answers the next `count` requests with `status` (500 by default).
    public func failNextRequests(_ count: Int, status: HTTPResponseStatus = .internalServerError) {
        state.withLock { state in
            state.failuresLeft = count
            state.failureStatus = status
        }
    }

    /// Removes the ClusterNetworkPolicy CRD, as `kubectl delete crd` does: every
    /// ClusterNetworkPolicy is deleted (watchers get DELETED), its watches end,
    /// and its collection answers 404 until `installClusterPolicyCRD()`.
    public func removeClusterPolicyCRD() {
        let policies = state.withLock { Array(($0.objects["ClusterNetworkPolicy"] ?? [:]).values) }
        for policy in policies { delete(policy) }
        let channels = state.withLock { state in
            state.clusterPolicyCRD = false
            let watchers = state.watchers.filter { $0.value.kind == "ClusterNetworkPolicy" }
            for key in watchers.keys { state.watchers.removeValue(forKey: key) }
            return watchers.values.map(\.channel)
        }
        for channel in channels {
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Installs the ClusterNetworkPolicy CRD again (with no policies).
    public func installClusterPolicyCRD() {
        state.withLock { $0.clusterPolicyCRD = true }
    }

    /// Answers every request for `kind`'s collection with 403 Forbidden, as the
    /// API server answers a user whose role does not grant `list` on it.
    public func forbid(_ kind: String) {
        state.withLock { _ = $0.forbidden.insert(kind) }
    }

    /// Delays every answer by `delay`.
    public func setAnswerDelay(_ delay: Duration) {
        state.withLock { $0.delay = TimeAmount(delay) }
    }

    /// `METHOD PATH?QUERY` of every request so far.
    public var requests: [String] { state.withLock { $0.requests } }

    /// Open watch streams.
    public var watchCount: Int { state.withLock { $0.watchers.count } }

    private func record(_ object: KubeObject, deleting: Bool) -> Int {
        let kind = object.kind
        let key = object.metadata.namespace + "/" + object.metadata.name
        let (line, version, watchers): (String, Int, [any Channel]) = state.withLock { state in
            state.version += 1
            var stored = object.withResourceVersion(String(state.version))
            let type: String
            if deleting {
                stored = state.objects[kind]?.removeValue(forKey: key)?.withResourceVersion(String(state.version)) ?? stored
                type = "DELETED"
            } else {
                type = state.objects[kind]?[key] == nil ? "ADDED" : "MODIFIED"
                state.objects[kind, default: [:]][key] = stored
            }
            let line = #"{"type":"\#(type)","object":\#(ManifestWriter.json(stored))}"#
            state.history.append(Event(version: state.version, kind: kind, line: line))
            return (line, state.version, state.watchers.values.filter { $0.kind == kind }.map(\.channel))
        }
        for channel in watchers { Self.write(line, to: channel) }
        return version
    }

    private static func write(_ line: String, to channel: any Channel) {
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: line + "\n"))), promise: nil)
    }

    // MARK: - Answering

    fileprivate func handle(_ head: HTTPRequestHead, channel: any Channel) {
        let delay = state.withLock { state in
            state.requests.append("\(head.method) \(head.uri)")
            return state.delay
        }
        channel.eventLoop.scheduleTask(in: delay) { [self] in
            answer(head, channel: channel)
        }
    }

    /// Serves a Node with these pod ranges (none: a Node without `spec.podCIDRs`).
    public func setNode(_ name: String, podCIDRs: [String]) {
        state.withLock { $0.nodes[name] = podCIDRs }
    }

    private func answer(_ head: HTTPRequestHead, channel: any Channel) {
        let components = URLComponents(string: head.uri)
        let path = components?.path ?? ""
        let query = Dictionary((components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
        guard head.headers["Authorization"].first == "Bearer " + token else {
            return respond(channel, .unauthorized, Self.status(401, "Unauthorized"))
        }
        let failure: HTTPResponseStatus? = state.withLock { state in
            guard state.failuresLeft > 0 else { return nil }
            state.failuresLeft -= 1
            return state.failureStatus
        }
        if let failure {
            return respond(channel, failure, Self.status(Int(failure.code), "the server is failing on purpose"))
        }
        if path.hasPrefix("/api/v1/nodes/") {
            let name = String(path.dropFirst("/api/v1/nodes/".count))
            guard let ranges = state.withLock({ $0.nodes[name] }) else {
                return respond(channel, .notFound, Self.status(404, "nodes \"\(name)\" not found"))
            }
            let spec = ranges.isEmpty ? "{}" : "{\"podCIDR\":\"\(ranges[0])\",\"podCIDRs\":[" + ranges.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
            return respond(channel, .ok, "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"\(name)\"},\"spec\":\(spec)}")
        }
        guard let kind = Self.paths.first(where: { $0.value == path })?.key,
              kind != "ClusterNetworkPolicy" || state.withLock({ $0.clusterPolicyCRD }) else {
            return respond(channel, .notFound, Self.status(404, "the server could not find the requested resource"))
        }
        if state.withLock({ $0.forbidden.contains(kind) }) {
            let resource = String(path.split(separator: "/").last ?? "")
            let group = Self.apiVersion(kind).split(separator: "/").dropLast().joined()
            let message = #"\#(resource) is forbidden: User "system:serviceaccount:netpol:netpol" cannot list resource "\#(resource)" in API group "\#(group)" at the cluster scope"#
            return respond(channel, .forbidden, Self.status(403, message))
        }
        if query["watch"] == "1" || query["watch"] == "true" {
            watch(kind, from: Int(query["resourceVersion"] ?? "") ?? 0, bookmarks: query["allowWatchBookmarks"] == "true",
                  timeout: Int(query["timeoutSeconds"] ?? "") ?? 1_800, channel: channel)
        } else {
            list(kind, limit: Int(query["limit"] ?? "") ?? 0, offset: Int(query["continue"] ?? "") ?? 0, channel: channel)
        }
    }

    private func list(_ kind: String, limit: Int, offset: Int, channel: any Channel) {
        let (items, version) = state.withLock { state in
            if let listing = state.listings[kind], listing.version == state.version { return (listing.items, listing.version) }
            let items = (state.objects[kind] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            state.listings[kind] = Listing(version: state.version, items: items)
            return (items, state.version)
        }
        let end = limit > 0 ? min(items.count, offset + limit) : items.count
        let page = items[min(offset, items.count)..<end].map { ManifestWriter.json($0) }
        let continueToken = end < items.count ? #","continue":"\#(end)""# : ""
        let body = #"{"kind":"\#(kind)List","apiVersion":"\#(Self.apiVersion(kind))","metadata":{"resourceVersion":"\#(version)"\#(continueToken)},"items":[\#(page.joined(separator: ","))]}"#
        respond(channel, .ok, body)
    }

    private func watch(_ kind: String, from version: Int, bookmarks: Bool, timeout: Int, channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)), promise: nil)
        let backlog: [String]? = state.withLock { state in
            guard version >= state.oldestWatchable else { return nil }
            state.watchers[ObjectIdentifier(channel)] = Watcher(kind: kind, channel: channel, bookmarks: bookmarks)
            return state.history.filter { $0.kind == kind && $0.version > version }.map(\.line)
        }
        guard let backlog else {
            let status = Self.status(410, "too old resource version: \(version)")
            Self.write(#"{"type":"ERROR","object":\#(status)}"#, to: channel)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        for line in backlog { Self.write(line, to: channel) }
        channel.flush()
        channel.eventLoop.scheduleTask(in: .seconds(Int64(timeout))) { [self] in
            let open = state.withLock { $0.watchers.removeValue(forKey: ObjectIdentifier(channel)) != nil }
            if open { channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil) }
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.watchers.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    private func respond(_ channel: any Channel, _ status: HTTPResponseStatus, _ body: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
    }

    private static func apiVersion(_ kind: String) -> String {
        switch kind {
        case "NetworkPolicy": "networking.k8s.io/v1"
        case "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2"
        default: "v1"
        }
    }

    private static func status(_ code: Int, _ message: String) -> String {
        #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":\#(jsonQuoted(message)),"code":\#(code)}"#
    }
}

/// Lets connection handlers reach the server, which exists only after binding.
private final class ServerBox: Sendable {
    let server = Mutex<FakeAPIServer?>(nil)
}

private final class RequestHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart

    private let box: ServerBox

    init(server: ServerBox) {
        box = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        box.server.withLock { $0 }?.handle(head, channel: context.channel)
    }
}

extension KubeObject {
    /// The object as the API server stores it, with `metadata.resourceVersion` set.
    func withResourceVersion(_ version: String) -> KubeObject {
        switch self {
        case .namespace(var namespace):
            namespace.metadata.resourceVersion = version
            return .namespace(namespace)
        case .pod(var pod):
            pod.metadata.resourceVersion = version
            return .pod(pod)
        case .networkPolicy(var policy):
            policy.metadata.resourceVersion = version
            return .networkPolicy(policy)
        case .clusterNetworkPolicy(var policy):
            policy.metadata.resourceVersion = version
            return .clusterNetworkPolicy(policy)
        case .node(var node):
            node.metadata.resourceVersion = version
            return .node(node)
        }
    }
}
