import NetpolModel
import Synchronization

/// The agent's view of the cluster, fed by a source, read by the reconciler.
///
/// Objects are checked as the API server would check them; one that fails is
/// rejected and the previous valid version of it, if any, stays; one taken
/// with warnings (a mistyped `netpol.io/mode`, enforced) is reported once per
/// version, not on every relist. Every accepted
/// change bumps `version` and wakes the reconciler; changes that arrive while a
/// sync runs are coalesced into the next one.
public final class ClusterStore: Sendable {
    /// Namespace, Node, Pod, NetworkPolicy or ClusterNetworkPolicy, as sources name them.
    public typealias Kind = String

    /// What the store says of an object it was given: that it refused it,
    /// and why, or that it took it with warnings.
    public struct Notice: Sendable, CustomStringConvertible {
        public var kind: Kind
        public var object: String
        public var reason: String
        /// Refused (its previous valid version stays), rather than taken with warnings.
        public var isRejection: Bool
        public var description: String { "\(object): \(reason)" }
    }

    private struct State {
        var objects: [Kind: [String: KubeObject]] = [:]
        var synced: Set<Kind> = []
        var version = 0
        /// Keys of the objects changed since the reconciler last took them, per kind.
        var changed: [Kind: Set<String>] = [:]
    }

    private let state = Mutex(State())
    private let required: Set<Kind>
    private let wakeStream: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    /// The kinds the agent enforces from, each listed before the first write
    /// (ClusterNetworkPolicy too: a source lists it as empty when its CRD is
    /// not installed), in the order changes are taken.
    public static let listedKinds: [Kind] = ["Namespace", "Node", "Pod", "NetworkPolicy", "ClusterNetworkPolicy"]

    /// - Parameter kinds: the kinds that must each be listed once before the
    ///   store is complete (no rules are written from a half-known cluster).
    public init(kinds: Set<Kind> = Set(listedKinds)) {
        required = kinds
        (wakeStream, wakeContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Wakes once after any number of changes.
    var wakes: AsyncStream<Void> { wakeStream }

    /// Wakes the reconciler (the agent's timers do, besides changes).
    func wake() {
        wakeContinuation.yield()
    }

    /// Counts accepted changes; the reconciler reports which version it applied.
    public var version: Int { state.withLock { $0.version } }

    /// True once every kind has been listed.
    public var isComplete: Bool { state.withLock { $0.synced.isSuperset(of: required) } }

    /// Everything known, as the engine takes it, with the version it reflects.
    public func snapshot() -> (snapshot: Snapshot, version: Int) {
        state.withLock { state in
            (Snapshot(state.objects.values.flatMap(\.values)), state.version)
        }
    }

    /// The pods known, without building a whole snapshot.
    public func pods() -> [Pod] {
        state.withLock { state in
            (state.objects["Pod"] ?? [:]).values.compactMap { object in
                if case .pod(let pod) = object { return pod }
                return nil
            }
        }
    }

    /// Everything known, for a whole sync, which covers every change so far:
    /// they are forgotten.
    public func takeSnapshot() -> (snapshot: Snapshot, version: Int) {
        state.withLock { state in
            state.changed = [:]
            return (Snapshot(state.objects.values.flatMap(\.values)), state.version)
        }
    }

    /// The changes since the last take, each object as it is now or its
    /// deletion (namespaces and nodes, then pods, then policies), with the version they
    /// lead to. Many changes to one object come out as one.
    public func takeChanges() -> (changes: [ClusterChange], version: Int) {
        state.withLock { state in
            var changes: [ClusterChange] = []
            for kind in Self.listedKinds {
                for key in state.changed[kind] ?? [] {
                    if let object = state.objects[kind]?[key] {
                        changes.append(.upsert(object))
                    } else {
                        let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                        changes.append(.delete(ObjectReference(kind: kind, namespace: parts.first ?? "", name: parts.last ?? "")))
                    }
                }
            }
            state.changed = [:]
            return (changes, state.version)
        }
    }

    /// Replaces all objects of `kind` with the whole result of a list that
    /// succeeded (every page of an API list, every file of a directory), and
    /// marks the kind listed. Never call it for a list that failed: see
    /// `ClusterSource`. Invalid objects are rejected; each keeps its previous
    /// valid version, as do the objects named in `keeping` (ones that could not
    /// even be decoded). New or changed objects taken with warnings are noticed too.
    @discardableResult
    public func replaceAll(_ kind: Kind, with objects: [KubeObject], keeping: [ObjectReference] = []) -> [Notice] {
        var notices: [Notice] = []
        state.withLock { state in
            let previous = state.objects[kind] ?? [:]
            var next: [String: KubeObject] = [:]
            for reference in keeping {
                let key = reference.namespace + "/" + reference.name
                next[key] = previous[key]
            }
            for object in objects {
                let key = Self.key(object)
                if let rejection = Self.check(object) {
                    notices.append(rejection)
                    if let kept = previous[key] { next[key] = kept }
                } else {
                    next[key] = object
                    if previous[key] != object { notices += Self.warnings(object) }
                }
            }
            if next != previous || !state.synced.contains(kind) {
                for key in Set(previous.keys).union(next.keys) where previous[key] != next[key] {
                    state.changed[kind, default: []].insert(key)
                }
                state.objects[kind] = next
                state.version += 1
            }
            state.synced.insert(kind)
        }
        wake()
        return notices
    }

    /// Adds or replaces one object; returns why it was rejected, if it was,
    /// or the warnings it was taken with when it changed.
    @discardableResult
    public func upsert(_ object: KubeObject) -> [Notice] {
        if let rejection = Self.check(object) { return [rejection] }
        let changed = state.withLock { state in
            let key = Self.key(object)
            guard state.objects[object.kind, default: [:]][key] != object else { return false }
            state.objects[object.kind, default: [:]][key] = object
            state.changed[object.kind, default: []].insert(key)
            state.version += 1
            return true
        }
        guard changed else { return [] }
        wake()
        return Self.warnings(object)
    }

    /// Forgets an object (a delete needs only its kind, namespace and name).
    public func remove(_ reference: ObjectReference) {
        let kind = reference.kind
        let key = reference.namespace + "/" + reference.name
        let changed = state.withLock { state in
            guard state.objects[kind]?.removeValue(forKey: key) != nil else { return false }
            state.changed[kind, default: []].insert(key)
            state.version += 1
            return true
        }
        if changed { wake() }
    }

    private static func key(_ object: KubeObject) -> String {
        object.metadata.namespace + "/" + object.metadata.name
    }

    private static func check(_ object: KubeObject) -> Notice? {
        let problems = Validator.problems(object)
        guard !problems.isEmpty else { return nil }
        return Notice(kind: object.kind, object: object.reference, reason: problems.map(\.description).joined(separator: "; "), isRejection: true)
    }

    private static func warnings(_ object: KubeObject) -> [Notice] {
        let warnings = Validator.warnings(object)
        guard !warnings.isEmpty else { return [] }
        return [Notice(kind: object.kind, object: object.reference, reason: warnings.joined(separator: "; "), isRejection: false)]
    }
}
