import Foundation
import Testing

@Suite("netpol itself: version and overview")
struct NetpolCommandTests {
    /// The version constant, and the commit of this checkout, which the binary was built from.
    @Test func versionNamesTheCommit() throws {
        let result = try CLIRunner.run(["--version"])
        #expect(result.status == 0)
        #expect(result.errors == "")
        let line = try #require(result.outputLines.first)
        #expect(result.outputLines.count == 1)
        #expect(line.wholeMatch(of: /netpol \d+\.\d+\.\d+( \(commit [^ )]+\))?/) != nil, "\(line)")
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", CLIRunner.packageRoot.path, "rev-parse", "--short", "HEAD"]
        let pipe = Pipe()
        git.standardOutput = pipe
        git.standardError = FileHandle.nullDevice
        try git.run()
        let head = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        git.waitUntilExit()
        if git.terminationStatus == 0 {
            #expect(line.contains(head), "\(line) should name HEAD, \(head)")
        }
    }

    /// The overview describes the whole tool, every command in it, and which
    /// command uses which exit status.
    @Test func overviewCoversEveryCommandAndItsExitStatuses() throws {
        let result = try CLIRunner.run(["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        let overview = result.output.components(separatedBy: "USAGE:")[0]
        let subcommands = result.outputLines.drop { $0 != "SUBCOMMANDS:" }.dropFirst()
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.contains("See '") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(subcommands.count >= 9)
        for subcommand in subcommands {
            #expect(overview.contains("`\(subcommand)`") || overview.contains("`netpol \(subcommand)`"), "overview does not name \(subcommand)")
        }
        let statuses = overview.components(separatedBy: "Exit status")
        #expect(statuses.count == 2)
        let exitText = statuses.last ?? ""
        for expected in ["  0  ", "  1  findings: validate", "lab saw the kernel differ", "  2  ", "the agent cannot start"] {
            #expect(exitText.contains(expected), "exit statuses do not say \(expected)")
        }
    }
}
