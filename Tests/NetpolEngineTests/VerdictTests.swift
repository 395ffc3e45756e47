import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

@Suite("Verdicts and explanations")
struct VerdictTests {
    private func engine(_ change: (inout Cluster) -> Void) -> Engine {
        var cluster = ConformanceModel.cluster(nodes: ["node-1", "node-2"])
        change(&cluster)
        return Engine(snapshot: cluster.snapshot)
    }

    private func verdict(_ engine: Engine, _ from: String, _ to: String, _ port: IntOrString = .int(80), _ proto: PortProtocol = .tcp) throws -> Verdict {
        engine.verdict(for: Connection(from: try engine.endpoint(from), to: try engine.endpoint(to), protocol: proto, port: port))
    }

    @Test func explanationNamesTheAllowingPolicyAndRule() throws {
        let engine = engine {
            $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
            $0.apply(networkPolicy("from-y", in: "x", ingress: [.init(ports: [.tcp(81)], from: [.pods(.labels(["pod": "z"]))]),
                                                                .init(ports: [.tcp(80)], from: [.pods(.labels(["pod": "b"])), .namespaces(.labels(["ns": "y"]))])]))
        }
        let verdict = try verdict(engine, "y/b", "x/a")
        #expect(verdict.allowed)
        #expect(verdict.explanation == """
            y/b -> x/a, TCP port 80 over IPv4: ALLOWED
            Egress from y/b: not isolated (no NetworkPolicy in y selects it for egress)
            Ingress to x/a: allowed
              isolated by: x/deny, x/from-y
              allowed by x/from-y spec.ingress[1] (from[1], ports[0])
            """)
    }

    @Test func explanationSaysWhatEachRuleMissed() throws {
        let engine = engine {
            $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
            $0.apply(networkPolicy("from-y", in: "x", ingress: [.init(ports: [.tcp(81)], from: [.namespaces(.labels(["ns": "y"]))]),
                                                                .init(ports: [.tcp(80)], from: [.pods(.labels(["pod": "b"]))])]))
        }
        let verdict = try verdict(engine, "z/c", "x/a")
        #expect(!verdict.allowed)
        #expect(verdict.explanation == """
            z/c -> x/a, TCP port 80 over IPv4: DENIED
            Egress from z/c: not isolated (no NetworkPolicy in z selects it for egress)
            Ingress to x/a: DENIED
              isolated by: x/deny, x/from-y
              x/deny has no ingress rules: it only denies
              x/from-y spec.ingress[0]: no from entry matches z/c, and no ports entry matches TCP/80
              x/from-y spec.ingress[1]: no from entry matches z/c (the port would match: ports[0])
            """)
        #expect(verdict.ingress.isolatingPolicies == [PolicyID(namespace: "x", name: "deny"), PolicyID(namespace: "x", name: "from-y")])
    }

    @Test func namedPortsResolveOnTheDestination() throws {
        let engine = engine { _ in }
        let found = try verdict(engine, "x/a", "y/b", .string("serve-81-udp"), .udp)
        #expect(found.port == 81)
        #expect(found.explanation.hasPrefix("x/a -> y/b, UDP port serve-81-udp (81) over IPv4: ALLOWED"))
        let missing = try verdict(engine, "x/a", "y/b", .string("serve-81-udp"), .tcp)
        #expect(!missing.allowed)
        #expect(missing.explanation.contains("y/b has no TCP container port named serve-81-udp"))
    }

    @Test func addressesOutsideTheCluster() throws {
        let engine = engine {
            $0.apply(networkPolicy("out", in: "x", selecting: .labels(["pod": "a"]), types: [.egress],
                                   egress: [.init(to: [.block("192.0.2.0/24", except: ["192.0.2.128/25"])])]))
            $0.apply(networkPolicy("in", in: "y", ingress: [.init(from: [.block("198.51.100.0/24")])]))
        }
        #expect(try verdict(engine, "x/a", "192.0.2.10").allowed)
        #expect(try !verdict(engine, "x/a", "192.0.2.200").allowed)
        #expect(try !verdict(engine, "x/a", "2001:db8::1").allowed)
        #expect(try verdict(engine, "198.51.100.7", "y/c").allowed)
        #expect(try !verdict(engine, "203.0.113.1", "y/c").allowed)
        // A pod's own address is that pod.
        #expect(try engine.endpoint("10.0.2.3") == .pod(PodID(namespace: "y", name: "c")))
        #expect(try verdict(engine, "198.51.100.7", "y/c").explanation.contains("Egress from 198.51.100.7: not restricted (outside the cluster: no policy applies)"))
    }

    @Test func hostNetworkPods() throws {
        let engine = engine {
            $0.update(pod: "c", in: "z") { $0.spec.hostNetwork = true; $0.spec.nodeName = "node-2"; $0.status.podIPs = ["192.0.2.2"]; $0.status.podIP = "192.0.2.2" }
            $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
            $0.apply(networkPolicy("from-z", in: "y", ingress: [.init(from: [.namespaces(.labels(["ns": "z"]))])]))
            $0.apply(networkPolicy("from-node", in: "z", ingress: [.init(from: [.block("192.0.2.0/24")])]))
        }
        // Selectors never match a host-network pod; only ipBlock does.
        #expect(try !verdict(engine, "z/c", "y/b").allowed)
        #expect(try verdict(engine, "z/a", "y/b").allowed)
        // The node reaching its own pods is always allowed: x/b sits on node-2 with z/c.
        #expect(try verdict(engine, "z/c", "x/b").allowed)
        #expect(try verdict(engine, "z/c", "x/b").exemption?.contains("node-2") == true)
        #expect(try !verdict(engine, "z/c", "x/a").allowed)
        // A host-network pod is never isolated.
        #expect(try verdict(engine, "x/a", "z/c").ingress.outcome == .notApplicable("on the host network: never selected by a policy"))
        #expect(try verdict(engine, "z/a", "z/b").allowed == false)
        #expect(try verdict(engine, "192.0.2.9", "z/b").allowed)
    }

    @Test func selfTrafficIsAlwaysAllowed() throws {
        let engine = engine { $0.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress])) }
        let verdict = try verdict(engine, "x/a", "x/a")
        #expect(verdict.allowed)
        #expect(verdict.explanation == "x/a -> x/a, TCP port 80 over IPv4: ALLOWED\n  traffic from a pod to itself is always allowed")
    }

    @Test func unknownEndpoints() {
        let engine = engine { _ in }
        #expect(throws: EngineError(.unknownPod, "no pod x/nope in the input")) { try engine.endpoint("x/nope") }
        #expect(throws: EngineError(.badEndpoint, "web is neither NAMESPACE/POD nor an IP address")) { try engine.endpoint("web") }
    }

    @Test func snapshotFillsInNamespaces() {
        let snapshot = Snapshot([
            .pod(Pod(metadata: ObjectMeta(name: "a", namespace: "undeclared"))),
            .namespace(Namespace(metadata: ObjectMeta(name: "declared", labels: ["team": "t"]))),
        ])
        #expect(snapshot.namespaces.map(\.name) == ["declared", "undeclared"])
        #expect(snapshot.namespaces.map(\.labels) == [
            ["team": "t", "kubernetes.io/metadata.name": "declared"],
            ["kubernetes.io/metadata.name": "undeclared"],
        ])
    }
}
