import Foundation
import Testing

@Suite("netpol matrix and netpol explain, run as a user runs them")
struct ExplainMatrixCommandTests {
    @Test func matrixJSONContract() throws {
        let result = try CLIRunner.run(["matrix", "-f", "examples/three-tier", "--port", "api", "-o", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["protocol"] as? String == "TCP")
        #expect(object["port"] as? String == "api")
        let pods = try #require(object["pods"] as? [String])
        #expect(pods == ["ingress-nginx/controller", "kube-system/coredns", "monitoring/prometheus", "shop/api", "shop/db", "shop/web"])
        let allowed = try #require(object["allowed"] as? [[Bool]])
        // Only shop/web may reach shop/api on its named port "api"; everyone reaches itself.
        for (i, source) in pods.enumerated() {
            for (j, destination) in pods.enumerated() {
                #expect(allowed[i][j] == (i == j || (source == "shop/web" && destination == "shop/api")), "\(source) -> \(destination)")
            }
        }
    }

    @Test func matrixTable() throws {
        let result = try CLIRunner.run(["matrix", "-f", "examples/three-tier", "--port", "53", "--protocol", "udp"])
        #expect(result.status == 0)
        #expect(result.output == """
            UDP/53: rows connect to columns; . allowed, X blocked
            -                        ingress-nginx/controller kube-system/coredns monitoring/prometheus shop/api shop/db shop/web
            ingress-nginx/controller .                        .                   .                     X        X       X
            kube-system/coredns      .                        .                   .                     X        X       X
            monitoring/prometheus    .                        .                   .                     X        X       X
            shop/api                 X                        .                   X                     .        X       X
            shop/db                  X                        .                   X                     X        .       X
            shop/web                 X                        .                   X                     X        X       .

            """)
    }

    @Test func explainText() throws {
        let result = try CLIRunner.run(["explain", "-f", "examples/three-tier", "--from", "shop/web", "--to", "shop/db", "--port", "postgres"])
        #expect(result.status == 0)
        #expect(result.output == """
            shop/web -> shop/db, TCP port postgres (5432) over IPv4: DENIED
            Egress from shop/web: DENIED
              isolated by: shop/allow-dns, shop/default-deny, shop/web-to-api
              shop/allow-dns spec.egress[0]: no to entry matches shop/db, and no ports entry matches TCP/postgres
              shop/default-deny has no egress rules: it only denies
              shop/web-to-api spec.egress[0]: no to entry matches shop/db, and no ports entry matches TCP/postgres
            Ingress to shop/db: DENIED
              isolated by: shop/db-from-api, shop/default-deny
              shop/db-from-api spec.ingress[0]: no from entry matches shop/web (the port would match: ports[0])
              shop/default-deny has no ingress rules: it only denies

            """)
    }

    @Test func explainJSON() throws {
        let result = try CLIRunner.run(["explain", "-f", "examples/three-tier", "--from", "10.244.2.20", "--to", "203.0.113.10", "--port", "443", "-o", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["from"] as? String == "shop/api")
        #expect(object["allowed"] as? Bool == true)
        let egress = try #require(object["egress"] as? [String: Any])
        #expect(egress["outcome"] as? String == "allowed")
        let rules = try #require(egress["rules"] as? [[String: Any]])
        let allowing = rules.filter { $0["allows"] as? Bool == true }
        #expect(allowing.count == 1)
        #expect(allowing.first?["policy"] as? String == "shop/api-egress")
        #expect(allowing.first?["rule"] as? String == "spec.egress[1]")
        #expect(allowing.first?["peer"] as? String == "to[0]")
    }

    @Test func explainAddsAnAuditBlockWhenAuditedPoliciesWouldChangeTheVerdict() throws {
        let result = try CLIRunner.run(["explain", "-f", "examples/audit", "--from", "shop/db", "--to", "shop/web", "--port", "http"])
        #expect(result.status == 0)
        #expect(result.output == """
            shop/db -> shop/web, TCP port http (8080) over IPv4: ALLOWED
            Egress from shop/db: not isolated (no NetworkPolicy in shop selects it for egress)
            Ingress to shop/web: not isolated (no NetworkPolicy in shop selects it for ingress)
            audit: DENIED if the audited policies were enforced, decided by shop/default-deny
              Ingress to shop/web: DENIED
                isolated by: shop/default-deny (audited)
                shop/default-deny has no ingress rules: it only denies

            """)
        let unchanged = try CLIRunner.run(["explain", "-f", "examples/audit", "--from", "shop/web", "--to", "shop/db", "--port", "postgres"])
        #expect(!unchanged.output.contains("audit"), "allowed either way: \(unchanged.output)")
    }

    @Test func explainJSONHasAnAuditObjectOnlyWhenTheVerdictWouldChange() throws {
        let result = try CLIRunner.run(["explain", "-f", "examples/audit", "--from", "shop/db", "--to", "shop/web", "--port", "http", "-o", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["allowed"] as? Bool == true)
        let audit = try #require(object["audit"] as? [String: Any])
        #expect(audit["allowed"] as? Bool == false)
        #expect(audit["policies"] as? [String] == ["shop/default-deny"])
        let ingress = try #require(audit["ingress"] as? [String: Any])
        #expect(ingress["outcome"] as? String == "denied")
        #expect(ingress["isolatingPolicies"] as? [String] == ["shop/default-deny"])

        let unchanged = try CLIRunner.run(["explain", "-f", "examples/audit", "--from", "shop/web", "--to", "shop/db", "--port", "postgres", "-o", "json"])
        let plain = try #require(try JSONSerialization.jsonObject(with: Data(unchanged.output.utf8)) as? [String: Any])
        #expect(plain["audit"] == nil)
    }

    @Test func matrixMarksAndListsTheCellsAuditedPoliciesWouldChange() throws {
        let result = try CLIRunner.run(["matrix", "-f", "examples/audit", "--port", "5432"])
        #expect(result.status == 0)
        #expect(result.output == """
            TCP/5432: rows connect to columns; . allowed, X blocked, * audited policies would change it (listed below)
            -        shop/db shop/web
            shop/db  .       .*
            shop/web .       .

            Audited policies would change 1 connection:
              shop/db -> shop/web: allowed, would be blocked by shop/default-deny

            """)
    }

    @Test func matrixJSONListsTheCellsAuditedPoliciesWouldChange() throws {
        let audited = try CLIRunner.run(["matrix", "-f", "examples/audit", "--port", "5432", "-o", "json"])
        #expect(audited.output == #"{"protocol":"TCP","port":"5432","pods":["shop/db","shop/web"],"allowed":[[true,true],[true,true]],"#
            + #""audit":[{"from":"shop/db","to":"shop/web","allowed":true,"wouldBeAllowed":false,"policies":["shop/default-deny"]}]}"# + "\n")
        let plain = try CLIRunner.run(["matrix", "-f", "examples/three-tier", "--port", "api", "-o", "json"])
        #expect(!plain.output.contains("audit"), "no audited policy, no audit key")
    }

    /// Every `-o json` prints one compact line, as JSONEncoder writes it unformatted.
    @Test(arguments: [
        ["matrix", "-f", "examples/three-tier", "--port", "api", "-o", "json"],
        ["explain", "-f", "examples/three-tier", "--from", "shop/web", "--to", "shop/db", "--port", "postgres", "-o", "json"],
    ])
    func jsonIsOneCompactLine(arguments: [String]) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 0)
        #expect(result.outputLines.count == 1 && result.output.hasSuffix("}\n"), "\(result.output)")
        #expect(!result.output.contains("\": ") && !result.output.contains(", "), "\(result.output)")
        #expect(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) is [String: Any])
    }

    @Test(arguments: [
        (["explain", "-f", "examples/three-tier", "--from", "shop/nope", "--to", "shop/db", "--port", "80"], "no pod shop/nope in the input"),
        (["explain", "-f", "examples/three-tier", "--from", "shop/web", "--to", "shop/db"], "Missing expected argument '--port <port>'"),
        (["explain", "-f", "examples/three-tier", "--from", "shop/web", "--to", "db", "--port", "80"], "db is neither NAMESPACE/POD nor an IP address"),
        (["matrix", "-f", "examples/three-tier", "--port", "70000"], "The value '70000' is invalid for '--port <port>': a port number must be from 1 to 65535"),
        (["explain", "-f", "examples/three-tier", "--from", "shop/web", "--to", "shop/db", "--port", "0"], "a port number must be from 1 to 65535"),
        (["matrix", "-f", "examples/three-tier", "--port", "a-very-long-port-name"], "a port name has 1 to 15 characters"),
        (["gen", "--pods", "-5"], "--pods must be a count of 0 or more, not -5."),
        (["gen", "--namespaces", "0"], "--namespaces must be a count of 1 or more, not 0."),
        (["matrix", "-f", "examples/three-tier", "--protocol", "icmp"], "The value 'icmp' is invalid for '--protocol <protocol>'"),
        (["matrix", "-f", "examples/invalid/ports.yaml"], "netpol: the input has problems"),
    ])
    func badUsageExitsTwo(arguments: [String], message: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.errors.contains(message), "stderr: \(result.errors)")
    }
}
