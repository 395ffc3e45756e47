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

    /// The bash script, loaded into a real bash, completes subcommands, options,
    /// and for -f directories and manifests only (not README.md).
    @Test(arguments: [
        ("netpol ma", ["matrix"]),
        ("netpol explain --kube", ["--kubeconfig"]),
        ("netpol validate --li", ["--live-cluster"]),
        ("netpol validate -f examples/thr", ["examples/three-tier"]),
        ("netpol matrix -f examples/three-tier/", ["examples/three-tier/monitoring.json", "examples/three-tier/namespaces.yaml",
                                                  "examples/three-tier/pods.yaml", "examples/three-tier/policies.yaml"]),
        ("netpol validate -f READ", []),
    ])
    func bashCompletes(line: String, expected: [String]) throws {
        #expect(try Self.bashCompletions(line).sorted() == expected)
    }

    /// `--context` completes to the contexts of the kubeconfig the line names:
    /// bash runs netpol itself to ask, so the custom `main` must answer.
    @Test func bashCompletesTheKubeconfigsContexts() throws {
        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-completion-\(UUID().uuidString)").path
        let contexts = """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
            contexts:
            - {name: fake, context: {cluster: c}}
            - {name: stranger, context: {cluster: c}}
            """
        try Data(contexts.utf8).write(to: URL(fileURLWithPath: kubeconfig))
        defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
        let line = "\(CLIRunner.binary.path) matrix --kubeconfig \(kubeconfig) --context "
        #expect(try Self.bashCompletions(line) == ["fake", "stranger"])
        #expect(try Self.bashCompletions(line + "st") == ["stranger"])
    }

    /// What bash offers for `line`, the cursor at its end, with netpol's script loaded.
    private static func bashCompletions(_ line: String) throws -> [String] {
        let script = try CLIRunner.run(["--generate-completion-script", "bash"]).output
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(separator: " ")
        let program = """
            \(script)
            COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(\(words)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            _netpol netpol "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try CLIRunner.run(["-c", program], executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(result.status == 0, "\(result.errors)")
        return result.outputLines
    }
}
