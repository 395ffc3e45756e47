import ArgumentParser
import Foundation
import NetpolEngine
import NetpolModel

struct MatrixCommand: ReadsClusters {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Print who may connect to whom: the connectivity matrix of every pod.",
        usage: """
            netpol matrix [-f <path> ...] [--kubeconfig <path>] [--context <name>]
              [--live-cluster] [--port <port>] [--protocol <protocol>]
              [--family <family>] [--output <output>]
            """,
        discussion: """
            Judges every pair of pods (those with an IP, not on the host network) for \
            one protocol and port, as NetworkPolicy decides it, and prints the truth \
            table in the style of the upstream conformance tests: rows are sources, \
            columns destinations, `.` allowed, `X` blocked. A pod may always reach \
            itself.

            A port name (`--port http`) is looked up on each destination pod's \
            container ports; a destination without it is unreachable on that port.

            -o json prints one object on one line, a contract scripts may rely on:
              {"protocol":"TCP","port":"80","pods":["x/a",...],
               "allowed":[[true,false,...],...]}
            where allowed[i][j] tells whether pods[i] may open a connection to pods[j].

            Audited NetworkPolicies (annotated `netpol.io/mode: audit`) are evaluated \
            but not enforced: the table marks with `*` the cells they would change \
            if they were, and lists those connections after it with the audited \
            policies that would decide. -o json then adds, when the input has \
            audited policies, the list of such cells:
              "audit":[{"from":"x/a","to":"x/b","allowed":true,
                        "wouldBeAllowed":false,"policies":["x/deny"]},...]

            -o html prints one self-contained page (nothing fetched): the matrix as \
            a coloured grid grouped by namespace, for --port and every port a pod \
            declares, with a filter on names and labels; a click on a cell shows \
            what `netpol explain` says of it (cells audited policies would change \
            have their own colours, and their `audit:` block). Only the visible cells are drawn, so \
            10,000 pods stay usable.

            Examples:
              netpol matrix -f examples/three-tier --port 9000
              netpol matrix -f cluster.yaml --port http -o json
              netpol matrix --context prod -f proposed-policy.yaml --port 5432
              netpol matrix -f cluster.yaml -o html > report.html
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, html
    }

    @OptionGroup var manifests: ManifestOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var query: MatrixOptions

    @Option(name: .shortAndLong, help: "Output format: table, json or html.")
    var output: Format = .table

    func validate() throws {
        if output == .html && query.family != nil {
            throw ValidationError("-o html judges each pair over the destination's first address family: leave out --family.")
        }
    }

    func run() throws {
        let comparison = AuditComparison(snapshot: try cluster.snapshot(with: manifests))
        let engine = comparison.enforced
        switch output {
        case .table:
            let matrix = matrix(engine)
            print(Self.table(matrix, colour: Terminal.supportsColour, audit: comparison.changes(in: matrix, family: query.family)), terminator: "")
        case .json:
            let matrix = matrix(engine)
            print(Self.json(matrix, audit: comparison.wouldBe.map { _ in comparison.changes(in: matrix, family: query.family) }))
        case .html: print(try HTMLReport.page(comparison: comparison, ports: HTMLReport.ports(asked: query.port.value, protocol: query.proto, engine: engine)))
        }
    }

    private func matrix(_ engine: Engine) -> Matrix {
        engine.matrix(port: query.port.value, protocol: query.proto, family: query.family)
    }

    /// A pair of the matrix: `row` connects to `column`.
    struct Cell: Hashable {
        var row: Int
        var column: Int
    }

    /// Rows are sources, columns destinations; `.` allowed, `X` blocked, and `?`
    /// for the cells in `notProbed`, whose verdict the lab could not observe;
    /// `*` after the cells of `audit`, listed after the grid.
    static func table(_ matrix: Matrix, colour: Bool, notProbed: Set<Cell> = [], audit: [AuditedVerdict] = []) -> String {
        let names = matrix.pods.map(\.description)
        let width = max(names.map(\.count).max() ?? 0, 1)
        func pad(_ text: String) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        let positions = Dictionary(uniqueKeysWithValues: matrix.pods.enumerated().map { (Endpoint.pod($1), $0) })
        let audited = Set(audit.compactMap { change in
            let connection = change.enforced.connection
            return positions[connection.source].flatMap { row in positions[connection.destination].map { Cell(row: row, column: $0) } }
        })
        let legend = ". allowed, X blocked" + (notProbed.isEmpty ? "" : ", ? not probed")
            + (audit.isEmpty ? "" : ", * audited policies would change it (listed below)")
        var text = "\(matrix.protocol)/\(matrix.port): rows connect to columns; \(legend)\n"
        text += pad("-") + " " + names.joined(separator: " ") + "\n"
        for (row, source) in names.enumerated() {
            let cells = matrix.allowed[row].enumerated().map { column, allowed -> String in
                let probed = !notProbed.contains(Cell(row: row, column: column))
                let mark = !probed ? "?" : allowed ? "." : "X"
                let star = audited.contains(Cell(row: row, column: column)) ? "*" : ""
                let padding = String(repeating: " ", count: max(0, names[column].count - 1 - star.count))
                guard colour else { return mark + star + padding }
                let colourCode = !probed ? "33" : allowed ? "32" : "31"
                return "\u{1B}[\(colourCode)m" + mark + "\u{1B}[0m" + star + padding
            }
            let line = pad(source) + " " + cells.joined(separator: " ")
            text += String(line.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        guard !audit.isEmpty else { return text }
        text += "\nAudited policies would change \(audit.count) connection\(audit.count == 1 ? "" : "s"):\n"
        for change in audit {
            let connection = change.enforced.connection
            text += "  \(connection.source) -> \(connection.destination): \(word(change.enforced.allowed)), would be "
                + "\(word(change.wouldBe.allowed)) by \(change.decidingPolicies.map(\.description).joined(separator: ", "))\n"
        }
        return text
    }

    private static func word(_ allowed: Bool) -> String { allowed ? "allowed" : "blocked" }

    /// - Parameter audit: the cells audited policies would change; nil (no
    ///   `audit` key) when the input has no audited policy.
    static func json(_ matrix: Matrix, audit: [AuditedVerdict]? = nil) -> String {
        var members: [(key: String, value: String)] = [
            ("protocol", JSONText.string(matrix.protocol.rawValue)),
            ("port", JSONText.string(matrix.port.description)),
            ("pods", JSONText.array(matrix.pods.map { JSONText.string($0.description) })),
            ("allowed", JSONText.array(matrix.allowed.map { JSONText.array($0.map(JSONText.bool)) })),
        ]
        if let audit {
            members.append(("audit", JSONText.array(audit.map { change in
                JSONText.object([
                    "from": JSONText.string(change.enforced.connection.source.description),
                    "to": JSONText.string(change.enforced.connection.destination.description),
                    "allowed": JSONText.bool(change.enforced.allowed),
                    "wouldBeAllowed": JSONText.bool(change.wouldBe.allowed),
                    "policies": JSONText.array(change.decidingPolicies.map { JSONText.string($0.description) }),
                ])
            })))
        }
        return JSONText.object(members)
    }
}

/// What a matrix is about; shared by `matrix` and `lab`.
struct MatrixOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Destination port: a number, or a container port name (looked up on each destination). (default: 80)", valueName: "port"),
        transform: PortArgument.parse)
    var port = PortArgument(argument: "80")!

    @Option(name: .customLong("protocol"), help: "TCP, UDP or SCTP.")
    var proto: PortProtocol = .tcp

    @Option(help: "Judge connections over this address family (ipv4 or ipv6); by default each destination's first address family.")
    var family: IPAddress.Family?
}

/// Whether standard output is a terminal that shows colour (and `NO_COLOR` is unset).
enum Terminal {
    static var supportsColour: Bool {
        let environment = ProcessInfo.processInfo.environment
        return isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }
}
