import Foundation
import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

@Suite("netpol diff, run as a user runs it")
struct DiffCommandTests {
    /// A change as files: the cluster before and after.
    struct Change: CustomStringConvertible {
        var name: String
        var before: Cluster
        var after: Cluster

        var description: String { name }
    }

    /// Every step of every conformance case (the first from the initial cluster),
    /// the multi-step ones included.
    static let changes: [Change] = conformanceCases.flatMap { conformance in
        var cluster = conformance.initialCluster()
        return conformance.steps.enumerated().map { number, step in
            let before = cluster
            step.change(&cluster)
            return Change(name: "\(conformance.name), step \(number + 1)", before: before, after: cluster)
        }
    }

    /// The diff's JSON lists exactly the pairs whose cell differs between the
    /// engine's matrices before and after, on every protocol and port the pods
    /// declare; the exit status says whether anything changed.
    @Test(arguments: changes)
    func jsonEqualsTheDifferenceOfTheMatrices(_ change: Change) throws {
        let files = try ScratchFiles()
        let result = try CLIRunner.run([
            "diff", "--before", try files.write("before.yaml", change.before), "--after", try files.write("after.yaml", change.after), "-o", "json",
        ])
        let expected = Self.matrixDifference(change)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.errors)")
        #expect(Self.pairs(json["opened"]) == expected.opened)
        #expect(Self.pairs(json["closed"]) == expected.closed)
        #expect(json["ports"] as? [String] == expected.ports)
        #expect(result.status == (expected.opened.isEmpty && expected.closed.isEmpty ? 0 : 1), "\(result.errors)")
    }

    /// The steps are not all no-ops: the comparison above has something to compare.
    @Test func someStepsOpenAndSomeClose() {
        let differences = Self.changes.map(Self.matrixDifference)
        #expect(differences.contains { !$0.opened.isEmpty })
        #expect(differences.contains { !$0.closed.isEmpty })
    }

    @Test func textNamesThePairsAndThePolicies() throws {
        let result = try CLIRunner.run(["diff", "--before", "examples/lab", "--after", "examples/lab", "--after", "examples/diff/web-reads-db.yaml"])
        #expect(result.status == 1, "\(result.errors)")
        #expect(result.output == """
            opened TCP/5432: 2 connections
              because source egress: denied (isolated by shop/default-deny, shop/web-to-api) before, allowed by shop/web-to-db spec.egress[0] after; destination ingress: denied (isolated by shop/db-from-api, shop/default-deny) before, allowed by shop/db-from-web spec.ingress[0] after
                shop/web-1 -> shop/db
                shop/web-2 -> shop/db
            2 connections opened, 0 closed on TCP/5432, TCP/8080, TCP/9000

            """)
    }

    @Test func noChangeExitsZero() throws {
        let result = try CLIRunner.run(["diff", "--before", "examples/lab", "--after", "examples/lab/shop.yaml"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output == "No connection between the pods on both sides opened or closed on TCP/5432, TCP/8080, TCP/9000\n")
    }

    @Test func podsOnOneSideAreListedApart() throws {
        let result = try CLIRunner.run(["diff", "--before", "examples/lab", "--after", "examples/three-tier", "-o", "json"])
        #expect(result.status == 1, "\(result.errors)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(json["removedPods"] as? [String] == ["clients/client", "shop/web-1", "shop/web-2"])
        #expect((json["addedPods"] as? [String])?.contains("shop/web") == true)
        #expect((json["opened"] as? [Any])?.isEmpty == true)
        #expect((json["closed"] as? [Any])?.isEmpty == true)
    }

    /// Before is the live cluster, after the live cluster with the files laid
    /// over it: the same answer as the files alone, from one list per kind.
    @Test func liveClusterWithProposedFiles() async throws {
        try await LiveCluster.with("examples/lab") { cluster in
            let live = try cluster.run(["diff", "--kubeconfig", cluster.kubeconfig, "--after", "examples/diff/web-reads-db.yaml", "-o", "json"])
            let files = try CLIRunner.run(["diff", "--before", "examples/lab", "--after", "examples/lab", "--after", "examples/diff/web-reads-db.yaml", "-o", "json"])
            #expect(live.status == 1, "\(live.errors)")
            #expect(live.output == files.output)
            #expect(live.output.contains(#"{"from":"shop/web-2","to":"shop/db","protocol":"TCP","port":5432,"#))
            #expect(cluster.server.requests.filter { !$0.contains("watch") }.count == 5, "one list per kind")
        }
    }

    @Test(arguments: [
        (["diff", "--after", "examples/lab"], "Missing input: give the cluster before the change with --before PATH, or read a live cluster"),
        (["diff", "--before", "examples/lab"], "Missing input: give the cluster after the change with --after PATH."),
        (["diff", "--before", "-", "--after", "-"], "Standard input (-) can be read only once."),
        (["diff", "--before", "examples/lab", "--after", "examples/lab", "--port", "icmp/1"], "The value 'icmp/1' is invalid for '--port <port>'"),
        (["diff", "--before", "examples/lab", "--after", "examples/invalid/ports.yaml"], "netpol: the input has problems"),
    ])
    func badInputExitsTwo(_ arguments: [String], _ message: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.errors.contains(message), "\(result.errors)")
    }

    /// The pairs of a JSON list as `from to PROTOCOL/port` lines.
    private static func pairs(_ list: Any?) -> Set<String> {
        Set((list as? [[String: Any]] ?? []).map { "\($0["from"] ?? "") \($0["to"] ?? "") \($0["protocol"] ?? "")/\($0["port"] ?? "")" })
    }

    /// Cell by cell, the engine's matrices before and after on every declared
    /// port, for the pods on both sides.
    private static func matrixDifference(_ change: Change) -> (opened: Set<String>, closed: Set<String>, ports: [String]) {
        let declared = [change.before, change.after].flatMap { $0.pods.values.flatMap { $0.spec.containers.flatMap(\.ports) } }
        let ports = Set(declared.map { "\($0.protocol.rawValue)/\($0.containerPort)" }).sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        let before = Engine(snapshot: change.before.snapshot), after = Engine(snapshot: change.after.snapshot)
        var opened: Set<String> = [], closed: Set<String> = []
        for port in ports {
            let parts = port.split(separator: "/")
            let proto = PortProtocol(rawValue: String(parts[0])), number = IntOrString.int(Int(parts[1]) ?? 0)
            let old = before.matrix(port: number, protocol: proto), new = after.matrix(port: number, protocol: proto)
            let newPositions = Dictionary(uniqueKeysWithValues: new.pods.enumerated().map { ($1, $0) })
            for (row, source) in old.pods.enumerated() {
                for (column, destination) in old.pods.enumerated() {
                    guard let newRow = newPositions[source], let newColumn = newPositions[destination] else { continue }
                    let was = old.allowed[row][column], now = new.allowed[newRow][newColumn]
                    let pair = "\(source) \(destination) \(port)"
                    if !was && now { opened.insert(pair) }
                    if was && !now { closed.insert(pair) }
                }
            }
        }
        return (opened, closed, ports)
    }
}

/// A temporary directory for a test's manifests, removed when the test ends.
final class ScratchFiles {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netpol-diff-\(getpid())-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `cluster` as YAML manifests; returns the file's path.
    func write(_ name: String, _ cluster: Cluster) throws -> String {
        let objects = cluster.namespaces.values.map(KubeObject.namespace) + cluster.pods.values.map(KubeObject.pod)
            + cluster.policies.values.map(KubeObject.networkPolicy)
        return try write(name, ManifestWriter.yaml(objects))
    }

    func write(_ name: String, _ text: String) throws -> String {
        let file = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }
}
