import ArgumentParser
import Foundation
import NetpolModel

/// The objects a command judges, each with where it came from (manifest files,
/// the live cluster, or the cluster with files laid over it), and the inputs
/// that could not be read.
struct InputSet {
    /// One object and its origin.
    struct Object {
        enum Origin {
            case manifest(LoadedObject)
            case cluster
        }

        var object: KubeObject
        var origin: Origin

        /// What messages about the object start with: `FILE:DOC`, or `cluster`
        /// for a live object, in the place of `FILE:DOC`.
        var location: String {
            switch origin {
            case .manifest(let loaded): loaded.location
            case .cluster: InputSet.clusterLocation
            }
        }

        /// Unquoted YAML scalars decoding read as something other than the
        /// text they look like (none for a live object: the API server sent JSON).
        var retypedScalars: [RetypedScalar] {
            if case .manifest(let loaded) = origin { return loaded.retypedScalars }
            return []
        }

        /// The API server's objections, and for a manifest the fields strict
        /// decoding found that the API does not define.
        var problems: [FieldProblem] {
            switch origin {
            case .manifest(let loaded): Validator.problems(loaded)
            case .cluster: Validator.problems(object)
            }
        }
    }

    /// Where messages place a live object.
    static let clusterLocation = "cluster"

    var objects: [Object]
    /// Inputs that could not be read, parsed or decoded; an object the API
    /// server sent but netpol cannot decode is placed at `cluster`.
    var errors: [ManifestError]
    /// The files read, in order.
    var files: [String]
    /// Whether the live cluster is part of the input.
    var readsCluster: Bool

    init(files set: ManifestSet) {
        objects = set.objects.map { Object(object: $0.object, origin: .manifest($0)) }
        errors = set.errors
        files = set.files
        readsCluster = false
    }

    /// The objects the API server listed.
    init(cluster items: [APIItem]) {
        objects = []
        errors = []
        for item in items {
            switch item {
            case .success(let object): objects.append(Object(object: object, origin: .cluster))
            case .failure(var error):
                error.file = Self.clusterLocation
                errors.append(error)
            }
        }
        files = []
        readsCluster = true
    }

    /// These objects with `files` laid over them: an object in the files
    /// replaces one here of the same kind, namespace and name.
    func overlaid(by files: InputSet) -> InputSet {
        let replaced = Set(files.objects.map(\.object.reference))
        var result = self
        result.objects = objects.filter { !replaced.contains($0.object.reference) } + files.objects
        result.errors += files.errors
        result.files += files.files
        result.readsCluster = readsCluster || files.readsCluster
        return result
    }

    /// The snapshot of these objects. Input that cannot be read or objects the
    /// API server would reject stop the command (exit status 2): a verdict on a
    /// cluster that could not exist is no verdict.
    func snapshot() throws -> Snapshot {
        Snapshot(try validObjects().map(\.object))
    }

    /// The objects, each with its origin, on the terms of `snapshot()`.
    func validObjects() throws -> [Object] {
        var complaints = errors.map(\.description)
        for entry in objects {
            complaints += entry.problems.map { "\(entry.location): \(entry.object.reference): \($0)" }
        }
        guard complaints.isEmpty else {
            let text = complaints.joined(separator: "\n") + "\nnetpol: the input has problems (see above; `netpol validate` lists them all).\n"
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitStatus.usageOrInput.exitCode
        }
        return objects
    }
}
