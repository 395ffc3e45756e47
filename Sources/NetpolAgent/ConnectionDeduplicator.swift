import NetpolDataplane
import NetpolModel

/// Lets one record through per denied connection within a window: the kernel
/// logs every packet that reaches a deny point, retransmitted SYNs included.
///
/// Two generations of keys, the current and the one before: a key seen in
/// either is a repeat. The current one becomes the old one when the window
/// has passed or when it holds `capacity` keys, so memory stays within two
/// generations however many connections a flood opens (a repeat older than
/// one or two windows, or pushed out early by a flood, makes a record again).
public struct ConnectionDeduplicator: Sendable {
    /// A connection: its 5-tuple and where it was denied (which carries the direction).
    public struct Key: Hashable, Sendable {
        var prefix: String
        var source: IPAddress
        var destination: IPAddress
        var protocolNumber: Int
        var sourcePort: Int
        var destinationPort: Int

        public init(_ packet: PacketLogReader.Packet) {
            prefix = packet.prefix
            source = packet.source
            destination = packet.destination
            protocolNumber = packet.protocolNumber
            sourcePort = packet.sourcePort
            destinationPort = packet.destinationPort
        }
    }

    public let window: Duration
    public let capacity: Int
    private var current: Set<Key> = []
    private var previous: Set<Key> = []
    private var started: ContinuousClock.Instant?

    public init(window: Duration = .seconds(5), capacity: Int = 10_000) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// True when `key` is new: the first packet of a connection, or one not seen
    /// for a window or more; false for a repeat. `now` never goes backwards.
    public mutating func isNew(_ key: Key, now: ContinuousClock.Instant) -> Bool {
        if let started, now - started >= window || current.count >= capacity {
            // After two quiet windows, the old generation is older than a window too.
            previous = now - started >= window * 2 ? [] : current
            current = []
            self.started = now
        } else if started == nil {
            started = now
        }
        guard !current.contains(key), !previous.contains(key) else { return false }
        current.insert(key)
        return true
    }
}
