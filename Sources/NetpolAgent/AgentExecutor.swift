import Foundation
import Synchronization

/// Threads of the agent's own for its tasks, instead of Swift's shared
/// concurrency pool (one thread per core): a sync waits for `nft` and must not
/// stall the watches, and whatever else blocks the shared pool (a busy test
/// run, say) must not stall the agent. Run the agent under
/// `withTaskExecutorPreference(AgentExecutor.shared)`.
public final class AgentExecutor: TaskExecutor, Sendable {
    public static let shared = AgentExecutor(threads: 4)

    private let jobs = Mutex<[UnownedJob]>([])
    private let waiting = DispatchSemaphore(value: 0)

    private init(threads: Int) {
        for index in 0..<threads {
            Thread { [self] in
                nameThisThread("netpol-agent-\(index)")
                while true {
                    waiting.wait()
                    guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        waiting.signal()
    }
}
