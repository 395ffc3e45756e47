import Foundation
import Testing

/// Every help screen, as a user reads it in an 80-column terminal.
@Suite("Help texts at 80 columns")
struct HelpTextTests {
    /// One help screen: the command line that prints it and the screen at 80 and at 1,000 columns.
    struct Screen: CustomStringConvertible {
        var arguments: [String]
        var executable: URL
        var narrow: String
        var wide: String

        var description: String { ([executable.lastPathComponent] + arguments).joined(separator: " ") }

        init(_ arguments: [String], executable: URL = CLIRunner.binary) throws {
            self.arguments = arguments
            self.executable = executable
            let narrow = try CLIRunner.run(arguments, environment: ["COLUMNS": "80"], executable: executable)
            let wide = try CLIRunner.run(arguments, environment: ["COLUMNS": "1000"], executable: executable)
            #expect(narrow.status == 0 && wide.status == 0, "\(arguments): \(narrow.errors)")
            self.narrow = narrow.output
            self.wide = wide.output
        }

        /// The lines before `USAGE:`: the overview and the discussion.
        static func discussion(_ text: String) -> [Substring] {
            Array(text.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("USAGE:") })
        }

        /// The usage block, from `USAGE:` to the first empty line.
        var usage: String {
            narrow.split(separator: "\n", omittingEmptySubsequences: false)
                .drop { !$0.hasPrefix("USAGE:") }.prefix { !$0.isEmpty }.joined(separator: "\n")
        }

        /// The names of each option in the OPTIONS section (`-f`, `--filename`), `--help` aside.
        var options: [[String]] {
            let lines = narrow.split(separator: "\n").drop { $0 != "OPTIONS:" }.dropFirst().prefix { $0.hasPrefix(" ") }
            return lines.map { line in
                line.split(separator: " ").prefix { $0.hasPrefix("-") }.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
            }.filter { !$0.isEmpty && !$0.contains("--help") }
        }
    }

    /// `netpol`, each subcommand by `--help` and by `netpol help`, and `netpol-bench`.
    static func screens() throws -> [Screen] {
        let root = try CLIRunner.run(["--help"]).outputLines
        let subcommands = root.drop { $0 != "SUBCOMMANDS:" }.dropFirst().compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "See" }
        #expect(subcommands.count >= 9, "subcommands found: \(subcommands)")
        var screens = [try Screen(["--help"]), try Screen(["--help"], executable: CLIRunner.benchBinary)]
        for subcommand in subcommands {
            screens.append(try Screen([subcommand, "--help"]))
            screens.append(try Screen(["help", subcommand]))
        }
        return screens
    }

    @Test func everyLineFitsAndNoneEndsInABackslash() throws {
        for screen in try Self.screens() {
            for line in screen.narrow.split(separator: "\n") {
                #expect(line.count <= 80, "\(screen): \(line.count) columns: \(line)")
                #expect(!line.hasSuffix("\\"), "\(screen): ends in a backslash: \(line)")
            }
        }
    }

    /// Indented lines of a discussion (examples, tables, formats) are laid out by
    /// hand: at 80 columns they must read as they do on a wide terminal, not wrapped.
    @Test func examplesAndTablesAreNeverWrapped() throws {
        for screen in try Self.screens() {
            let narrow = Set(Screen.discussion(screen.narrow))
            let wrapped = Screen.discussion(screen.wide).filter { $0.hasPrefix("  ") && !narrow.contains($0) }
            #expect(wrapped.isEmpty, "\(screen): wrapped at 80 columns: \(wrapped)")
        }
    }

    /// Usage lines are written by hand where the generated ones would not fit: they name every option.
    @Test func usageNamesEveryOption() throws {
        for screen in try Self.screens() where screen.arguments.first != "help" {
            let usage = screen.usage
            #expect(!usage.isEmpty, "\(screen): no USAGE")
            guard !usage.contains("<options>") else { continue }
            for names in screen.options {
                let named = names.contains { usage.contains($0 + " ") || usage.contains($0 + "]") }
                #expect(named, "\(screen): USAGE does not name \(names)")
            }
        }
    }
}
