import Foundation
import NetpolDataplane
import NetpolEngine
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
        let (direction, cause) = Self.cause(packet, point: point, plan: plan)
        return DeniedConnection(
            time: time, node: node, direction: direction, source: book.end(packet.source), destination: book.end(packet.destination),
            protocolNumber: packet.protocolNumber, port: packet.protocol == nil ? nil : packet.destinationPort,
            chain: point?.chain ?? packet.prefix, cause: cause)
    }

    /// Who denied the packet at `point`, and in which direction. The new-pod
    /// guard judges both ends: egress when the source is no local pod the
    /// plan binds (the unknown address sent it), ingress otherwise.
    private static func cause(
        _ packet: PacketLogReader.Packet, point: DenyPoint?, plan: RulePlan?
    ) -> (Direction?, DeniedConnection.Cause) {
        guard let point, let plan else { return (nil, .unknown) }
        if point == .podRangeGuard {
            let sourceKnown = plan.bindings.contains { $0.address == packet.source }
            return (sourceKnown ? .ingress : .egress, .newPodGuard)
        }
        guard let denial = plan.denial(at: point) else { return (nil, .unknown) }
        return (denial.direction, .policies(denial.deniedBy))
    }

    /// One increment per policy named (`policy=""` for the new-pod guard; an
    /// audited policy's would-be deny in its own metric), or one unattributed record.
    private func count(_ record: DeniedConnection) {
        guard let direction = record.direction else {
            metrics.deniedLogUnattributed.increment()
            return
        }
        switch record.cause {
        case .unknown:
            metrics.deniedLogUnattributed.increment()
        case .newPodGuard:
            metrics.deniedConnections(direction, namespace: "", policy: "").increment()
        case .policies(.isolation(let policies)):
            for policy in policies {
                metrics.deniedConnections(direction, namespace: policy.namespace, policy: policy.name).increment()
            }
        case .policies(.clusterRule(let rule)):
            metrics.deniedConnections(direction, namespace: "", policy: rule.policy).increment()
        case .policies(.audit(let policies)):
            for policy in policies {
                metrics.auditWouldDeny(direction, namespace: policy.namespace, policy: policy.name).increment()
            }
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
