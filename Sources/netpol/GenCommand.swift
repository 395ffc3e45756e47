import ArgumentParser
import NetpolModel
import NetpolWorkload

struct GenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Write a synthetic cluster (namespaces, pods, policies) as YAML, for benchmarks and scale tests.",
        usage: """
            netpol gen [--namespaces <namespaces>] [--pods <pods>]
              [--policies <policies>] [--nodes <nodes>] [--seed <seed>] [--ipv6]
              [--cluster-policies <count>]
            """,
        discussion: """
            The same parameters and seed always give the same cluster. Pods are spread \
            evenly over namespaces and at random over nodes (node-0, node-1, ...), with \
            named ports http, grpc and metrics. The policies are a realistic mix: a \
            default deny per namespace, allow-from-same-namespace, allow from labelled \
            namespaces (matchExpressions), allow by pod labels with matchExpressions on \
            a port range, named ports, and ipBlock-with-except egress. With \
            --cluster-policies, Node objects and ClusterNetworkPolicies follow (Admin \
            and Baseline; namespace, pod, network and node peers; Accept, Deny, Pass).

            Examples:
              netpol gen --namespaces 100 --pods 10000 --policies 2000 --nodes 100 > l.yaml
              netpol compile -f l.yaml --node node-0 --stats > /dev/null
            """)

    // Counts are read even when they start with a dash, so that `--pods -5` is
    // refused as a negative count rather than as a missing value.
    @Option(parsing: .unconditional, help: "How many namespaces.") var namespaces = 10
    @Option(parsing: .unconditional, help: "How many pods.") var pods = 100
    @Option(parsing: .unconditional, help: "How many NetworkPolicies (the first, one per namespace, are default denies).") var policies = 20
    @Option(parsing: .unconditional, help: "How many nodes.") var nodes = 3
    @Option(parsing: .unconditional, help: "The seed: the same seed gives the same cluster.") var seed: UInt64 = 1
    @Flag(help: "Give every pod an IPv6 address as well (dual-stack).") var ipv6 = false
    @Option(parsing: .unconditional, help: ArgumentHelp("How many ClusterNetworkPolicies (Admin and Baseline); Node objects come with them.", valueName: "count")) var clusterPolicies = 0

    func validate() throws {
        let counts = [("--namespaces", namespaces, 1), ("--nodes", nodes, 1), ("--pods", pods, 0), ("--policies", policies, 0), ("--cluster-policies", clusterPolicies, 0)]
        for (option, count, least) in counts where count < least {
            throw ValidationError("\(option) must be a count of \(least) or more, not \(count).")
        }
        guard pods <= 16_000_000 else { throw ValidationError("--pods: at most 16,000,000 (addresses come from 10.0.0.0/8).") }
    }

    func run() throws {
        let generator = ClusterGenerator(namespaces: namespaces, pods: pods, policies: policies, nodes: nodes, seed: seed, ipv6: ipv6, clusterPolicies: clusterPolicies)
        print(ManifestWriter.yaml(generator.objects()), terminator: "")
    }
}
