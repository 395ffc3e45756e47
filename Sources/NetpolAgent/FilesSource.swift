import Foundation
import Logging
import NetpolModel

/// A directory of manifests standing in for the API server: read at start, then
/// read again whenever a file in it appears, changes or goes away. A file that
/// no longer parses keeps its last good objects in force.
public struct FilesSource: ClusterSource {
    public let directory: String
    public let interval: Duration

    /// - Parameter interval: how often the directory is checked for changes.
    public init(directory: String, interval: Duration = .milliseconds(500)) {
        self.directory = directory
        self.interval = interval
    }

    public func run(into store: ClusterStore, logger: Logger, metrics: AgentMetrics) async {
        var seen: [String: FileStamp] = [:]
        var objectsByFile: [String: [KubeObject]] = [:]
        var first = true
        repeat {
            let stamps = FileStamp.all(in: directory, logger: logger, metrics: metrics)
            if stamps != seen || first {
                for (file, stamp) in stamps where seen[file] != stamp {
                    if let objects = load(file, logger: logger, metrics: metrics) { objectsByFile[file] = objects }
                }
                for file in objectsByFile.keys where stamps[file] == nil {
                    objectsByFile[file] = nil
                }
                seen = stamps
                let all = objectsByFile.keys.sorted().flatMap { objectsByFile[$0] ?? [] }
                for kind in ["Namespace", "Pod", "NetworkPolicy"] {
                    let rejections = store.replaceAll(kind, with: all.filter { $0.kind == kind })
                    for rejection in rejections { rejection.report(logger, metrics) }
                }
                logger.info(first ? "read manifests" : "manifests changed", metadata: ["directory": "\(directory)", "objects": "\(all.count)"])
                first = false
            }
        } while (try? await Task.sleep(for: interval)) != nil
    }

    /// The file's objects, or nil (keep the old ones) when any part of it is wrong.
    private func load(_ file: String, logger: Logger, metrics: AgentMetrics) -> [KubeObject]? {
        guard let data = FileManager.default.contents(atPath: file) else {
            metrics.sourceErrors("files").increment()
            logger.warning("cannot read manifest; its last good objects stay", metadata: ["file": "\(file)"])
            return nil
        }
        var set = ManifestSet()
        ManifestLoader.load(data: data, file: file, into: &set)
        let unknown = set.objects.flatMap { loaded in
            Validator.problems(loaded).filter { $0.kind == .unknownField }.map { "\(loaded.location): \(loaded.object.reference): \($0)" }
        }
        let problems = set.errors.map(\.description) + unknown
        guard problems.isEmpty else {
            metrics.sourceErrors("files").increment()
            for problem in problems {
                logger.warning("manifest rejected; its last good objects stay", metadata: ["problem": "\(problem)"])
            }
            return nil
        }
        return set.objects.map(\.object)
    }
}

/// What tells a changed file from an unchanged one without reading it.
struct FileStamp: Hashable {
    var modified: Date
    var size: Int

    static func all(in directory: String, logger: Logger, metrics: AgentMetrics) -> [String: FileStamp] {
        let files: [String]
        do {
            files = try ManifestLoader.files(at: directory)
        } catch {
            metrics.sourceErrors("files").increment()
            logger.warning("cannot list manifests", metadata: ["error": "\(error)"])
            return [:]
        }
        var stamps: [String: FileStamp] = [:]
        for file in files {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { continue }
            stamps[file] = FileStamp(
                modified: attributes[.modificationDate] as? Date ?? .distantPast,
                size: (attributes[.size] as? NSNumber)?.intValue ?? 0)
        }
        return stamps
    }
}
