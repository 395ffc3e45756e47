import NetpolModel

/// Who may open a connection to whom on one protocol and port: the truth table
/// of the upstream conformance tests.
public struct Matrix: Hashable, Sendable {
    public let `protocol`: PortProtocol
    public let port: IntOrString
    public let pods: [PodID]
    /// `allowed[i][j]`: may `pods[i]` open a connection to `pods[j]`?
    public let allowed: [[Bool]]

    public init(protocol: PortProtocol, port: IntOrString, pods: [PodID], allowed: [[Bool]]) {
        self.protocol = `protocol`
        self.port = port
        self.pods = pods
        self.allowed = allowed
    }
}

extension Engine {
    /// The full matrix over `matrixPods`. Each pair is judged over `family`, or
    /// when nil over the destination's first address family. A port name resolves
    /// per destination; a destination without it is unreachable (except from itself).
    public func matrix(port: IntOrString, protocol proto: PortProtocol = .tcp, family: IPAddress.Family? = nil) -> Matrix {
        let classes = classMatrix(port: port, protocol: proto, family: family)
        let count = classes.pods.count
        let allowed = (0..<count).map { source in (0..<count).map { classes.allowed(source, $0) } }
        return Matrix(protocol: proto, port: port, pods: classes.pods, allowed: allowed)
    }
}
