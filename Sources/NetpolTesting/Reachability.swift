import NetpolEngine
import NetpolModel

/// An expected matrix, written the way the upstream conformance tests write
/// them: start from all allowed (or all denied), then state exceptions by
/// namespace or pod. Pod-to-self is always allowed.
public struct Reachability: Equatable, CustomStringConvertible, Sendable {
    public let pods: [PodID]
    public private(set) var allowed: [[Bool]]

    public init(pods: [PodID], allowed initial: Bool) {
        self.pods = pods
        allowed = pods.map { source in pods.map { source == $0 || initial } }
    }

    /// Which pods a statement is about: `"x"` is namespace x, `"x/a"` one pod,
    /// `"*"` every pod.
    public func matches(_ pattern: String, _ pod: PodID) -> Bool {
        if pattern == "*" { return true }
        if pattern.contains("/") { return pattern == pod.description }
        return pattern == pod.namespace
    }

    /// Sets every pair from `from` to `to` (self pairs stay allowed).
    public mutating func expect(from: String, to: String, _ value: Bool) {
        for (i, source) in pods.enumerated() where matches(from, source) {
            for (j, destination) in pods.enumerated() where matches(to, destination) && i != j {
                allowed[i][j] = value
            }
        }
    }

    public mutating func allow(from: String, to: String) { expect(from: from, to: to, true) }
    public mutating func deny(from: String, to: String) { expect(from: from, to: to, false) }

    /// The upstream truth table: rows are sources, columns destinations.
    public var description: String {
        Self.table(pods: pods, allowed: allowed)
    }

    public static func table(pods: [PodID], allowed: [[Bool]]) -> String {
        var lines = ["-\t" + pods.map(\.description).joined(separator: "\t")]
        for (index, source) in pods.enumerated() {
            lines.append(source.description + "\t" + allowed[index].map { $0 ? "." : "X" }.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }
}
