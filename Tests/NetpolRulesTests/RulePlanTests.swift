import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

@Suite("Rule plans")
struct RulePlanTests {
    private func plan(_ cluster: Cluster, node: String = "node-1") -> RulePlan {
        RuleCompiler.plan(node: node, snapshot: cluster.snapshot)
    }

    @Test func peersShareOneSetPerDistinctSelector() {
        var cluster = ConformanceModel.cluster()
        // Three rules in two policies, one selector written two ways: one set.
        cluster.apply(networkPolicy("a", in: "x", ingress: [
            .init(ports: [.tcp(80)], from: [.namespaces(.expression("ns", .in, ["y", "z"]))]),
            .init(ports: [.tcp(81)], from: [.namespaces(LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "ns", operator: .in, values: ["z", "y"])]))]),
        ]))
        cluster.apply(networkPolicy("b", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(from: [.namespaces(.expression("ns", .in, ["y", "z"]))])]))
        let plan = plan(cluster)
        #expect(plan.sets.map(\.origin) == ["pods {} in namespaces {ns In (y,z)}"])
        #expect(plan.sets.first?.elements.count == 6)
    }

    /// A finished pod keeps its IP in the API, and a new pod may already have
    /// it: the finished one must be in no set and bound to nothing, or the
    /// verdict map would hold one address twice.
    @Test func aFinishedPodHasNoAddressForANewPodToClashWith() {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
        cluster.apply(networkPolicy("from-x", in: "y", ingress: [.init(from: [.namespaces(.labels(["ns": "x"]))])]))
        cluster.update(pod: "a", in: "x") { $0.status.phase = "Succeeded" }
        var reuser = cluster.pods[PodKey("x", "a")]!
        reuser.metadata.name = "a-next"
        reuser.status.phase = "Running"
        cluster.pods[PodKey("x", "a-next")] = reuser
        let plan = plan(cluster)
        #expect(plan.bindings.filter { $0.address.description == ConformanceModel.ipv4("x", "a") }.map(\.pod.name) == ["a-next"])
        #expect(!Engine(snapshot: cluster.snapshot).matrixPods.contains(PodID(namespace: "x", name: "a")))
    }

    @Test func podsWithEqualRulesShareAChain() {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
        let plan = plan(cluster)
        #expect(plan.chains.count == 1)
        #expect(plan.podsByChain[plan.chains[0].name]?.map(\.description) == ["x/a", "x/b", "x/c"])
        #expect(plan.bindings.map(\.chain) == Array(repeating: plan.chains[0].name, count: 3))
    }

    @Test func namedPortsOnIngressResolvePerLocalPod() {
        var cluster = ConformanceModel.cluster()
        cluster.update(pod: "b", in: "x") { $0.spec.containers = [Container(name: "c", ports: [ContainerPort(name: "web", containerPort: 8080)])] }
        cluster.update(pod: "c", in: "x") { $0.spec.containers = [Container(name: "c", ports: [ContainerPort(name: "web", containerPort: 9090)])] }
        cluster.apply(networkPolicy("web", in: "x", ingress: [.init(ports: [.named("web")])]))
        let plan = plan(cluster)
        // x/a has no "web": its chain allows nothing; x/b and x/c get their own numbers.
        let byPod = Dictionary(uniqueKeysWithValues: plan.bindings.map { ($0.pod.description, $0.chain) })
        let rules = { (pod: String) in plan.chains.first { $0.name == byPod[pod] }?.rules.map { $0.ports?.ranges } ?? [] }
        #expect(rules("x/a") == [])
        #expect(rules("x/b") == [[8080...8080]])
        #expect(rules("x/c") == [[9090...9090]])
    }

    @Test func sizeGrowsWithSelectorsNotWithPodsTimesPolicies() {
        func cluster(podsPerNamespace: Int) -> Cluster {
            var cluster = Cluster()
            for namespace in ["x", "y"] {
                cluster.namespaces[namespace] = Namespace(metadata: ObjectMeta(name: namespace, labels: ["ns": namespace]))
                for number in 0..<podsPerNamespace {
                    let name = "p\(number)"
                    cluster.pods[PodKey(namespace, name)] = Pod(
                        metadata: ObjectMeta(name: name, namespace: namespace, labels: ["app": "web"]),
                        spec: PodSpec(nodeName: "node-1"),
                        status: PodStatus(podIP: "10.\(namespace == "x" ? 1 : 2).\(number / 250).\(number % 250 + 1)"))
                }
            }
            for number in 0..<10 {
                cluster.apply(networkPolicy("allow-\(number)", in: "x", selecting: .labels(["app": "web"]),
                                            ingress: [.init(ports: [.tcp(8000 + number)], from: [.namespaces(.labels(["ns": "y"]))])]))
            }
            return cluster
        }
        let small = plan(cluster(podsPerNamespace: 10))
        let large = plan(cluster(podsPerNamespace: 1000))
        #expect(small.sets.count == large.sets.count)
        #expect(small.chains.count == 1 && large.chains.count == 1)
        #expect(small.ruleCount == large.ruleCount)
        #expect(large.elementCount == 1000 + 1000)   // the y pods in the set, the x pods in the map
    }

    @Test func onlyLocalPodsAreBound() {
        var cluster = ConformanceModel.cluster(nodes: ["node-1", "node-2"])
        cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
        #expect(Set(plan(cluster, node: "node-1").bindings.map(\.pod.description)) == ["x/a", "x/c"])
        #expect(Set(plan(cluster, node: "node-2").bindings.map(\.pod.description)) == ["x/b"])
        #expect(plan(cluster, node: "elsewhere").bindings.isEmpty)
    }

    @Test(arguments: [
        ("10.0.0.0/8", ["10.1.0.0/16"], ["10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9"]),
        ("192.0.2.0/24", ["192.0.2.0/25"], ["192.0.2.128/25"]),
        ("192.0.2.0/24", ["192.0.2.0/24"], []),
        ("192.0.2.0/24", ["198.51.100.0/24", "2001:db8::/32"], ["192.0.2.0/24"]),
        ("2001:db8::/32", ["2001:db8:8000::/33"], ["2001:db8::/33"]),
    ])
    func cidrSubtraction(cidr: String, except: [String], expected: [String]) throws {
        let block = try #require(CIDR(cidr))
        #expect(block.subtracting(except.compactMap { CIDR($0) }).map(\.description) == expected)
    }
}
