import ArgumentParser
import NetpolModel

/// `-f PATH`, shared by every command that reads manifests.
struct ManifestOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp(
            "A manifest file, a directory (read recursively: *.yaml, *.yml, *.json) or - for standard input. Repeat for more.",
            valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty {
            throw ValidationError("Missing input: give at least one -f PATH (a file, a directory, or - for standard input).")
        }
        if paths.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("Standard input (-f -) can be read only once.")
        }
    }

    func load() -> ManifestSet {
        ManifestLoader.load(paths)
    }
}
