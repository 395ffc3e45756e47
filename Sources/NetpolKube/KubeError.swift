import NetpolModel

/// Why talking to the API server failed: the one error type of NetpolKube.
public struct KubeError: NetpolError {
    public enum Code: Hashable, Sendable {
        /// The kubeconfig or service-account files are missing or wrong.
        case configuration
        /// No connection, a dropped connection, TLS refused, or a timeout.
        case transport
        /// The server answered with an HTTP error status.
        case status(Int)
        /// The answer is not the JSON the API defines.
        case malformed
    }

    public let code: Code
    public let message: String
    /// The request or file concerned: `GET /api/v1/pods`, a kubeconfig's path.
    public let location: String?
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, location: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }

    /// `410 Gone`: the resource version asked for is older than the server keeps.
    public var isGone: Bool { code == .status(410) }

    /// A failure that asking again later may get past: no connection, a
    /// timeout, throttling (429) or a server error (5xx).
    public var isPassing: Bool {
        switch code {
        case .transport: return true
        case .status(let status): return status == 429 || status >= 500
        case .configuration, .malformed: return false
        }
    }
}
