import Foundation
import Testing

@Suite("netpol-bench, run as a user runs it")
struct BenchCommandTests {
    @Test func helpNamesTheExecutableAndItsModes() throws {
        let result = try CLIRunner.run(["--help"], executable: CLIRunner.benchBinary)
        #expect(result.status == 0)
        #expect(result.output.contains("USAGE: netpol-bench [--size <size>]"))
        for option in ["--datapath", "--agent", "--changes", "--burst", "--netpol", "--runs"] { #expect(result.output.contains(option)) }
    }

    @Test func unknownSizeIsAUsageError() throws {
        let result = try CLIRunner.run(["--size", "XXL"], executable: CLIRunner.benchBinary)
        #expect(result.status == 64)
        #expect(result.errors.contains("--size must be S, M, L or XL."))
        #expect(result.output == "")
    }

    @Test func agentBenchmarkNeedsTheNetpolBinary() throws {
        let result = try CLIRunner.run(["--agent", "--netpol", "/nonexistent/netpol"], executable: CLIRunner.benchBinary)
        #expect(result.status == 64)
        #expect(result.errors.contains("no netpol binary at /nonexistent/netpol"))
        #expect(result.output == "")
    }

    @Test func netpolNoLongerBenchmarks() throws {
        let help = try CLIRunner.run(["--help"])
        #expect(help.status == 0)
        #expect(!help.outputLines.contains { $0.hasPrefix("  bench ") }, "no bench subcommand")
        let result = try CLIRunner.run(["bench"])
        #expect(result.status == 2)
        #expect(result.errors.contains("Unexpected argument 'bench'"))
    }
}

/// The agent benchmark end to end on the smallest cluster: the built `netpol`
/// agent as a child process, a burst that must end with the kernel holding the
/// final cluster's rules (the benchmark reads the table back and fails
/// otherwise), and every figure in the JSON output.
@Suite("netpol-bench --agent on the kernel", .enabled(if: getuid() == 0, "needs root to create a network namespace (CI runs as root)"))
struct AgentBenchCommandTests {
    @Test func measuresTheAgentProcessAtSizeS() throws {
        let result = try CLIRunner.run(
            ["--agent", "--size", "S", "--changes", "10", "--burst", "100", "--output", "json"], executable: CLIRunner.benchBinary)
        #expect(result.status == 0, "\(result.errors)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(json["size"] as? String == "S")
        #expect(json["benchmark"] as? String == "agent")
        let rows = try #require(json["results"] as? [[String: Any]])
        let figures = Dictionary(rows.compactMap { row in (row["name"] as? String).map { ($0, row["value"] as? Double ?? -1) } }) { $1 }
        #expect(figures["burst: changes written"] == 100)
        #expect(figures["burst: of which pods relabelled"] == 90)
        #expect(figures["burst: of which pods added"] == 5)
        #expect(figures["burst: of which pods deleted"] == 5)
        #expect((figures["burst: the agent's syncs"] ?? 0) >= 1)
        #expect((figures["burst: first write to last"] ?? 0) >= 900, "100 changes paced over one second")
        #expect((figures["burst: first write to final state in the kernel"] ?? 0) >= (figures["burst: first write to last"] ?? .infinity))
        #expect((figures["start to ready (first full apply done)"] ?? 0) > (figures["start: every kind listed"] ?? .infinity))
        #expect((figures["agent peak memory at the end (VmHWM)"] ?? 0) >= (figures["agent peak memory at ready (VmHWM)"] ?? .infinity))
        #expect((figures["agent peak memory at ready (VmHWM)"] ?? 0) > 1)
        #expect(figures["event to kernel, all 10 changes: median"] != nil)
        #expect(figures["agent CPU per single change"] != nil)
    }
}

/// `netpol` is the product, the binary the DaemonSet image ships: it must not
/// link test support (NetpolTesting: the fake API server, the test certificates)
/// nor the benchmarks, which use it. A linked Swift module leaves its name in
/// the binary's symbols and type metadata, so the bytes tell.
@Suite("What the netpol binary carries")
struct ProductContentsTests {
    private static let testCode = ["NetpolTesting", "FakeAPIServer", "TestCertificates", "NetpolBench"]

    private static func names(_ names: [String], foundIn binary: URL) throws -> [String] {
        let bytes = try Data(contentsOf: binary, options: .alwaysMapped)
        return names.filter { bytes.range(of: Data($0.utf8)) != nil }
    }

    @Test func netpolLinksNoTestCode() throws {
        #expect(try Self.names(Self.testCode, foundIn: CLIRunner.binary) == [])
    }

    /// The same search finds the names where they are linked, so the test above can fail.
    @Test func netpolBenchLinksIt() throws {
        #expect(try Self.names(Self.testCode, foundIn: CLIRunner.benchBinary) == Self.testCode)
    }
}
