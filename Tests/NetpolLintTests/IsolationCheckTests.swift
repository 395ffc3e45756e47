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
        #expect(findings.first?.message.hasPrefix("3 pod(s) isolated for egress by this policy (shop/api, shop/db, shop/web) may not reach port 53") == true)
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

@Suite("lint: one-sided rules")
struct OneSidedRuleTests {
    let denyIngress = policy("shop", "deny-ingress", "{podSelector: {}, policyTypes: [Ingress]}")
    let webToApi = policy("shop", "web-to-api", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: api}]}]}")

    @Test func egressToPodsThatAdmitNothing() throws {
        let findings = try lint(documents(shopPods, denyIngress, webToApi)).filter { $0.code == .oneSidedRule }
        #expect(findings.map { "\($0.object.name) \($0.field)" } == ["web-to-api spec.egress[0]"])
        #expect(findings.first?.message.hasPrefix("its destinations (shop/api) are isolated for ingress") == true)
        // The other half: api admits web on its port.
        let apiFromWeb = policy("shop", "api-from-web", "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 9000}]}]}")
        #expect(try found(.oneSidedRule, documents(shopPods, denyIngress, webToApi, apiFromWeb)) == [])
        // Admitted on another port only: both halves are one-sided.
        let otherPort = policy("shop", "api-from-web", "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 9001}]}]}")
        #expect(try found(.oneSidedRule, documents(shopPods, denyIngress, webToApi, otherPort)) == ["NP017 api-from-web spec.ingress[0]", "NP017 web-to-api spec.egress[0]"])
        // A pod alone with itself is no connection to judge.
        let selfOnly = policy("shop", "web-self", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 80}]}]}")
        #expect(try found(.oneSidedRule, documents(shopPods, denyIngress, selfOnly)) == [])
        // Destinations not isolated for ingress.
        #expect(try found(.oneSidedRule, documents(shopPods, webToApi)) == [])
    }

    @Test func ingressFromPodsThatMaySendNothing() throws {
        let denyEgress = policy("shop", "deny-egress", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: UDP}]}]}")
        let dbFromApi = policy("shop", "db-from-api", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]}")
        #expect(try found(.oneSidedRule, documents(shopPods, denyEgress, dbFromApi)) == ["NP017 db-from-api spec.ingress[0]"])
        let apiToDb = policy("shop", "api-to-db", "{podSelector: {matchLabels: {app: api}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: postgres}]}]}")
        #expect(try found(.oneSidedRule, documents(shopPods, denyEgress, dbFromApi, apiToDb)) == [])
        // A port range is not judged.
        let range = policy("shop", "db-range", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432, endPort: 5433}]}]}")
        #expect(try found(.oneSidedRule, documents(shopPods, denyEgress, range)) == [])
    }
}
