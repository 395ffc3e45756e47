import Foundation

/// netpol as a kubectl plugin: kubectl runs any `kubectl-NAME` on PATH for
/// `kubectl NAME …`, so a link named `kubectl-netpol` to this binary makes
/// `kubectl netpol explain …` work. Run under that name, netpol reads the live
/// cluster by default, as every kubectl command does.
enum KubectlPlugin {
    /// The name kubectl looks for on PATH.
    static let executableName = "kubectl-netpol"

    /// Whether this process was started as `kubectl-netpol`.
    static let isRunning = URL(fileURLWithPath: CommandLine.arguments.first ?? "").lastPathComponent == executableName
}
