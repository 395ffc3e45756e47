import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolLab
import NetpolModel
import NetpolTesting
import Synchronization
import Testing

@Suite("Lab behaviour", .enabled(if: isRoot, Comment(rawValue: rootOnly)))
struct LabBehaviourTests {
    private let x = { (pod: String) in PodID(namespace: "x", name: pod) }

    /// Probes see both outcomes: a dropped SYN times out, an allowed one connects.
    @Test func probesTellAllowedFromBlocked() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("only-b", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(from: [.pods(.labels(["pod": "b"]))])]))
        let lab = try Lab(snapshot: cluster.snapshot)
        defer { lab.teardown() }
        lab.probeTimeout = .milliseconds(500)
        #expect(try lab.probe(from: x("b"), to: x("a"), port: 80))
        #expect(try !lab.probe(from: x("c"), to: x("a"), port: 80))
        #expect(try lab.probe(from: x("b"), to: x("a"), port: 81, protocol: .udp))
        #expect(try !lab.probe(from: x("c"), to: x("a"), port: 81, protocol: .udp))
    }

    /// While rules are replaced again and again, a pair allowed before and after
    /// is never dropped, and a pair blocked before and after never gets through.
    @Test(arguments: Backend.allCases)
    func swappingRulesetsNeverOpensOrClosesAStablePair(backend: Backend) throws {
        var first = ConformanceModel.cluster(nodes: ["node-1", "node-2"])
        first.apply(networkPolicy("deny", in: "x", types: [.ingress]))
        first.apply(networkPolicy("b-to-a", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(from: [.pods(.labels(["pod": "b"]))])]))
        // The same verdicts for x/b -> x/a and x/c -> x/a, written differently, plus unrelated changes.
        var second = first
        second.delete(policy: "b-to-a", in: "x")
        second.apply(networkPolicy("b-or-y-to-a", in: "x", selecting: .expression("pod", .in, ["a"]),
                                   ingress: [.init(ports: [.range(1, 65535)], from: [.pods(.labels(["pod": "b"]), inNamespaces: .labels(["ns": "x"])), .namespaces(.labels(["ns": "y"]))])]))
        second.apply(networkPolicy("deny-z", in: "z", types: [.ingress, .egress]))

        let lab = try Lab(snapshot: first.snapshot, backend: backend, iptablesMode: .nft)
        defer { lab.teardown() }
        lab.probeTimeout = .milliseconds(300)
        let watch = StablePairWatch(lab: lab, pairs: [
            .init(from: x("b"), to: x("a"), port: 80, allowed: true),
            .init(from: x("c"), to: x("a"), port: 80, allowed: false),
        ])
        // At least 30 replacements, and on until the probe loop has run 20 probes
        // (a loaded machine probes slowly), within 400 rounds and 30 seconds.
        let deadline = Date().addingTimeInterval(30)
        for round in 0..<400 {
            let outcomes = try lab.program(round.isMultiple(of: 2) ? second.snapshot : first.snapshot)
            #expect(outcomes.allSatisfy { $0.fallback == nil }, "a swap fell back to a whole replace")
            Thread.sleep(forTimeInterval: 0.05)
            if round >= 29, watch.probes >= 20 || Date() > deadline { break }
        }
        let probes = watch.probes
        #expect(watch.stop() == [])
        #expect(probes >= 10, "the probe loop should have run throughout")
    }

    @Test func teardownRemovesEveryNamespace() throws {
        let lab = try Lab(snapshot: ConformanceModel.cluster(nodes: ["node-1", "node-2"]).snapshot)
        let exists = { (name: String) in FileManager.default.fileExists(atPath: "/var/run/netns/\(name)") }
        #expect(lab.namespaces.count == 9 + 2 + 1)
        #expect(lab.namespaces.allSatisfy(exists))
        lab.teardown()
        lab.teardown()
        #expect(!lab.namespaces.contains(where: exists))
    }

    @Test func orphansOfDeadProcessesAreRemoved() throws {
        // A pid that does not exist: above the kernel's pid_max.
        let orphan = "netpol-lab-4194305-1-n0"
        let host = ProcessRunner()
        try host.check(Command("ip", ["netns", "add", orphan]))
        defer { _ = try? host.run(Command("ip", ["netns", "delete", orphan])) }
        let lab = try Lab(snapshot: ConformanceModel.cluster().snapshot)
        lab.teardown()
        #expect(!FileManager.default.fileExists(atPath: "/var/run/netns/\(orphan)"))
    }

    @Test func sctpIsReportedAsUnsupported() throws {
        let lab = try Lab(snapshot: ConformanceModel.cluster().snapshot)
        defer { lab.teardown() }
        #expect(throws: LabError.self) { try lab.run(port: .int(80), protocol: .sctp) }
    }
}
