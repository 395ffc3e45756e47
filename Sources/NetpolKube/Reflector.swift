import Logging
import NetpolModel

/// What a reflector tells its owner.
public enum ReflectorUpdate: Sendable {
    /// The kind's whole collection, from a (re)list; replaces all that was known.
    case listed([APIItem])
    case added(APIItem)
    case modified(APIItem)
    case deleted(APIItem)
    /// The watch ended; nil when the server closed it normally (its timeout).
    case watchEnded(KubeError?)
    /// The resource version is gone (410): a new list follows.
    case relisting(KubeError)
    /// A custom kind's collection answered 404: its CRD is not installed (or
    /// was removed). The reflector stops; its owner decides when to look again.
    case absent(KubeError)
}

/// Keeps one kind's collection known: lists it, then watches from the list's
/// resource version, resuming after each watch from the last version seen
/// (bookmarks included), listing again on 410 Gone, and backing off with
/// jitter while the server cannot be reached. Runs until its task is
/// cancelled, or, for a custom kind, until its collection answers 404.
public struct Reflector: Sendable {
    public let kind: ResourceKind
    private let client: KubeClient
    private let watchTimeout: ClosedRange<Int>
    private let backoff: Backoff

    /// - Parameters:
    ///   - watchTimeout: seconds after which the server ends each watch, picked at
    ///     random in this range (client-go uses 5 to 10 minutes) so that watches
    ///     of many agents do not restart together.
    public init(kind: ResourceKind, client: KubeClient, watchTimeout: ClosedRange<Int> = 300...600, backoff: Backoff = Backoff()) {
        self.kind = kind
        self.client = client
        self.watchTimeout = watchTimeout
        self.backoff = backoff
    }

    public func run(receive: @Sendable (ReflectorUpdate) async -> Void) async {
        var backoff = self.backoff
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let list = try await client.list(kind)
                    await receive(.listed(list.items))
                    resourceVersion = list.resourceVersion
                    backoff.reset()
                }
                try await client.watch(kind, from: resourceVersion ?? "", timeoutSeconds: Int.random(in: watchTimeout)) { event in
                    switch event {
                    case .bookmark(let version):
                        resourceVersion = version
                    case .error(let code, let message):
                        throw KubeError(.status(code), "watch \(kind.path): \(message)")
                    case .added(let item), .modified(let item), .deleted(let item):
                        if case .success(let object) = item, !object.metadata.resourceVersion.isEmpty {
                            resourceVersion = object.metadata.resourceVersion
                        }
                        switch event {
                        case .added: await receive(.added(item))
                        case .modified: await receive(.modified(item))
                        default: await receive(.deleted(item))
                        }
                    }
                    backoff.reset()
                }
                await receive(.watchEnded(nil))
            } catch is CancellationError {
                return
            } catch {
                let failure = error as? KubeError ?? KubeError(.transport, "\(error)")
                if failure.isGone {
                    resourceVersion = nil
                    await receive(.relisting(failure))
                    continue
                }
                if kind.isCustom, failure.code == .status(404) {
                    await receive(.absent(failure))
                    return
                }
                await receive(.watchEnded(failure))
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}
