import Foundation
import Logging
import NetpolDataplane
import NetpolModel
import NetpolRules
import Synchronization

/// `netpol agent --log-denied`: reads the NFLOG group the rules log denied
/// connections to, on a thread of its own (a blocking read must not hold up
/// the reconcile loop), and writes one JSON line per denied connection.
public final class DeniedConnectionLog: Sendable {
    private let reader: PacketLogReader
    private let writer: DeniedLogWriter
    private let recorder: Mutex<DeniedConnectionRecorder>
    private let logger: Logger
    private let stopping = Atomic(false)

    /// Binds the group in network namespace `namespace` (nil: this one) and
    /// opens `file` (nil: standard output). Fails when another process reads
    /// the group (the kernel gives a group to one socket) or the file cannot
    /// be opened.
    public init(
        group: UInt16, namespace: String?, file: String?, recorder: DeniedConnectionRecorder, metrics: AgentMetrics, logger: Logger
    ) throws(DataplaneError) {
        // A socket stays in the namespace it was made in, whichever thread reads it.
        let receiveBuffer = 1 << 20
        do {
            if let namespace {
                reader = try NamespaceThread.run(in: namespace) { try PacketLogReader(group: group, receiveBuffer: receiveBuffer) }
            } else {
                reader = try PacketLogReader(group: group, receiveBuffer: receiveBuffer)
            }
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError(.commandFailed, "cannot read NFLOG group \(group)", cause: error)
        }
        writer = try DeniedLogWriter(path: file, metrics: metrics)
        self.recorder = Mutex(recorder)
        self.logger = logger
    }

    /// Reads, names and writes denied connections until the task is cancelled.
    public func run() async {
        logger.info("logging denied connections", metadata: ["group": "\(reader.group)"])
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread { [self] in
                    nameThisThread("netpol-logread")
                    readUntilStopped()
                    done.resume()
                }.start()
            }
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
        }
        writer.close()
    }

    private func readUntilStopped() {
        while !stopping.load(ordering: .relaxed) {
            let batch: PacketLogReader.Batch
            do {
                batch = try reader.read(timeout: .milliseconds(200))
            } catch {
                logger.error("cannot read denied connections; trying again in a second", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            guard !batch.packets.isEmpty || batch.overruns > 0 else { continue }
            if batch.overruns > 0 {
                logger.warning("the kernel dropped denied-connection log messages: the reader fell behind", metadata: ["messages": "\(batch.overruns)"])
            }
            for record in recorder.withLock({ $0.records(from: batch) }) {
                writer.offer(record.jsonLine)
            }
        }
    }
}
