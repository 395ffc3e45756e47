/// The one shape of every netpol error, whatever module it comes from: a code
/// a caller can act on, a message for a person, where it happened, and the
/// error underneath. Each module has one error type of this shape
/// (`ManifestError`, `EngineError`, `DataplaneError`, `KubeError`, `LabError`).
public protocol NetpolError: Error, Hashable, Sendable, CustomStringConvertible {
    associatedtype Code: Hashable & Sendable
    var code: Code { get }
    var message: String { get }
    /// Where it happened: a file and field, a command, a request, a pod.
    var location: String? { get }
    /// The lower-level error this one explains, if any.
    var cause: (any Error)? { get }
}

extension NetpolError {
    /// `LOCATION: MESSAGE (CAUSE)`, leaving out what is unknown.
    public var description: String {
        var text = location.map { "\($0): \(message)" } ?? message
        if let cause { text += " (\(cause))" }
        return text
    }

    /// Equal when code, message and location are; the cause is detail.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.location == rhs.location
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
        hasher.combine(location)
    }
}
