import NetpolLint
import Testing

@Suite("lint: rules and ports")
struct RuleCheckTests {
    @Test func ipBlockWhoseExceptsCoverItsCIDR() throws {
        let block = { (except: String) in policy("shop", "p", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 203.0.113.0/24, except: \(except)}}]}]}") }
        #expect(try found(.emptyIPBlock, block("[203.0.113.0/25, 203.0.113.128/25]")) == ["NP006 p spec.egress[0].to[0].ipBlock.except"])
        #expect(try found(.emptyIPBlock, block("[203.0.113.0/25, 203.0.113.128/26, 203.0.113.192/26]")) == ["NP006 p spec.egress[0].to[0].ipBlock.except"])
        #expect(try found(.emptyIPBlock, block("[203.0.113.0/25]")) == [])
    }

    @Test func ipBlockThatCoversPods() throws {
        let block = { (cidr: String, except: String) in
            policy("shop", "p", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: \(cidr), except: \(except)}}]}]}")
        }
        let findings = try lint(documents(shopPods, block("10.244.2.0/24", "[]"))).filter { $0.code == .ipBlockCoversPods }
        #expect(findings.map(\.field.description) == ["spec.egress[0].to[0].ipBlock.cidr"])
        #expect(findings.first?.message.hasPrefix("covers the addresses of pods shop/api (10.244.2.20), shop/db (10.244.2.30):") == true)
        // "Anywhere" says what it means; excepting the pods' range, or a range without pods, is fine.
        #expect(try found(.ipBlockCoversPods, documents(shopPods, block("0.0.0.0/0", "[]"))) == [])
        #expect(try found(.ipBlockCoversPods, documents(shopPods, block("10.0.0.0/8", "[10.244.0.0/16]"))) == [])
        #expect(try found(.ipBlockCoversPods, documents(shopPods, block("203.0.113.0/24", "[]"))) == [])
        // Internet-only meant, pod range forgotten.
        #expect(try found(.ipBlockCoversPods, documents(shopPods, block("0.0.0.0/0", "[192.168.0.0/16]"))).count == 1)
    }

    @Test func namedPortNoDestinationDeclares() throws {
        let ingress = policy("shop", "in", "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: http}, {port: https}]}]}")
        #expect(try found(.undeclaredNamedPort, documents(shopPods, ingress)) == ["NP007 in spec.ingress[0].ports[1].port"])
        let egress = policy("shop", "out", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: api}, {port: http}]}]}")
        #expect(try found(.undeclaredNamedPort, documents(shopPods, egress)) == ["NP007 out spec.egress[0].ports[1].port"])
        // Declared, but on another protocol: the message says so.
        let dns = policy("shop", "dns", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{port: dns}]}]}")
        let finding = try #require(try lint(documents(shopPods, dns)).first { $0.code == .undeclaredNamedPort })
        #expect(finding.message.hasSuffix("kube-system/coredns declares it on UDP"))
        // Without the destination pods in the input, nothing is said.
        #expect(try found(.undeclaredNamedPort, ingress) == [])
    }

    @Test func dnsPortWithoutUDP() throws {
        let ports = { (ports: String) in policy("shop", "p", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: \(ports)}]}") }
        #expect(try found(.dnsPortWithoutUDP, ports("[{port: 53}]")) == ["NP012 p spec.egress[0].ports[0]"])
        #expect(try found(.dnsPortWithoutUDP, ports("[{port: 50, endPort: 60}]")) == ["NP012 p spec.egress[0].ports[0]"])
        #expect(try found(.dnsPortWithoutUDP, ports("[{port: 53}, {port: 53, protocol: UDP}]")) == [])
        #expect(try found(.dnsPortWithoutUDP, ports("[{port: 53, protocol: TCP}]")) == [])
        #expect(try found(.dnsPortWithoutUDP, ports("[{port: 5353}]")) == [])
    }

    @Test func policyTypesAbsentWithEgressRulesOnly() throws {
        let egressOnly = policy("shop", "p", "{podSelector: {}, egress: [{ports: [{port: 443}]}]}")
        #expect(try found(.implicitIngressIsolation, egressOnly) == ["NP013 p spec.policyTypes"])
        let explicit = policy("shop", "p", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 443}]}]}")
        #expect(try found(.implicitIngressIsolation, explicit) == [])
        let both = policy("shop", "p", "{podSelector: {}, ingress: [{}], egress: [{ports: [{port: 443}]}]}")
        #expect(try found(.implicitIngressIsolation, both) == [])
    }

    @Test func rulesOfADirectionPolicyTypesLeavesOut() throws {
        let ignored = policy("shop", "p", "{podSelector: {}, policyTypes: [Ingress], ingress: [{}], egress: [{ports: [{port: 443}]}]}")
        #expect(try found(.ignoredRules, ignored) == ["NP014 p spec.egress"])
        let listed = policy("shop", "p", "{podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{ports: [{port: 443}]}]}")
        #expect(try found(.ignoredRules, listed) == [])
    }
}
