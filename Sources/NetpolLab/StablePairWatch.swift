import Foundation
import NetpolEngine
import Synchronization

/// Probes pairs whose verdict must not change, again and again on a thread of
/// its own, while something else changes the rules; keeps every probe that
/// went the wrong way. For tests of atomic swaps and of an agent riding out
/// disconnects.
public final class StablePairWatch: Sendable {
    public struct Pair: Sendable {
        public var from: PodID
        public var to: PodID
        public var port: Int
        public var allowed: Bool

        public init(from: PodID, to: PodID, port: Int, allowed: Bool) {
            self.from = from
            self.to = to
            self.port = port
            self.allowed = allowed
        }
    }

    private let stopping = Atomic<Bool>(false)
    private let findings = Mutex<(wrong: [String], probes: Int)>(([], 0))
    private let finished = DispatchSemaphore(value: 0)

    /// Starts probing `pairs` in `lab` (over TCP) at once.
    public init(lab: Lab, pairs: [Pair]) {
        nonisolated(unsafe) let lab = lab
        Thread { [self] in
            defer { finished.signal() }
            while !stopping.load(ordering: .relaxed) {
                for pair in pairs {
                    do {
                        let reached = try lab.probe(from: pair.from, to: pair.to, port: pair.port)
                        findings.withLock { findings in
                            findings.probes += 1
                            if reached != pair.allowed {
                                findings.wrong.append("\(pair.from) -> \(pair.to):\(pair.port) \(reached ? "let through" : "dropped")")
                            }
                        }
                    } catch {
                        findings.withLock { $0.wrong.append("probe failed: \(error)") }
                    }
                }
            }
        }.start()
    }

    /// Probes run so far.
    public var probes: Int { findings.withLock { $0.probes } }

    /// Stops probing and returns every wrong verdict seen.
    public func stop() -> [String] {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        return findings.withLock { $0.wrong }
    }
}
