import NetpolLint
import Testing

@Suite("lint: isolation")
struct IsolationCheckTests {
    let defaultDeny = policy("shop", "default-deny", "{podSelector: {}, policyTypes: [Ingress, Egress]}")
    let allowDNS = policy("shop", "allow-dns", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}]}")

    @Test func allowAllBesideDefaultDeny() throws {
        let openWeb = policy("shop", "open-web", "{podSelector: {matchLabels: {app: web}}, ingress: [{}]}")
        let findings = try lint(documents(shopPods, defaultDeny, allowDNS, openWeb)).filter { $0.code == .allowAllCancelsDefaultDeny }
        #expect(findings.map { "\($0.object.name) \($0.field)" } == ["open-web spec.ingress[0]"])
        #expect(findings.first?.message.hasSuffix("default deny shop/default-deny denies the pods it selects (shop/web) nothing") == true)
        // Without a default deny it is the allow-all idiom; with ports it is a rule.
        #expect(try found(.allowAllCancelsDefaultDeny, documents(shopPods, openWeb)) == [])
        let webPort = policy("shop", "web-port", "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: http}]}]}")
        #expect(try found(.allowAllCancelsDefaultDeny, documents(shopPods, defaultDeny, webPort)) == [])
    }

    @Test func egressIsolationWithoutDNS() throws {
        let findings = try lint(documents(shopPods, defaultDeny)).filter { $0.code == .egressWithoutDNS }
        #expect(findings.map { "\($0.object.name) \($0.field)" } == ["default-deny spec.policyTypes"])
        #expect(findings.first?.message.contains("isolates 3 pod(s) for egress (shop/api, shop/db, shop/web)") == true)
        #expect(try found(.egressWithoutDNS, documents(shopPods, defaultDeny, allowDNS)) == [])
        // DNS by a port name the DNS pods declare as 53.
        let namedDNS = policy("shop", "named-dns", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: dns, protocol: UDP}]}]}")
        #expect(try found(.egressWithoutDNS, documents(shopPods, defaultDeny, namedDNS)) == [])
        // DNS for some pods only: the others are named.
        let webDNS = policy("shop", "web-dns", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: UDP}]}]}")
        let partial = try lint(documents(shopPods, defaultDeny, webDNS)).filter { $0.code == .egressWithoutDNS }
        #expect(partial.first?.message.contains("(shop/api, shop/db)") == true)
    }

    @Test func egressIsolationWithoutDNSJudgedBySelectorsWithoutPods() throws {
        #expect(try found(.egressWithoutDNS, defaultDeny) == ["NP011 default-deny spec.policyTypes"])
        #expect(try found(.egressWithoutDNS, documents(defaultDeny, allowDNS)) == [])
        // DNS for the frontend only does not cover a policy selecting every pod.
        let webDNS = policy("shop", "web-dns", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: UDP}]}]}")
        #expect(try found(.egressWithoutDNS, documents(defaultDeny, webDNS)) == ["NP011 default-deny spec.policyTypes"])
    }
}
