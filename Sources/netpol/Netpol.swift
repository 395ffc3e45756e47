import ArgumentParser
import Foundation

/// The `netpol` command line: a thin shell over the netpol libraries.
@main
struct Netpol: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netpol",
        abstract: "Enforce, check and explain Kubernetes NetworkPolicy on Linux nodes.",
        discussion: """
            Kubernetes stores NetworkPolicies but enforces none of them. netpol is the \
            per-node agent that does (`netpol agent`): it watches Namespaces, Pods and \
            NetworkPolicies and keeps the node's nftables rules (or iptables and \
            ipset) equal to what the policies allow, changing only what a change \
            touches, in one transaction.

            Around the agent, commands work on manifests (YAML or JSON, as written or \
            as `kubectl get -o yaml` prints them), judged exactly as the API server \
            does: `validate` checks them; `lint` finds policies that are valid but \
            almost certainly not what was meant; `explain` and `matrix` say what the policies \
            allow, and why; `diff` what a change opens and closes; `compile` prints \
            the rules one node would get, `apply` \
            programs a kernel with them and `cleanup` removes them; `lab` proves the \
            rules on a real kernel with real packets between network namespaces; \
            `gen` writes synthetic clusters for scale tests. `validate`, `lint`, `explain`, \
            `matrix`, `diff` and `compile` also read a live cluster (--kubeconfig, --context, \
            --live-cluster) with the manifests laid over it; linked as \
            `kubectl-netpol`, netpol is a kubectl plugin that reads the cluster \
            kubectl reads (`kubectl netpol explain ...`).

            Exit status, the same scheme for every command:
              0  success: explain and matrix whatever the verdicts, the agent when
                 stopped by SIGTERM or SIGINT
              1  findings: validate found invalid objects, lint found warnings,
                 lab saw the kernel differ from the engine, diff found connections
                 opened or closed
              2  the command line is wrong; input cannot be read, nor the cluster
                 listed (or, for every command but validate, input has invalid
                 objects); the kernel refused or does not hold what apply wrote;
                 the lab cannot run (not root, a tool missing); the agent cannot start
            """,
        subcommands: [ValidateCommand.self, LintCommand.self, ExplainCommand.self, MatrixCommand.self, DiffCommand.self, CompileCommand.self, ApplyCommand.self, CleanupCommand.self, AgentCommand.self, LabCommand.self, GenCommand.self])

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
            if let reader = command as? any ReadsManifests, let missing = reader.missingInput {
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

/// netpol's exit statuses, the same for every subcommand (`netpol --help` lists
/// which command uses which).
enum ExitStatus: Int32 {
    case success = 0
    /// The input was read and has problems (invalid objects, mismatches).
    case findings = 1
    /// The input could not be read or parsed, or the command line is wrong.
    case usageOrInput = 2

    var exitCode: ExitCode { ExitCode(rawValue) }
}
