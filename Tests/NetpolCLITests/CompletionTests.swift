import Foundation
import Testing

/// Shell completions come from argument-parser, through netpol's own `main`.
@Suite("Shell completions")
struct CompletionTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func printsAScriptForEachShell(shell: String) throws {
        let result = try CLIRunner.run(["--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.isEmpty)
        // fish names long options without their dashes.
        for word in ["explain", "matrix", "kubeconfig", "context", "live-cluster", "filename"] {
            #expect(result.output.contains(word), "\(shell): \(word)")
        }
    }

    /// The bash script, loaded into a real bash, completes subcommands and options.
    @Test(arguments: [
        ("netpol ma", ["matrix"]),
        ("netpol explain --kube", ["--kubeconfig"]),
        ("netpol validate --li", ["--live-cluster"]),
    ])
    func bashCompletes(line: String, expected: [String]) throws {
        let script = try CLIRunner.run(["--generate-completion-script", "bash"]).output
        let words = line.split(separator: " ").map { "'\($0)'" }.joined(separator: " ")
        let program = """
            \(script)
            COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(\(words)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            _netpol netpol "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try CLIRunner.run(["-c", program], executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.outputLines == expected, "\(line): \(result.output)\(result.errors)")
    }
}
