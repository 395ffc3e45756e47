import ArgumentParser
import Foundation
import NetpolKube
import NetpolModel

/// `--kubeconfig`, `--context` and `--live-cluster`: read the objects a command judges
/// from a live cluster, with the `-f` files laid over them. A command gets all
/// of it by adding `@OptionGroup var cluster: ClusterOptions` (and conforming to
/// `ReadsClusters` when it also reads `-f`).
///
/// Two reads for two needs: `read()` is the live cluster alone, and
/// `inputs(with:)` the cluster with files over it; `InputSet.overlaid(by:)` lays
/// other files over one cluster read, as `diff --after -f` does.
struct ClusterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Read the live cluster through this kubeconfig (its current-context, or --context).", valueName: "path"),
        completion: .file())
    var kubeconfig: String?

    @Option(
        help: ArgumentHelp("Read the live cluster through this kubeconfig context.", valueName: "name"),
        completion: .custom { words, _, _ in ClusterOptions.contexts(words) })
    var context: String?

    @Flag(help: """
        Read the live cluster: Namespaces, Pods, Nodes, NetworkPolicies and ClusterNetworkPolicies (none \
        without their CRD), listed through --kubeconfig or \
        --context if given, else the pod's service account in a pod, else $KUBECONFIG or ~/.kube/config. \
        Implied by --kubeconfig and --context, and when run as kubectl-netpol. Objects in -f files are laid \
        over the live ones: a file's object replaces the live object of the same kind, namespace and name.
        """)
    var liveCluster = false

    /// The contexts of the kubeconfig that `words` (the command line being
    /// completed) name with --kubeconfig, else of the one kubectl would use.
    private static func contexts(_ words: [String]) -> [String] {
        let given = words.firstIndex(of: "--kubeconfig").flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
        return ClusterAccess.contextNames(inKubeconfigAt: ClusterAccess.kubeconfigPath(explicit: given))
    }

    /// Whether the command reads the live cluster.
    var isLive: Bool { liveCluster || kubeconfig != nil || context != nil || KubectlPlugin.isRunning }

    /// The live cluster's objects, or nil when the command line does not ask for
    /// them. A cluster that cannot be reached, a refusal or a kubeconfig that
    /// cannot be used is printed to standard error and stops the command (exit 2).
    func read() throws -> InputSet? {
        guard isLive else { return nil }
        do throws(KubeError) {
            let access = try ClusterAccess.resolve(kubeconfig: kubeconfig, context: context)
            return InputSet(cluster: try ClusterReader.list(access))
        } catch {
            FileHandle.standardError.write(Data("netpol: \(error)\n".utf8))
            throw ExitStatus.usageOrInput.exitCode
        }
    }

    /// The live cluster (when asked for) with `manifests` laid over it, or the
    /// manifests alone.
    func inputs(with manifests: ManifestOptions) throws -> InputSet {
        let files = InputSet(files: manifests.load())
        guard let live = try read() else { return files }
        return live.overlaid(by: files)
    }

    /// The snapshot a command judges: `inputs(with:)`, refused (exit 2) when
    /// some input cannot be read or some object is invalid.
    func snapshot(with manifests: ManifestOptions) throws -> Snapshot {
        try inputs(with: manifests).snapshot()
    }
}

/// A command that reads manifests through `-f` and the live cluster through
/// `ClusterOptions`: either is input enough.
protocol ReadsClusters: ReadsManifests {
    var cluster: ClusterOptions { get }
}

extension ReadsClusters {
    var missingInput: String? {
        guard !cluster.isLive, manifests.paths.isEmpty else { return nil }
        return "Missing input: give at least one -f PATH (a file, a directory, or - for standard input), or read a live cluster with --kubeconfig, --context or --live-cluster."
    }
}
