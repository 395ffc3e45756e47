import ArgumentParser
import Foundation
import NetpolModel

/// `-f PATH`, shared by every command that reads manifests.
struct ManifestOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp(
            "A manifest file, a directory (read recursively: *.yaml, *.yml, *.json) or - for standard input. Repeat for more.",
            valueName: "path"),
        completion: .file(extensions: Array(ManifestLoader.extensions).sorted()))
    var paths: [String] = []

    func validate() throws {
        if paths.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("Standard input (-f -) can be read only once.")
        }
    }

    /// Why the command line gives no input, if it does not. `Netpol.main` asks once
    /// the parser has accepted the whole command line: the parser runs `validate()`
    /// before it looks for unknown options, and a misspelt `--file x` must be named
    /// as such, not reported as missing input.
    var missingInput: String? {
        paths.isEmpty ? "Missing input: give at least one -f PATH (a file, a directory, or - for standard input)." : nil
    }

    func load() -> ManifestSet {
        ManifestLoader.load(paths)
    }

    /// Loads a snapshot for commands that reason about the cluster. Input that
    /// cannot be read or objects the API server would reject stop the command
    /// (exit status 2): a verdict on a cluster that could not exist is no verdict.
    func loadSnapshot() throws -> Snapshot {
        try InputSet(files: load()).snapshot()
    }
}

/// A command that reads manifests through `-f`.
protocol ReadsManifests: ParsableCommand {
    var manifests: ManifestOptions { get }
    /// Why the command line gives no input, if it does not.
    var missingInput: String? { get }
}

extension ReadsManifests {
    var missingInput: String? { manifests.missingInput }
}
