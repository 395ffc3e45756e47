import Foundation

/// Waits on this (main) thread for `task`, which runs on the concurrency pool:
/// how synchronous commands run async work.
func waitFor<T: Sendable>(_ task: Task<T, any Error>) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome<T>()
    Task {
        outcome.result = await task.result
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// Carries a task's result to the waiting thread; the semaphore orders the
/// write before the read.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
