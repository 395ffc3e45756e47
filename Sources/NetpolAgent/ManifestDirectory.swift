import Foundation
import NetpolModel

/// A directory of manifests read as whole, consistent states, for the files source.
///
/// A read either sees every file of the directory as it was at one moment, or
/// fails: a directory that cannot be listed, or a file that cannot be read, is
/// an error, never "no objects". A directory that Kubernetes swaps atomically
/// (a ConfigMap or Secret volume: the files are links through `..data` to a
/// timestamped directory, and an update renames a new `..data` over the old)
/// is read through `..data` resolved once, so a read never mixes two versions;
/// a read during which anything changed is thrown away and done again.
///
/// After the first complete read, a file that stops parsing (or can no longer
/// be read) keeps its last good objects; before it, any bad file fails the read.
struct ManifestDirectory {
    /// What one look at the directory found.
    enum Reading: Equatable {
        /// Nothing changed since the last complete read.
        case unchanged
        /// The objects of every file, as of one moment.
        case complete([KubeObject])
        /// The directory was not read; nothing the store holds should change.
        /// `problems` name the file and the reason.
        case failed(problems: [String])
        /// Something changed while it was being read: read again later.
        case changedWhileReading
    }

    let path: String
    private var stamps: [String: FileStamp] = [:]
    private var objectsByFile: [String: [KubeObject]] = [:]
    private var readOnce = false
    /// Problems of files that keep their last good objects, reported by the last read.
    private(set) var keptFiles: [String] = []

    init(path: String) {
        self.path = path
    }

    /// Looks at the directory and reads the files that changed.
    mutating func read() -> Reading {
        let before: Listing
        do {
            before = try Listing(of: path)
        } catch {
            // A ConfigMap update removes the version `..data` pointed to right after
            // the swap: listing it as it goes fails, and a second look finds the new one.
            if (try? Listing(of: path)) != nil { return .changedWhileReading }
            return .failed(problems: [error.description])
        }
        if readOnce && before.stamps == stamps { return .unchanged }

        var next = objectsByFile.filter { before.stamps[$0.key] != nil }
        var problems: [String] = []
        for (file, stamp) in before.stamps where stamps[file] != stamp || !readOnce {
            let loaded = Self.load(before.root + "/" + file)
            if loaded.problems.isEmpty { next[file] = loaded.objects } else { problems += loaded.problems }
        }
        // A read mixes states when anything moved under it: the link swapped, a file rewritten.
        guard let after = try? Listing(of: path), after == before else { return .changedWhileReading }
        if !readOnce && !problems.isEmpty { return .failed(problems: problems) }

        stamps = before.stamps
        objectsByFile = next
        keptFiles = problems
        readOnce = true
        return .complete(next.keys.sorted().flatMap { next[$0] ?? [] })
    }

    /// The file's objects, or why it cannot be used as it is.
    private static func load(_ file: String) -> (objects: [KubeObject], problems: [String]) {
        guard let data = FileManager.default.contents(atPath: file) else {
            return ([], [ManifestError(.unreadable, "cannot read file", file: file).description])
        }
        var set = ManifestSet()
        ManifestLoader.load(data: data, file: file, into: &set)
        // What only the manifest shows (a misspelt field, a ClusterNetworkPolicy
        // field left out) makes the file unusable; the store judges the objects.
        let unknown = set.objects.flatMap { loaded in
            (Validator.problems(loaded).filter { $0.kind == .unknownField } + loaded.writtenProblems)
                .map { "\(loaded.location): \(loaded.object.reference): \($0)" }
        }
        return (set.objects.map(\.object), set.errors.map(\.description) + unknown)
    }
}

/// The directory's files at one moment: where they really are, and a stamp per file.
private struct Listing: Equatable {
    /// The directory the files are read from: `..data` resolved for a ConfigMap volume.
    var root: String
    /// Per file, by its path below `root`.
    var stamps: [String: FileStamp]

    init(of directory: String) throws(ManifestError) {
        root = try Self.root(of: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw ManifestError(.unreadable, "no such directory", file: directory)
        }
        guard isDirectory.boolValue else { throw ManifestError(.unreadable, "not a directory", file: directory) }
        let files = try ManifestLoader.files(at: root)
        stamps = [:]
        for file in files {
            let attributes: [FileAttributeKey: Any]
            do {
                attributes = try FileManager.default.attributesOfItem(atPath: file)
            } catch {
                throw ManifestError(.unreadable, "cannot read file: \(error.localizedDescription)", file: file)
            }
            let relative = file.hasPrefix(root + "/") ? String(file.dropFirst(root.count + 1)) : file
            stamps[relative] = FileStamp(attributes)
        }
    }
}

extension Listing {
    /// Where the files are: `directory` itself, or for a ConfigMap volume the
    /// directory `..data` points to at this moment. A `..data` that exists but
    /// cannot be resolved is an error, not a reason to read around it.
    private static func root(of directory: String) throws(ManifestError) -> String {
        let link = directory + "/..data"
        var info = stat()
        guard lstat(link, &info) == 0 else {
            // No link: a plain directory (or none at all, which the caller reports).
            if errno == ENOENT || errno == ENOTDIR { return directory }
            throw ManifestError(.unreadable, "cannot look at ..data: \(String(cString: strerror(errno)))", file: directory)
        }
        do {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
            return target.hasPrefix("/") ? target : directory + "/" + target
        } catch {
            throw ManifestError(.unreadable, "..data is not a link to the volume's current files: \(error.localizedDescription)", file: directory)
        }
    }
}

/// What tells a changed file from an unchanged one without reading it. The
/// inode changes when a file is replaced by a rename, as careful writers do.
struct FileStamp: Hashable {
    var modified: Date
    var size: Int
    var inode: Int

    init(_ attributes: [FileAttributeKey: Any]) {
        modified = attributes[.modificationDate] as? Date ?? .distantPast
        size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue ?? 0
    }
}
