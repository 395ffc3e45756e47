import Foundation
import Testing

/// Chromium from Debian and Playwright from PyPI, which `make deps` installs.
enum Browser {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let hasPlaywright: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import playwright.sync_api"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static var isReady: Bool { chromium != nil && hasPlaywright }

    /// CI must run the browser tests: there a missing browser fails them instead of skipping them.
    static let isRequired = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs scripts/check-report.py on `page` with `arguments`; its JSON answer.
    static func check(_ page: String, _ arguments: [String]) throws -> [String: Any] {
        let chromium = try #require(chromium, "chromium is not installed (make deps installs it)")
        try #require(hasPlaywright, "Playwright for python3 is not installed (make deps installs it)")
        let script = CLIRunner.packageRoot.appendingPathComponent("scripts/check-report.py").path
        let result = try CLIRunner.run(
            ["python3", script, "--chromium", chromium, "--page", page] + arguments, executable: URL(fileURLWithPath: "/usr/bin/env"))
        try #require(result.status == 0, "check-report.py: \(result.errors)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)")
    }
}

@Suite("HTML reports in headless Chromium", .enabled(if: Browser.isReady || Browser.isRequired, "needs chromium and Playwright for python3 (make deps installs them)"))
struct ReportBrowserTests {
    static let allowedColour = "#43a047", deniedColour = "#e53935", openedColour = "#1e9e3a", closedColour = "#d32f2f"

    /// The page loads without errors, a click on a cell shows what `netpol explain`
    /// prints for it, and the screenshot has the verdicts' colours where the cells are.
    @Test func matrixPage() throws {
        let files = try ScratchFiles()
        let page = try files.write("report.html", try Self.output(["matrix", "-f", "examples/lab", "--port", "http", "-o", "html"]))
        let answer = try Browser.check(page, [
            "--click", "shop/web-1", "shop/api", "--cell", "shop/web-1", "shop/api", "--cell", "shop/web-1", "shop/db",
            "--cell", "clients/client", "shop/web-2", "--screenshot", files.directory.appendingPathComponent("report.png").path,
        ])
        #expect(answer["consoleErrors"] as? [String] == [])
        let explain = try Self.output(["explain", "-f", "examples/lab", "--from", "shop/web-1", "--to", "shop/api", "--port", "http"])
        #expect(answer["explanation"] as? String == explain.trimmingCharacters(in: .newlines))
        #expect(Self.colours(answer) == [Self.allowedColour, Self.deniedColour, Self.allowedColour])
    }

    /// Denied cells explain themselves too: every rule of the isolating policies and what missed.
    @Test(arguments: [("shop/web-1", "shop/db"), ("clients/client", "shop/api"), ("shop/db", "clients/client"), ("shop/api", "shop/api")])
    func explanationsMatchExplain(_ source: String, _ destination: String) throws {
        let files = try ScratchFiles()
        let page = try files.write("report.html", try Self.output(["matrix", "-f", "examples/lab", "--port", "http", "-o", "html"]))
        let answer = try Browser.check(page, ["--click", source, destination])
        let explain = try Self.output(["explain", "-f", "examples/lab", "--from", source, "--to", destination, "--port", "http"])
        #expect(answer["explanation"] as? String == explain.trimmingCharacters(in: .newlines))
    }

    /// With ClusterNetworkPolicies, a cell explains the tiers as `netpol explain` does:
    /// an Admin Deny and Accept, and a Baseline Deny beside a NetworkPolicy denial.
    @Test(arguments: [("shop/web-1", "shop/db", "http"), ("shop/api", "shop/db", "postgres"),
                      ("shop/web-1", "clients/client", "http"), ("clients/client", "shop/db", "http")])
    func tierExplanationsMatchExplain(_ source: String, _ destination: String, _ port: String) throws {
        let files = try ScratchFiles()
        let inputs = ["-f", "examples/lab", "-f", "examples/guardrails"]
        let page = try files.write("report.html", try Self.output(["matrix"] + inputs + ["--port", port, "-o", "html"]))
        let answer = try Browser.check(page, ["--click", source, destination])
        #expect(answer["consoleErrors"] as? [String] == [])
        let explain = try Self.output(["explain"] + inputs + ["--from", source, "--to", destination, "--port", port])
        #expect(explain.contains(" tier"))
        #expect(answer["explanation"] as? String == explain.trimmingCharacters(in: .newlines))
    }

    /// With audited policies, the cells they would change have their own
    /// colour, and a click adds the `audit:` block to the explanation.
    @Test func auditedCellsAreMarkedAndExplained() throws {
        let files = try ScratchFiles()
        let page = try files.write("report.html", try Self.output(["matrix", "-f", "examples/audit", "--port", "5432", "-o", "html"]))
        let answer = try Browser.check(page, [
            "--click", "shop/db", "shop/web", "--cell", "shop/db", "shop/web", "--cell", "shop/web", "shop/db",
            "--screenshot", files.directory.appendingPathComponent("report.png").path,
        ])
        #expect(answer["consoleErrors"] as? [String] == [])
        #expect(Self.colours(answer) == ["#fbc02d", Self.allowedColour])
        let explain = try Self.output(["explain", "-f", "examples/audit", "--from", "shop/db", "--to", "shop/web", "--port", "5432"])
        let enforced = explain.components(separatedBy: "\naudit: ")[0]
        #expect(answer["explanation"] as? String == enforced + """

            audit: DENIED if the audited policies were enforced
              Egress from shop/db: not isolated (no NetworkPolicy in shop selects it for egress)
              Ingress to shop/web: DENIED
                isolated by: shop/default-deny
                shop/default-deny has no ingress rules: it only denies
            """)
    }

    /// The filter keeps the pods whose name, namespace or labels hold every word.
    @Test func filterByLabel() throws {
        let files = try ScratchFiles()
        let page = try files.write("report.html", try Self.output(["matrix", "-f", "examples/lab", "-o", "html"]))
        let answer = try Browser.check(page, ["--filter", "tier=back"])
        #expect(answer["podCount"] as? String == "5 of 5 pods")
        #expect(answer["filteredCount"] as? String == "1 of 5 pods")
    }

    /// A diff page: the cells a change opens are green, those it closes red, and a
    /// click shows the explanation on both sides.
    @Test(arguments: [true, false])
    func diffPage(opening: Bool) throws {
        let files = try ScratchFiles()
        let changed = ["--after", "examples/lab", "--after", "examples/diff/web-reads-db.yaml"]
        let sides = opening ? ["--before", "examples/lab"] + changed : changed.map { $0 == "--after" ? "--before" : $0 } + ["--after", "examples/lab"]
        let result = try CLIRunner.run(["diff"] + sides + ["-o", "html"])
        #expect(result.status == 1, "\(result.errors)")
        let page = try files.write("diff.html", result.output)
        let answer = try Browser.check(page, [
            "--click", "shop/web-1", "shop/db", "--cell", "shop/web-1", "shop/db", "--cell", "shop/api", "shop/db",
            "--screenshot", files.directory.appendingPathComponent("diff.png").path,
        ])
        #expect(answer["consoleErrors"] as? [String] == [])
        // TCP/5432 is the first port: web-1 -> db changes, api -> db stays allowed.
        #expect(Self.colours(answer) == [opening ? Self.openedColour : Self.closedColour, "#d9d9d9"])
        let withChange = try Self.output(["explain", "-f", "examples/lab", "-f", "examples/diff/web-reads-db.yaml", "--from", "shop/web-1", "--to", "shop/db", "--port", "5432"])
        let without = try Self.output(["explain", "-f", "examples/lab", "--from", "shop/web-1", "--to", "shop/db", "--port", "5432"])
        let (before, after) = opening ? (without, withChange) : (withChange, without)
        #expect(answer["explanation"] as? String == "Before:\n\(before)\nAfter:\n\(after.trimmingCharacters(in: .newlines))")
    }

    private static func output(_ arguments: [String]) throws -> String {
        let result = try CLIRunner.run(arguments)
        try #require(result.status == 0, "\(arguments): \(result.errors)")
        return result.output
    }

    private static func colours(_ answer: [String: Any]) -> [String?] {
        (answer["cells"] as? [[String: Any]] ?? []).map { $0["colour"] as? String }
    }
}
