import NetpolLint
import Testing

@Suite("lint: selectors")
struct SelectorCheckTests {
    @Test func podSelectorThatSelectsNothing() throws {
        let ghost = policy("shop", "ghost", "{podSelector: {matchLabels: {app: wbe}}, ingress: [{}]}")
        let web = policy("shop", "web", "{podSelector: {matchLabels: {app: web}}, ingress: [{}]}")
        let findings = try lint(documents(shopPods, ghost, web)).filter { $0.code == .podSelectorSelectsNothing }
        #expect(findings.map(\.object.name) == ["ghost"])
        #expect(findings.first?.field.description == "spec.podSelector")
        #expect(findings.first?.location == "t.yaml:7")
        #expect(findings.first?.severity == .warning)
        // Without pods of the namespace in the input, nothing is said.
        #expect(try found(.podSelectorSelectsNothing, ghost) == [])
    }

    @Test func podSelectorOfHostNetworkPodsOnly() throws {
        let node = pod("shop", "agent", labels: "{app: agent}", ip: "192.168.0.5", hostNetwork: true)
        let findings = try lint(documents(shopPods, node, policy("shop", "p", "{podSelector: {matchLabels: {app: agent}}}")))
        #expect(findings.first { $0.code == .podSelectorSelectsNothing }?.message.contains("host-network pods (shop/agent)") == true)
    }

    @Test func namespaceSelectorThatSelectsNothing() throws {
        let peer = { (labels: String) in policy("shop", "p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: \(labels)}}]}]}") }
        #expect(try found(.namespaceSelectorSelectsNothing, documents(shopPods, peer("{team: nobody}"))) == ["NP002 p spec.ingress[0].from[0].namespaceSelector"])
        #expect(try found(.namespaceSelectorSelectsNothing, documents(shopPods, peer("{team: shop}"))) == [])
        // Without Namespace objects, namespace labels are unknown.
        #expect(try found(.namespaceSelectorSelectsNothing, peer("{team: nobody}")) == [])
    }

    @Test func peerPodSelectorThatSelectsNothing() throws {
        let peer = { (labels: String) in policy("shop", "p", "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: \(labels)}}]}]}") }
        #expect(try found(.peerSelectsNoPod, documents(shopPods, peer("{tier: fronted}"))) == ["NP003 p spec.ingress[0].from[0].podSelector"])
        #expect(try found(.peerSelectsNoPod, documents(shopPods, peer("{tier: frontend}"))) == [])
        // Pods in other namespaces, picked by a namespaceSelector with a podSelector.
        let elsewhere = policy("shop", "p", "{podSelector: {}, egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]}]}")
        #expect(try found(.peerSelectsNoPod, documents(shopPods, elsewhere)) == [])
    }

    @Test func selectorsNoLabelsSatisfy() throws {
        let contradiction = policy("shop", "p", """
            {podSelector: {matchLabels: {app: web}, matchExpressions: [{key: app, operator: NotIn, values: [web]}]},
             ingress: [{from: [{podSelector: {matchExpressions: [{key: tier, operator: Exists}, {key: tier, operator: DoesNotExist}]}}]}]}
            """)
        #expect(try found(.selectorContradicts, contradiction) == ["NP004 p spec.podSelector", "NP004 p spec.ingress[0].from[0].podSelector"].sorted())
        let fine = policy("shop", "p", "{podSelector: {matchLabels: {app: web}, matchExpressions: [{key: app, operator: In, values: [web, api]}]}}")
        #expect(try found(.selectorContradicts, fine) == [])
    }

    @Test func namespaceSelectedByNameLabel() throws {
        let byName = policy("shop", "p", "{podSelector: {}, egress: [{to: [{namespaceSelector: {matchLabels: {name: kube-system}}}]}]}")
        #expect(try found(.namespaceNameLabel, documents(shopPods, byName)) == ["NP005 p spec.egress[0].to[0].namespaceSelector.matchLabels"])
        // The generic NP002 gives way to the precise one.
        #expect(try found(.namespaceSelectorSelectsNothing, documents(shopPods, byName)) == [])
        let labelled = documents(namespace("kube-system", labels: "{name: kube-system}"), pod("shop", "web", labels: "{}", ip: "10.0.0.1"), byName)
        #expect(try found(.namespaceNameLabel, labelled) == [])
    }

    @Test func everyNamespaceIsInfo() throws {
        let everywhere = policy("shop", "p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}]}]}")
        let findings = try lint(everywhere).filter { $0.code == .everyNamespace }
        #expect(findings.map(\.field.description) == ["spec.ingress[0].from[0].namespaceSelector"])
        #expect(findings.first?.severity == .info)
        let labelled = policy("shop", "p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}]}]}")
        #expect(try found(.everyNamespace, labelled) == [])
    }

    @Test func namespaceAndPodSelectorInTwoPeers() throws {
        let split = policy("shop", "p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}, {podSelector: {matchLabels: {app: web}}}]}]}")
        #expect(try found(.splitPeer, split) == ["NP016 p spec.ingress[0].from"])
        let together = policy("shop", "p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: web}}}]}]}")
        #expect(try found(.splitPeer, together) == [])
    }
}
