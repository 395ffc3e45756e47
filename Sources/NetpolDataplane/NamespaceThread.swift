import CNetpolSystem
import Foundation
import Glibc

/// Runs code inside a network namespace made by `ip netns add`, on a thread of
/// its own: network namespaces belong to threads, so no other code ever runs
/// in the wrong one.
public enum NamespaceThread {
    /// Where `ip netns` keeps its namespaces.
    public static let directory = "/var/run/netns"

    /// Runs `body` on a fresh thread that has entered the namespace `name`, and
    /// returns its result. Sockets created there stay in that namespace for the
    /// rest of their life, whichever thread uses them afterwards.
    public static func run<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let descriptor = open("\(directory)/\(name)", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                box.result = .failure(DataplaneError(.commandFailed, "cannot open network namespace \(name): \(String(cString: strerror(errno)))"))
                return
            }
            defer { close(descriptor) }
            guard netpol_enter_network_namespace(descriptor) == 0 else {
                box.result = .failure(DataplaneError(.notPermitted, "cannot enter network namespace \(name): \(String(cString: strerror(errno)))"))
                return
            }
            box.result = Result { try body() }
        }
        thread.start()
        done.wait()
        guard let result = box.result else {
            throw DataplaneError(.commandFailed, "network namespace thread for \(name) ended without a result")
        }
        return try result.get()
    }
}

/// Carries the thread's result to the waiting caller; the semaphore orders
/// the write before the read.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
