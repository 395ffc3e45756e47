import NIOCore
import NIOHTTP1
import NIOPosix

/// A plain-HTTP server for `/metrics`, `/healthz` and `/readyz`, what the
/// kubelet's probes and Prometheus scrape. GET only; everything else is 404/405.
public final class StatusServer: Sendable {
    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var contentType: String
        public var body: String

        public init(status: HTTPResponseStatus = .ok, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// Answers a path, or nil for 404.
    public typealias Routes = @Sendable (String) -> Response?

    private let channel: any Channel
    /// The port actually bound (useful when asked for port 0).
    public let port: Int

    public init(host: String, port: Int, routes: @escaping Routes) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(StatusHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        self.port = channel.localAddress?.port ?? port
    }

    public func close() async {
        try? await channel.close()
    }

    /// The agent's routes: Prometheus text from `metrics`; liveness, which
    /// fails while the reconcile loop is stuck in one sync or verify; and
    /// readiness, which holds while the last sync worked.
    public static func agentRoutes(status: AgentStatus, metrics: @escaping @Sendable () -> String) -> Routes {
        { path in
            switch path {
            case "/metrics":
                return Response(contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics())
            case "/healthz", "/livez":
                if status.isStalled {
                    return Response(status: .serviceUnavailable, body: "stuck: one sync or verify has run past the stall timeout\n")
                }
                return Response(body: "ok\n")
            case "/readyz":
                if status.isReady { return Response(body: "ok\n") }
                if let failure = status.lastFailure { return Response(status: .serviceUnavailable, body: "the last sync failed: \(failure)\n") }
                return Response(status: .serviceUnavailable, body: "waiting for the first full sync\n")
            default:
                return nil
            }
        }
    }
}

private final class StatusHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: StatusServer.Routes

    init(routes: @escaping StatusServer.Routes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = String(head.uri.prefix { $0 != "?" })
        let response: StatusServer.Response
        if head.method != .GET && head.method != .HEAD {
            response = .init(status: .methodNotAllowed, body: "GET only\n")
        } else {
            response = routes(path) ?? .init(status: .notFound, body: "not found; try /metrics, /healthz or /readyz\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method == .GET {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}
