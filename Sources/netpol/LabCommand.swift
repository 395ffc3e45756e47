import ArgumentParser
import Dispatch
import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import Synchronization

struct LabCommand: ReadsManifests {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Prove enforcement on a real kernel: build the cluster in network namespaces and probe it.",
        usage: """
            netpol lab -f <path> ... [--port <port>] [--protocol <protocol>]
              [--family <family>] [--output <output>] [--timeout <timeout>]
              [--backend <backend>] [--iptables-mode <iptables-mode>]
            """,
        discussion: """
            Builds a network namespace per node (spec.nodeName; pods without one go to \
            a node called "default") and per pod, links each pod to its node with a \
            routed veth pair carrying the pod's own addresses, links the nodes, starts \
            a server in every pod on each declared TCP and UDP container port, waits \
            until every pod reaches every pod with no rules loaded, programs every node \
            with the rules netpol computes for it (nftables, or iptables and ipset with \
            --backend iptables), then opens a real connection from every pod to every \
            pod, all at once with a short timeout; a probe that gets no answer is tried \
            once more before it counts as dropped. Prints the kernel's matrix beside \
            the engine's.

            Needs root, iproute2 and nftables (or iptables and ipset). Everything \
            lives in namespaces named \
            netpol-lab-PID-N-*, removed at the end and on Ctrl-C or SIGTERM; a lab also \
            removes namespaces of earlier labs whose process is gone. The host's own \
            network stack is never touched. SCTP cannot be probed (this kernel has no \
            SCTP) and is reported as unsupported.

            The observed matrix shows `?` for a pair that could not be probed (a pod \
            reaching itself on a port name it does not declare); the summary counts \
            them apart.

            -o json prints {"protocol", "port", "pods", "expected", "observed", \
            "mismatches": [{"from", "to"}], "unprobed": [{"from", "to"}]}, pods \
            ordered as in `netpol matrix`; an unprobed pair's observed value is the \
            expected one.

            Exit status: 0 the kernel did exactly what the engine says, 1 any \
            mismatch, 2 usage or environment errors (not root, a tool missing).

            Example:
              sudo netpol lab -f examples/lab --port 8080
            """)

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var query: MatrixOptions

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .shortAndLong, help: "Output format: table or json.")
    var output: Format = .table

    @Option(help: "How long a probe waits for an answer, in milliseconds (a silent probe is tried once more).")
    var timeout = 750

    @OptionGroup var backend: BackendOptions

    func run() throws {
        let snapshot = try manifests.loadSnapshot()
        let signals = Self.tearDownOnSignals()
        let lab: Lab
        do {
            lab = try Lab(snapshot: snapshot, backend: backend.backend, iptablesMode: backend.iptablesMode)
        } catch {
            Self.leaveToTheSignalHandlerIfStopping()
            FileHandle.standardError.write(Data("netpol lab: \(error)\n".utf8))
            throw ExitStatus.usageOrInput.exitCode
        }
        defer {
            signals.forEach { $0.cancel() }
            lab.teardown()
        }
        lab.probeTimeout = .milliseconds(timeout)
        let result: Lab.Result
        do {
            result = try lab.run(port: query.port.value, protocol: query.proto, family: query.family)
        } catch {
            Self.leaveToTheSignalHandlerIfStopping()
            FileHandle.standardError.write(Data("netpol lab: \(error)\n".utf8))
            throw ExitStatus.usageOrInput.exitCode
        }
        Self.leaveToTheSignalHandlerIfStopping()
        switch output {
        case .table: print(Self.report(result, nodes: lab.nodes, colour: Terminal.supportsColour), terminator: "")
        case .json: print(Self.json(result))
        }
        if !result.mismatches.isEmpty { throw ExitStatus.findings.exitCode }
    }

    /// Set by the signal handler before it tears the lab down: from then on the
    /// lab's errors and probes are that teardown's doing, and the handler is
    /// about to exit with the signal's status.
    private static let stopping = Atomic<Bool>(false)

    /// Parks this thread for good when a signal is tearing the lab down, so that
    /// the handler's exit status (130 or 143) is the one the process ends with,
    /// not an error or a verdict the teardown caused.
    private static func leaveToTheSignalHandlerIfStopping() {
        if stopping.load(ordering: .sequentiallyConsistent) { dispatchMain() }
    }

    /// On SIGINT or SIGTERM, also while the lab is being built: remove its
    /// namespaces, then exit 130 or 143.
    private static func tearDownOnSignals() -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                stopping.store(true, ordering: .sequentiallyConsistent)
                Lab.removeAllOfThisProcess()
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    static func report(_ result: Lab.Result, nodes: [String], colour: Bool) -> String {
        let matrix = { (allowed: [[Bool]]) in
            Matrix(protocol: result.protocol, port: result.port, pods: result.pods, allowed: allowed)
        }
        var text = "Lab: \(result.pods.count) pods on \(nodes.count) node\(nodes.count == 1 ? "" : "s") (\(nodes.joined(separator: ", ")))\n\n"
        text += "Expected (engine)\n" + MatrixCommand.table(matrix(result.expected), colour: colour)
        let notProbed = Set(result.unprobed.compactMap { pair in
            result.pods.firstIndex(of: pair.from).flatMap { row in
                result.pods.firstIndex(of: pair.to).map { MatrixCommand.Cell(row: row, column: $0) }
            }
        })
        text += "\nObserved (kernel, real probes)\n" + MatrixCommand.table(matrix(result.observed), colour: colour, notProbed: notProbed)
        for pair in result.unprobed {
            text += "not probed: \(pair.from) -> \(pair.to) (no such port on the pod)\n"
        }
        let mismatches = result.mismatches
        let probed = result.pods.count * result.pods.count - result.unprobed.count
        if mismatches.isEmpty {
            let unprobed = result.unprobed.isEmpty ? "" : ", \(result.unprobed.count) not probed"
            text += "\nThe kernel did exactly what the engine says: \(probed) pairs probed, 0 mismatches\(unprobed).\n"
        } else {
            let unprobed = result.unprobed.isEmpty ? "" : " (\(result.unprobed.count) not probed)"
            text += "\n\(mismatches.count) mismatch\(mismatches.count == 1 ? "" : "es") in \(probed) pairs probed\(unprobed):\n"
            for pair in mismatches {
                let i = result.pods.firstIndex(of: pair.from) ?? 0, j = result.pods.firstIndex(of: pair.to) ?? 0
                text += "  \(pair.from) -> \(pair.to): engine \(result.expected[i][j] ? "allows" : "blocks"), kernel \(result.observed[i][j] ? "allowed" : "blocked")\n"
            }
        }
        return text
    }

    static func json(_ result: Lab.Result) -> String {
        let rows = { (matrix: [[Bool]]) in JSONText.array(matrix.map { JSONText.array($0.map(JSONText.bool)) }) }
        let pairs = { (pairs: [(from: PodID, to: PodID)]) in
            JSONText.array(pairs.map { JSONText.object(["from": JSONText.string($0.from.description), "to": JSONText.string($0.to.description)]) })
        }
        return JSONText.object([
            "protocol": JSONText.string(result.protocol.rawValue),
            "port": JSONText.string(result.port.description),
            "pods": JSONText.array(result.pods.map { JSONText.string($0.description) }),
            "expected": rows(result.expected),
            "observed": rows(result.observed),
            "mismatches": pairs(result.mismatches),
            "unprobed": pairs(result.unprobed),
        ])
    }
}
