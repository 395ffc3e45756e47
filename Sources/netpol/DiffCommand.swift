import ArgumentParser
import Foundation
import NetpolEngine
import NetpolModel

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Say which connections a change opens and closes, and which policy does it.",
        usage: """
            netpol diff [--before <path> ...] --after <path> ... [--port <port> ...]
              [--kubeconfig <path>] [--context <name>] [--live-cluster]
              [--output <output>]
            """,
        discussion: """
            Judges the cluster before and after a change, as `netpol matrix` does, on \
            every port any pod declares (by number, on each protocol it is declared \
            with) and on each --port, and lists the pod pairs that gain or lose \
            access, with the sides whose decision changed and the policies that \
            decide them. Pairs are compared where both pods exist on both sides \
            (same namespace and name, with an IP, not on the host network); pods \
            on one side only are listed apart.

            With --kubeconfig, --context or --live-cluster, the live cluster is the \
            state before the change, and the live cluster with the --after files laid \
            over it the state after (--before files, if any, are laid over the live \
            cluster too): what applying the files would open and close. The cluster \
            is listed once.

            Exit status: 0 nothing changed, 1 something did (connections opened or \
            closed, pods added or removed), 2 bad usage or input with problems; so \
            CI can gate on it.

            -o json prints one object on one line:
              {"opened":[{"from":"x/b","to":"x/a","protocol":"TCP","port":80,
                "cause":"...","policies":["x/deny"],"clusterPolicies":["no-y"]},...],
               "closed":[...],
               "addedPods":[...],"removedPods":[...],"ports":["TCP/80",...]}
            -o html prints one self-contained page: the matrix of both sides with \
            opened cells in green and closed ones in red; a click on a cell shows \
            the explanation before and after.

            Examples:
              netpol diff --before old/ --after new/
              netpol diff --before old/ --after old/ --after fix.yaml -o json
              netpol diff --before old/ --after new/ -o html > diff.html
              netpol diff --context prod --after proposed-policy.yaml
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, html
    }

    @Option(help: ArgumentHelp(
        "The cluster before the change: a manifest file, a directory or - (standard input); laid over the live cluster when one is read. Repeat for more.",
        valueName: "path"))
    var before: [String] = []

    @Option(help: ArgumentHelp(
        "The cluster after the change, read like --before. Repeat for more.",
        valueName: "path"))
    var after: [String] = []

    @Option(help: ArgumentHelp(
        "Judge this port too: a number, or PROTOCOL/NUMBER (udp/53). Repeat for more.",
        valueName: "port"))
    var port: [PortKeyArgument] = []

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .shortAndLong, help: "Output format: text, json or html.")
    var output: Format = .text

    func validate() throws {
        if before.isEmpty && !cluster.isLive {
            throw ValidationError("Missing input: give the cluster before the change with --before PATH, or read a live cluster with --kubeconfig, --context or --live-cluster.")
        }
        if after.isEmpty { throw ValidationError("Missing input: give the cluster after the change with --after PATH.") }
        if (before + after).filter({ $0 == "-" }).count > 1 {
            throw ValidationError("Standard input (-) can be read only once.")
        }
    }

    func run() throws {
        let live = try cluster.read()
        let old = Engine(snapshot: try Self.inputs(before, over: live).snapshot())
        let new = Engine(snapshot: try Self.inputs(after, over: live).snapshot())
        let diff = ConnectivityDiff(before: old, after: new, extraPorts: port.map(\.value))
        switch output {
        case .text: print(Self.text(diff), terminator: "")
        case .json: print(Self.json(diff))
        case .html: print(try HTMLReport.page(before: old, after: new, diff: diff))
        }
        if !diff.isEmpty { throw ExitStatus.findings.exitCode }
    }

    /// The files at `paths`, laid over the live cluster when there is one.
    private static func inputs(_ paths: [String], over live: InputSet?) -> InputSet {
        let files = InputSet(files: ManifestLoader.load(paths))
        return live?.overlaid(by: files) ?? files
    }

    /// A block lists its pairs one a line up to this many; a larger one names a few
    /// of its pods (JSON always lists every pair).
    static let pairsListed = 20

    static func text(_ diff: ConnectivityDiff) -> String {
        var text = ""
        for change in diff.changes {
            let count = change.pairCount
            text += "\(change.opened ? "opened" : "closed") \(change.port): \(count) connection\(count == 1 ? "" : "s")\n"
            text += "  because \(change.cause)\n"
            if count <= pairsListed {
                text += change.pairs.map { "    \($0.from) -> \($0.to)\n" }.joined()
            } else {
                text += "    from \(names(change.sources))\n    to \(names(change.destinations))\n"
            }
        }
        if !diff.removedPods.isEmpty { text += "pods only before: \(names(diff.removedPods))\n" }
        if !diff.addedPods.isEmpty { text += "pods only after: \(names(diff.addedPods))\n" }
        let opened = diff.opened.reduce(0) { $0 + $1.pairCount }, closed = diff.closed.reduce(0) { $0 + $1.pairCount }
        let ports = diff.ports.map(\.description).joined(separator: ", ")
        text += diff.changes.isEmpty
            ? "No connection between the pods on both sides opened or closed on \(ports.isEmpty ? "any port (no pod declares one; add --port)" : ports)\n"
            : "\(opened) connection\(opened == 1 ? "" : "s") opened, \(closed) closed on \(ports)\n"
        return text
    }

    /// `x/a, x/b, x/c and 7 more`.
    private static func names(_ pods: [PodID]) -> String {
        let shown = pods.prefix(5).map(\.description).joined(separator: ", ")
        return pods.count > 5 ? "\(shown) and \(pods.count - 5) more" : shown
    }

    static func json(_ diff: ConnectivityDiff) -> String {
        func pairs(_ changes: [ConnectivityDiff.Change]) -> String {
            JSONText.array(changes.flatMap { change in
                let shared = [
                    JSONText.string(change.port.protocol.rawValue), String(change.port.port), JSONText.string(change.cause),
                    JSONText.array(change.policies.map { JSONText.string($0.description) }),
                    JSONText.array(change.clusterPolicies.map { JSONText.string($0) }),
                ]
                return change.pairs.map { pair in
                    JSONText.object([
                        "from": JSONText.string(pair.from.description), "to": JSONText.string(pair.to.description),
                        "protocol": shared[0], "port": shared[1], "cause": shared[2], "policies": shared[3],
                        "clusterPolicies": shared[4],
                    ])
                }
            })
        }
        return JSONText.object([
            "opened": pairs(diff.opened),
            "closed": pairs(diff.closed),
            "addedPods": JSONText.array(diff.addedPods.map { JSONText.string($0.description) }),
            "removedPods": JSONText.array(diff.removedPods.map { JSONText.string($0.description) }),
            "ports": JSONText.array(diff.ports.map { JSONText.string($0.description) }),
        ])
    }
}

/// `--port` of `netpol diff`: a port number, or PROTOCOL/NUMBER (TCP when not given).
struct PortKeyArgument: ExpressibleByArgument {
    let value: ConnectivityDiff.PortKey

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let number = Int(parts[parts.count - 1]), (1...65535).contains(number) else { return nil }
        let proto = parts.count == 2 ? PortProtocol(argument: String(parts[0])) : .tcp
        guard let proto else { return nil }
        value = ConnectivityDiff.PortKey(proto, number)
    }
}
