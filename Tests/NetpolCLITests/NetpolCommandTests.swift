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
}
