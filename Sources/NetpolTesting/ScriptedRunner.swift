import Foundation
import NetpolDataplane

/// A `CommandRunner` for tests: answers each command from a script and records
/// what was asked, so a test can check the exact arguments and input.
public final class ScriptedRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [CommandOutput]
    private var recorded: [Command] = []

    /// - Parameter answers: the outputs to give, in order; when they run out,
    ///   every further command succeeds with no output.
    public init(answers: [CommandOutput] = []) {
        self.answers = answers
    }

    public var commands: [Command] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    public func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        lock.lock()
        defer { lock.unlock() }
        recorded.append(command)
        return answers.isEmpty ? CommandOutput(status: 0, output: "", errors: "") : answers.removeFirst()
    }
}
