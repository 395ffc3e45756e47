import NetpolModel
import NetpolTesting
import NetpolWorkload
import Testing

@Suite("Manifest writer and cluster generator")
struct WriterAndGeneratorTests {
    @Test(arguments: [false, true])
    func generatedClustersReadBackUnchanged(ipv6: Bool) {
        let objects = ClusterGenerator(namespaces: 7, pods: 150, policies: 60, nodes: 4, seed: 9, ipv6: ipv6, clusterPolicies: 12).objects()
        let set = load(ManifestWriter.yaml(objects))
        #expect(set.errors == [])
        #expect(set.objects.map(\.object) == objects)
        #expect(set.objects.allSatisfy { Validator.problems($0).isEmpty })
    }

    @Test func conformanceModelReadsBackUnchanged() {
        var cluster = ConformanceModel.cluster(dualStack: true, nodes: ["n1", "n2"])
        // Names YAML 1.1 would retype if unquoted: y (a boolean), 80 (a number).
        cluster.apply(networkPolicy("y", in: "y", selecting: .labels(["on": "80"]), ingress: [.init(ports: [.named("serve-80-tcp"), .range(1, 2, .udp), .all(.sctp)], from: [.block("10.0.0.0/8", except: ["10.1.0.0/16"]), .pods(.expression("pod", .notIn, ["a"]), inNamespaces: .everything)])], egress: [.init()]))
        // Annotations carry the audit mode: a writer that dropped them would enforce audited policies.
        var audited = networkPolicy("audited", in: "x", types: [.ingress])
        audited.metadata.annotations = [NetworkPolicy.modeAnnotation: "audit", "note": "yes"]
        cluster.apply(audited)
        let objects = cluster.snapshot.namespaces.map(KubeObject.namespace) + cluster.snapshot.pods.map(KubeObject.pod) + cluster.snapshot.policies.map(KubeObject.networkPolicy)
        #expect(load(ManifestWriter.yaml(objects)).objects.map(\.object) == objects)
    }

    @Test func generationIsDeterministic() {
        let one = ManifestWriter.yaml(ClusterGenerator(namespaces: 5, pods: 50, policies: 20, nodes: 3, seed: 42).objects())
        let again = ManifestWriter.yaml(ClusterGenerator(namespaces: 5, pods: 50, policies: 20, nodes: 3, seed: 42).objects())
        let other = ManifestWriter.yaml(ClusterGenerator(namespaces: 5, pods: 50, policies: 20, nodes: 3, seed: 43).objects())
        #expect(one == again)
        #expect(one != other)
    }

    @Test func mixCoversTheIssueList() {
        let policies = ClusterGenerator(namespaces: 4, pods: 40, policies: 40, nodes: 2).objects().compactMap { object -> NetworkPolicy? in
            if case .networkPolicy(let policy) = object { return policy }
            return nil
        }
        let peers = policies.flatMap { $0.spec.ingress.flatMap(\.from) + $0.spec.egress.flatMap(\.to) }
        let ports = policies.flatMap { $0.spec.ingress.flatMap(\.ports) + $0.spec.egress.flatMap(\.ports) }
        #expect(policies.prefix(4).allSatisfy { $0.spec.policyTypes == [.ingress, .egress] })
        #expect(peers.contains { $0.podSelector == .everything && $0.namespaceSelector == nil })
        #expect(peers.contains { !($0.namespaceSelector?.matchExpressions.isEmpty ?? true) })
        #expect(peers.contains { !($0.podSelector?.matchExpressions.isEmpty ?? true) })
        #expect(peers.contains { !($0.ipBlock?.except.isEmpty ?? true) })
        #expect(ports.contains { if case .string = $0.port { return true } else { return false } })
        #expect(ports.contains { $0.endPort != nil })
    }
}
