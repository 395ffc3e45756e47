import Foundation

/// Runs the built `netpol` binary (or `netpol-bench`), as a user would, and captures what it prints.
struct CLIRunner {
    struct Result {
        var status: Int32
        var output: String
        var errors: String

        var outputLines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// The package root, where `examples/` lives; commands run from here.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built `netpol`, the product.
    static let binary = executable(named: "netpol")

    /// The built `netpol-bench`, the benchmarks.
    static let benchBinary = executable(named: "netpol-bench")

    /// Executables sit beside the test bundle in the build directory.
    private static func executable(named name: String) -> URL {
        let testExecutable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = testExecutable.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }

    /// Runs `netpol ARGUMENTS` (or another `executable`), feeding `input` on standard input, with
    /// `environment` added to this process's environment.
    /// Output goes to temporary files rather than pipes, so that no amount of it can block the child.
    static func run(
        _ arguments: [String], input: String? = nil, environment: [String: String] = [:], executable: URL = binary
    ) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = ["in", "out", "err"].map { scratch.appendingPathComponent($0) }
        try Data((input ?? "").utf8).write(to: files[0])
        for file in files.dropFirst() { try Data().write(to: file) }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        process.currentDirectoryURL = packageRoot
        let handles = [try FileHandle(forReadingFrom: files[0]), try FileHandle(forWritingTo: files[1]), try FileHandle(forWritingTo: files[2])]
        defer { for handle in handles { try? handle.close() } }
        process.standardInput = handles[0]
        process.standardOutput = handles[1]
        process.standardError = handles[2]
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: try String(contentsOf: files[1], encoding: .utf8),
            errors: try String(contentsOf: files[2], encoding: .utf8))
    }
}
