/// Capped exponential backoff with jitter, so that many agents that lost the
/// API server at once do not all come back in the same instant.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var current: Duration?

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The next wait: doubled each time up to `maximum`, then spread by ±20%.
    public mutating func next() -> Duration {
        let base = current.map { min($0 * 2, maximum) } ?? initial
        current = base
        return base * Double.random(in: 0.8...1.2)
    }

    /// Back to `initial`, after something worked.
    public mutating func reset() {
        current = nil
    }
}
