import Logging
import NetpolModel

/// A directory of manifests standing in for the API server: read at start, then
/// read again whenever a file in it appears, changes or goes away.
///
/// Fails closed: until the whole directory has been read once, nothing is
/// listed (the agent writes nothing and is not ready); a directory that later
/// cannot be read keeps every last good object in force, and a file that no
/// longer parses keeps its own. See `ManifestDirectory` for what a read is.
public struct FilesSource: ClusterSource {
    public let directory: String
    public let interval: Duration

    /// - Parameter interval: how often the directory is checked for changes.
    public init(directory: String, interval: Duration = .milliseconds(500)) {
        self.directory = directory
        self.interval = interval
    }

    public func run(into store: ClusterStore, logger: Logger, metrics: AgentMetrics) async {
        var manifests = ManifestDirectory(path: directory)
        var listed = false
        // The trouble reported last, so that a lasting fault is logged and counted once, not every interval.
        var reported: [String] = []
        repeat {
            let reading = manifests.read()
            var trouble: [String] = []
            switch reading {
            case .unchanged:
                trouble = manifests.keptFiles
            case .changedWhileReading:
                trouble = reported
            case .failed(let problems):
                trouble = problems
            case .complete(let objects):
                trouble = manifests.keptFiles
                for kind in ClusterStore.listedKinds {
                    for notice in store.replaceAll(kind, with: objects.filter { $0.kind == kind }) { notice.report(logger, metrics) }
                }
                logger.info(listed ? "manifests changed" : "read manifests", metadata: ["directory": "\(directory)", "objects": "\(objects.count)"])
                listed = true
            }
            if trouble != reported {
                report(trouble, listed: listed, logger: logger, metrics: metrics)
                reported = trouble
            }
        } while (try? await Task.sleep(for: interval)) != nil
    }

    private func report(_ problems: [String], listed: Bool, logger: Logger, metrics: AgentMetrics) {
        guard !problems.isEmpty else {
            logger.info("manifests readable again", metadata: ["directory": "\(directory)"])
            return
        }
        metrics.sourceErrors("files").increment()
        let consequence = listed ? "the last good objects stay in force" : "nothing is enforced until the whole directory reads"
        for problem in problems {
            logger.warning("cannot use manifests; \(consequence)", metadata: ["problem": "\(problem)"])
        }
    }
}
