import NetpolLint
import Testing

@Suite("lint: redundant policies")
struct RedundancyTests {
    let broad = policy("shop", "broad", """
        {podSelector: {matchExpressions: [{key: tier, operator: In, values: [frontend, backend]}]},
         ingress: [{from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: 8000, endPort: 9000}, {port: http}]}]}
        """)

    @Test func aPolicyWithinAnother() throws {
        let narrow = policy("shop", "narrow", """
            {podSelector: {matchLabels: {tier: frontend, app: web}},
             ingress: [{from: [{podSelector: {matchLabels: {app: api}}}, {ipBlock: {cidr: 10.1.0.0/16, except: [10.1.2.0/24]}}], ports: [{port: 8080}, {port: http, protocol: TCP}]}]}
            """)
        let findings = try lint(documents(broad, narrow)).filter { $0.code == .redundantPolicy }
        #expect(findings.map { "\($0.object.name) \($0.field)" } == ["narrow spec"])
        #expect(findings.first?.message.hasPrefix("shop/broad selects every pod") == true)
    }

    @Test func notWithinWhenItAllowsMore() throws {
        for spec in [
            // Another protocol.
            "{podSelector: {matchLabels: {tier: frontend}}, ingress: [{from: [{podSelector: {}}], ports: [{port: 8080, protocol: UDP}]}]}",
            // A port range reaching past the other's.
            "{podSelector: {matchLabels: {tier: frontend}}, ingress: [{from: [{podSelector: {}}], ports: [{port: 8500, endPort: 9500}]}]}",
            // Peers from other namespaces.
            "{podSelector: {matchLabels: {tier: frontend}}, ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 8080}]}]}",
            // Every port.
            "{podSelector: {matchLabels: {tier: frontend}}, ingress: [{from: [{podSelector: {}}]}]}",
            // Pods the other does not select.
            "{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {}}], ports: [{port: 8080}]}]}",
            // A direction the other does not isolate.
            "{podSelector: {matchLabels: {tier: frontend}}, policyTypes: [Ingress, Egress], ingress: [{from: [{podSelector: {}}], ports: [{port: 8080}]}]}",
            // Addresses outside the other's block.
            "{podSelector: {matchLabels: {tier: frontend}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}], ports: [{port: 8080}]}]}",
        ] {
            #expect(try found(.redundantPolicy, documents(broad, policy("shop", "other", spec))) == [], "\(spec)")
        }
    }

    @Test func equalPoliciesReportTheLaterName() throws {
        let spec = "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 80}]}]}"
        #expect(try found(.redundantPolicy, documents(policy("shop", "a", spec), policy("shop", "b", spec))) == ["NP008 b spec"])
        // Policies of different namespaces never make each other redundant.
        #expect(try found(.redundantPolicy, documents(policy("shop", "a", spec), policy("other", "b", spec))) == [])
    }

    @Test func aDenyWithinABroaderDeny() throws {
        let denyAll = policy("shop", "deny-all", "{podSelector: {}, policyTypes: [Ingress, Egress]}")
        let denyWeb = policy("shop", "deny-web-ingress", "{podSelector: {matchLabels: {app: web}}}")
        #expect(try found(.redundantPolicy, documents(denyAll, denyWeb)) == ["NP008 deny-web-ingress spec"])
        // The broader deny is not within the narrower one.
        #expect(try found(.redundantPolicy, documents(denyWeb, policy("shop", "deny-egress", "{podSelector: {}, policyTypes: [Egress]}"))) == [])
    }

    @Test func splitRulesAreComparedPeerByPeer() throws {
        // One rule with two peers and two ports lies within two rules of the other policy (which allows more).
        let outer = policy("shop", "outer", """
            {podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: a}}}, {podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}, {port: 8080}]},
                                       {from: [{podSelector: {matchLabels: {app: a}}}, {podSelector: {matchLabels: {app: b}}}], ports: [{port: 443}]}]}
            """)
        let inner = policy("shop", "inner", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: a}}}, {podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}, {port: 443}]}]}")
        #expect(try found(.redundantPolicy, documents(outer, inner)) == ["NP008 inner spec"])
    }
}
