import Foundation

/// An object read from a manifest, with where it came from.
public struct LoadedObject: Hashable, Sendable {
    public var object: KubeObject
    /// The file as given (or found under a given directory); `-` for standard input.
    public var file: String
    /// 1-based document number in the file.
    public var document: Int
    /// Root, or `items[N]` for an object inside a List.
    public var pathInDocument: FieldPath
    /// Fields the API does not define, found by strict decoding (NetworkPolicy and ClusterNetworkPolicy).
    public var unknownFields: [FieldPath]
    /// Plain YAML scalars in text fields that YAML 1.1 read as something else
    /// and decoding accepted (`tier: ~` drops a label, `port: 0777` is 511),
    /// in document order; see `RetypedScalar`.
    public var retypedScalars: [RetypedScalar] = []
    /// What the API server refuses in how the object was written that the
    /// object itself cannot show: a field its CRD requires left out, an empty
    /// `protocols` list, a peer with no field (ClusterNetworkPolicy only).
    public var writtenProblems: [FieldProblem] = []

    /// `FILE:DOC`, the prefix of every message about this object.
    public var location: String { "\(file):\(document)" }
}

/// Everything read from a set of inputs: the objects, and every input that could
/// not be read, parsed or decoded. Nothing is dropped silently except kinds that
/// netpol does not use.
public struct ManifestSet: Sendable {
    public var objects: [LoadedObject] = []
    public var errors: [ManifestError] = []
    /// The files read, in order.
    public var files: [String] = []
    /// Files that start like JSON but that the JSON parser handed to the YAML
    /// reader (several documents, comments, or JSON that YAML reads otherwise,
    /// such as a duplicate key): read as YAML reads them, at YAML's speed. Each
    /// names the file and what the JSON parser met, and where.
    public var jsonFallbacks: [ManifestError] = []
    /// YAML files that `YAMLSubsetReader` handed to libyaml's reader (anchors,
    /// tags, block scalars, a mistake...): `file: why (line N)`. Manifests as
    /// kubectl, Helm and `netpol gen` write them never land here.
    public var yamlHandOvers: [String] = []

    public init() {}
}

/// Reads manifests from files, directories (recursively: `*.yaml`, `*.yml`,
/// `*.json`, in name order) and standard input (`-`).
public enum ManifestLoader {
    public static let extensions: Set<String> = ["yaml", "yml", "json"]

    /// Loads every input. `standardInput` is called at most once, for `-`.
    public static func load(_ inputs: [String], standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) -> ManifestSet {
        var set = ManifestSet()
        for input in inputs {
            if input == "-" {
                load(data: standardInput(), file: "-", into: &set)
                continue
            }
            do throws(ManifestError) {
                for file in try files(at: input) {
                    guard let data = FileManager.default.contents(atPath: file) else {
                        set.errors.append(ManifestError(.unreadable, "cannot read file", file: file))
                        continue
                    }
                    load(data: data, file: file, into: &set)
                }
            } catch {
                set.errors.append(error)
            }
        }
        return set
    }

    /// Decodes one file's bytes into `set`; `file` names it in messages.
    public static func load(data: Data, file: String, into set: inout ManifestSet) {
        set.files.append(file)
        let documents: [DocumentParser.Document]
        do {
            let parsed = try DocumentParser.parse(data)
            if var refusal = parsed.jsonRefusal {
                refusal.file = file
                set.jsonFallbacks.append(refusal)
            }
            if let handOver = parsed.yamlHandOver { set.yamlHandOvers.append("\(file): \(handOver)") }
            documents = parsed.documents
        } catch var failure {
            failure.file = file
            set.errors.append(failure)
            return
        }
        guard documents.contains(where: { $0.root != nil }) else {
            set.errors.append(ManifestError(.empty, "no YAML or JSON documents (empty input)", file: file))
            return
        }
        for document in documents {
            guard let root = document.root else { continue }
            for result in ObjectDecoder.objects(in: root) {
                switch result {
                case .success(let decoded):
                    set.objects.append(LoadedObject(
                        object: decoded.object, file: file, document: document.number,
                        pathInDocument: decoded.pathInDocument, unknownFields: decoded.unknownFields,
                        retypedScalars: decoded.retypedScalars, writtenProblems: decoded.writtenProblems))
                case .failure(var failure):
                    failure.file = file
                    failure.document = document.number
                    set.errors.append(failure)
                }
            }
        }
    }

    /// The manifest files at `path`: the file itself, or the matching files below a directory.
    public static func files(at path: String) throws(ManifestError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestError(.unreadable, "no such file or directory", file: path)
        }
        guard isDirectory.boolValue else { return [path] }
        var visited = Set<String>()
        return try filesBelow(directory: path, visited: &visited)
    }

    private static func filesBelow(directory: String, visited: inout Set<String>) throws(ManifestError) -> [String] {
        // Symbolic links may loop back; visit each real directory once.
        let real = (directory as NSString).resolvingSymlinksInPath
        guard visited.insert(real).inserted else { return [] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ManifestError(.unreadable, "cannot list directory", file: directory)
        }
        var result: [String] = []
        for name in names where !name.hasPrefix(".") {
            let child = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                result += try filesBelow(directory: child, visited: &visited)
            } else if extensions.contains((name as NSString).pathExtension.lowercased()) {
                result.append(child)
            }
        }
        return result
    }
}
