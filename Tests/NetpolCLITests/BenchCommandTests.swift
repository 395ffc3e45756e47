import Foundation
import Testing

@Suite("netpol-bench, run as a user runs it")
struct BenchCommandTests {
    @Test func helpNamesTheExecutableAndItsModes() throws {
        let result = try CLIRunner.run(["--help"], executable: CLIRunner.benchBinary)
        #expect(result.status == 0)
        #expect(result.output.contains("USAGE: netpol-bench [--size <size>]"))
        for option in ["--datapath", "--agent", "--changes", "--runs"] { #expect(result.output.contains(option)) }
    }

    @Test func unknownSizeIsAUsageError() throws {
        let result = try CLIRunner.run(["--size", "XXL"], executable: CLIRunner.benchBinary)
        #expect(result.status == 64)
        #expect(result.errors.contains("--size must be S, M, L or XL."))
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
