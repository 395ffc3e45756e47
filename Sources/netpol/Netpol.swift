import ArgumentParser
import Foundation

/// The `netpol` command line: a thin shell over the netpol libraries.
@main
struct Netpol: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netpol",
        abstract: "Enforce, check and explain Kubernetes NetworkPolicy on Linux nodes.",
        discussion: """
            netpol reads Namespaces, Pods and NetworkPolicies from manifests (YAML or \
            JSON, as written or as `kubectl get -o yaml` prints them) and judges them \
            exactly as the Kubernetes API server does.

            Exit status: 0 success, 1 the input has problems, 2 the input could not be \
            read or the command line is wrong.
            """,
        subcommands: [ValidateCommand.self, ExplainCommand.self, MatrixCommand.self, CompileCommand.self, ApplyCommand.self, CleanupCommand.self, AgentCommand.self, LabCommand.self, GenCommand.self])

    /// A flag of its own rather than the configuration's `version`, which is built
    /// on every parse: the commit is looked up only when asked for.
    @Flag(help: "Print netpol's version, and the commit when built from a git checkout.")
    var version = false

    /// `netpol --version`; without a subcommand, the help.
    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(Version.text)
    }

    /// Parses and runs a subcommand, mapping argument errors to exit status 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            if let reader = command as? any ReadsManifests, let missing = reader.manifests.missingInput {
                exitWithUsageError(missing, of: type(of: command))
            }
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usageOrInput.rawValue)
            }
            exit(withError: error)
        }
    }

    /// Reports a command-line mistake found after parsing as the parser reports
    /// its own (the message, the usage, where help is), and exits with status 2.
    private static func exitWithUsageError(_ message: String, of command: any ParsableCommand.Type) -> Never {
        let usage = usageString(for: command).replacingOccurrences(of: "\n", with: "\n       ")
        let name = command.configuration.commandName ?? ""
        let text = "Error: \(message)\nUsage: \(usage)\n  See 'netpol \(name) --help' for more information.\n"
        FileHandle.standardError.write(Data(text.utf8))
        Foundation.exit(ExitStatus.usageOrInput.rawValue)
    }
}

/// netpol's exit statuses, the same for every subcommand.
enum ExitStatus: Int32 {
    case success = 0
    /// The input was read and has problems (invalid objects, mismatches).
    case findings = 1
    /// The input could not be read or parsed, or the command line is wrong.
    case usageOrInput = 2

    var exitCode: ExitCode { ExitCode(rawValue) }
}
