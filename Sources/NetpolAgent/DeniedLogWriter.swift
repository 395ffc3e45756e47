import Foundation
import Glibc
import NetpolDataplane
import Synchronization

/// Appends the denied-connection log's lines to a file or standard output on
/// a thread of its own, so that a slow or full file never holds up the
/// packet reader: lines beyond `capacity` waiting, and lines a write fails
/// on, are dropped and counted (`netpol_denied_log_dropped_total`), never waited for.
public final class DeniedLogWriter: Sendable {
    private struct Queue {
        var lines: [String] = []
        var closing = false
    }

    public let capacity: Int
    private let descriptor: Int32
    /// False for standard output, which the process keeps.
    private let ownsDescriptor: Bool
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let metrics: AgentMetrics

    /// Opens `path` for appending (made when missing), or standard output when nil.
    public init(path: String?, capacity: Int = 1024, metrics: AgentMetrics) throws(DataplaneError) {
        if let path {
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw DataplaneError(.commandFailed, "cannot open the denied-connection log \(path): \(String(cString: strerror(errno)))")
            }
            self.descriptor = descriptor
        } else {
            descriptor = STDOUT_FILENO
        }
        ownsDescriptor = path != nil
        self.capacity = max(1, capacity)
        self.metrics = metrics
        Thread { [self] in
            nameThisThread("netpol-logwrite")
            writeUntilClosed()
        }.start()
    }

    /// Queues one line (without its newline); drops and counts it when the
    /// queue is full or the writer is closed.
    public func offer(_ line: String) {
        let queued = queue.withLock { queue in
            guard !queue.closing, queue.lines.count < capacity else { return false }
            queue.lines.append(line)
            return true
        }
        if queued { wake.signal() } else { metrics.deniedLogDropped.increment() }
    }

    /// Writes what is queued, then stops the thread and closes the file.
    public func close() {
        let first = queue.withLock { queue in
            defer { queue.closing = true }
            return !queue.closing
        }
        guard first else { return }
        wake.signal()
        finished.wait()
        if ownsDescriptor { Glibc.close(descriptor) }
    }

    private func writeUntilClosed() {
        while true {
            wake.wait()
            let (lines, closing) = queue.withLock { queue in
                defer { queue.lines.removeAll(keepingCapacity: true) }
                return (queue.lines, queue.closing)
            }
            if !lines.isEmpty {
                if write(lines.map { $0 + "\n" }.joined()) {
                    metrics.deniedLogRecords.increment(by: lines.count)
                } else {
                    metrics.deniedLogDropped.increment(by: lines.count)
                }
            }
            if closing { break }
        }
        finished.signal()
    }

    /// Writes all of `text`; false when the file refuses (full disk, closed pipe).
    private func write(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            bytes = bytes.dropFirst(written)
        }
        return true
    }
}
