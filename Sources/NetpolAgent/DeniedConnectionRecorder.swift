import Foundation
import NetpolDataplane
import NetpolRules

/// Turns the packets the kernel logs at the plan's deny points into
/// denied-connection records: one per connection within the deduplication
/// window, named from the plan the agent applied (who denied, which
/// direction) and from the store (which pods hold the addresses), counted in
/// the agent's metrics.
///
/// One reader thread uses it at a time.
public struct DeniedConnectionRecorder: Sendable {
    public let node: String
    private let store: ClusterStore
    private let plan: @Sendable () -> RulePlan?
    private let metrics: AgentMetrics
    private var deduplicator: ConnectionDeduplicator
    private var book = PodAddressBook()
    private var bookVersion: Int?
    private var bookBuilt: ContinuousClock.Instant?
    /// How stale the pod names may get while the store changes all the time:
    /// the address book is rebuilt at most this often.
    private let bookRefresh: Duration = .seconds(1)

    /// - Parameter plan: the plan the kernel holds now (the agent's status has it).
    public init(
        node: String, store: ClusterStore, plan: @escaping @Sendable () -> RulePlan?, metrics: AgentMetrics,
        deduplicator: ConnectionDeduplicator = ConnectionDeduplicator()
    ) {
        self.node = node
        self.store = store
        self.plan = plan
        self.metrics = metrics
        self.deduplicator = deduplicator
    }

    /// The records for one batch read from the kernel, which arrived at `now`
    /// (`time`, the wall clock, dates them); counts the kernel's overruns.
    public mutating func records(
        from batch: PacketLogReader.Batch, now: ContinuousClock.Instant = .now, time: Double = Date().timeIntervalSince1970
    ) -> [DeniedConnection] {
        metrics.deniedLogLost.increment(by: batch.overruns)
        let fresh = batch.packets.filter { deduplicator.isNew(ConnectionDeduplicator.Key($0), now: now) }
        guard !fresh.isEmpty else { return [] }
        refreshBook(now: now)
        let plan = plan()
        return fresh.map { packet in
            let record = Self.record(packet, plan: plan, book: book, node: node, time: time)
            count(record)
            return record
        }
    }

    /// One packet as a record: `plan` says who denied it, `book` names its ends.
    public static func record(
        _ packet: PacketLogReader.Packet, plan: RulePlan?, book: PodAddressBook, node: String, time: Double
    ) -> DeniedConnection {
        let point = DenyPoint(prefix: packet.prefix)
        let denial = point.flatMap { plan?.denial(at: $0) }
        let hasPorts = packet.protocol != nil
        return DeniedConnection(
            time: time, node: node, direction: denial?.direction, source: book.end(packet.source), destination: book.end(packet.destination),
            protocolNumber: packet.protocolNumber, port: hasPorts ? packet.destinationPort : nil, chain: point?.chain ?? packet.prefix,
            deniedBy: denial?.deniedBy)
    }

    private func count(_ record: DeniedConnection) {
        guard let direction = record.direction, let deniedBy = record.deniedBy else {
            metrics.deniedLogUnattributed.increment()
            return
        }
        switch deniedBy {
        case .isolation(let policies):
            for policy in policies {
                metrics.deniedConnections(direction, namespace: policy.namespace, policy: policy.name).increment()
            }
        case .clusterRule(let rule):
            metrics.deniedConnections(direction, namespace: "", policy: rule.policy).increment()
        }
    }

    /// Rebuilds the address book when the store changed, at most once per `bookRefresh`.
    private mutating func refreshBook(now: ContinuousClock.Instant) {
        let version = store.version
        guard version != bookVersion else { return }
        if let bookBuilt, now - bookBuilt < bookRefresh { return }
        book = PodAddressBook(store.pods())
        bookVersion = version
        bookBuilt = now
    }
}
