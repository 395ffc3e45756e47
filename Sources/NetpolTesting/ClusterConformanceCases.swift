import NetpolEngine
import NetpolModel

private let all = LabelSelector.everything
private func ns(_ name: String) -> LabelSelector { .labels(["ns": name]) }
private func pod(_ name: String) -> LabelSelector { .labels(["pod": name]) }
private func inX() -> ClusterPolicySubject { .inNamespaces(ns("x")) }

/// An Admin policy on namespace x.
private func admin(_ name: String, priority: Int = 10, ingress: [ClusterPolicyIngressRule] = [], egress: [ClusterPolicyEgressRule] = []) -> ClusterNetworkPolicy {
    clusterPolicy(name, tier: .admin, priority: priority, subject: inX(), ingress: ingress, egress: egress)
}

/// A Baseline policy on namespace x.
private func baseline(_ name: String, ingress: [ClusterPolicyIngressRule] = [], egress: [ClusterPolicyEgressRule] = []) -> ClusterNetworkPolicy {
    clusterPolicy(name, tier: .baseline, priority: 10, subject: inX(), ingress: ingress, egress: egress)
}

private func from(_ action: ClusterPolicyAction, _ peers: [ClusterPolicyPeer], _ protocols: [ClusterPolicyProtocol] = []) -> ClusterPolicyIngressRule {
    ClusterPolicyIngressRule(action: action, from: peers, protocols: protocols)
}

private func to(_ action: ClusterPolicyAction, _ peers: [ClusterPolicyPeer], _ protocols: [ClusterPolicyProtocol] = []) -> ClusterPolicyEgressRule {
    ClusterPolicyEgressRule(action: action, to: peers, protocols: protocols)
}

private func xa() -> PodID { PodID(namespace: "x", name: "a") }
private func xb() -> PodID { PodID(namespace: "x", name: "b") }
private func xc() -> PodID { PodID(namespace: "x", name: "c") }
private func ya() -> PodID { PodID(namespace: "y", name: "a") }

/// The address of the lab-less nodes `addNodes` makes: 192.168.0.<n>.
private func nodeAddress(_ number: Int) -> String { "192.168.0.\(number)" }

/// A Node object for every node the pods run on, `role: infra` for the first
/// (by name), `role: worker` for the others, with the InternalIP `nodeAddress(n)`.
private func addNodes(_ cluster: inout Cluster) {
    for (index, name) in Set(cluster.pods.values.map(\.spec.nodeName)).sorted().enumerated() {
        cluster.nodes[name] = Node(metadata: ObjectMeta(name: name, labels: ["role": index == 0 ? "infra" : "worker"]),
                                   addresses: [NodeAddress(type: "InternalIP", address: nodeAddress(index + 1))])
    }
}

/// Cases of our own for ClusterNetworkPolicy on the x/y/z model: what upstream
/// does not probe. Full matrices where pods are the peers, pairs where an
/// address (a node, the pod's own) or a host-network pod is.
public let clusterConformanceCases: [ClusterConformanceCase] = [
    ClusterConformanceCase("equal priorities are ordered by name, and a lower priority goes first", world: .xyz, steps: [
        ClusterStep("a-deny comes before b-accept", change: {
            $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
            $0.apply(admin("a-deny", ingress: [from(.deny, [.inNamespaces(ns("y"))])]))
            $0.apply(admin("b-accept", ingress: [from(.accept, [.inNamespaces(ns("y"))])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x") }]),
        ClusterStep("renamed c-deny, it comes after b-accept", change: {
            $0.delete(clusterPolicy: "a-deny")
            $0.apply(admin("c-deny", ingress: [from(.deny, [.inNamespaces(ns("y"))])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }]),
        ClusterStep("priority 9 puts c-deny first again", change: { $0.update(clusterPolicy: "c-deny") { $0.spec.priority = 9 } },
                    matrices: [probe(80) { $0.deny(from: "*", to: "x") }]),
    ]),
    ClusterConformanceCase("hairpin: a pod reaching its own address is exempt", world: .xyz, steps: [
        ClusterStep("x denies all ingress and egress", change: {
            $0.apply(admin("isolate-x", ingress: [from(.deny, [.inNamespaces(all)])], egress: [to(.deny, [.cidrs("0.0.0.0/0")])]))
        }, [poke(xa(), address: ConformanceModel.ipv4("x", "a"), .tcp, 80, true), poke(xa(), address: ConformanceModel.ipv4("x", "b"), .tcp, 80, false)],
           matrices: [probe(80) { $0.deny(from: "x", to: "*"); $0.deny(from: "*", to: "x") }]),
    ]),
    ClusterConformanceCase("networks match pod addresses", world: .xyz, steps: [
        ClusterStep("deny egress to y's range", change: { $0.apply(admin("no-y", egress: [to(.deny, [.cidrs("10.0.2.0/24")])])) },
                    matrices: [probe(80) { $0.deny(from: "x", to: "y") }]),
        ClusterStep("accept egress to z/a's address past a NetworkPolicy deny", change: {
            $0.delete(clusterPolicy: "no-y")
            $0.apply(networkPolicy("deny-egress", in: "x", types: [.egress]))
            $0.apply(admin("to-z-a", egress: [to(.accept, [.cidrs("10.0.3.1/32")])]))
        }, matrices: [probe(80) { $0.deny(from: "x", to: "*"); $0.allow(from: "x", to: "z/a") }]),
    ]),
    ClusterConformanceCase("Pass in Baseline means the default", world: .xyz, steps: [
        ClusterStep("pass y, deny the rest", change: {
            $0.apply(baseline("default", ingress: [from(.pass, [.inNamespaces(ns("y"))]), from(.deny, [.inNamespaces(all)])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }]),
        ClusterStep("a NetworkPolicy answers before Baseline", change: {
            $0.apply(networkPolicy("from-z", in: "x", ingress: [.init(from: [.namespaces(ns("z"))])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "z", to: "x") }]),
    ]),
    ClusterConformanceCase("an egress Accept still needs the destination's ingress", world: .xyz, steps: [
        ClusterStep("x accepts egress to y; y denies all ingress; x denies all egress", change: {
            $0.apply(admin("to-y", egress: [to(.accept, [.inNamespaces(ns("y"))])]))
            $0.apply(networkPolicy("deny-ingress", in: "y", types: [.ingress]))
            $0.apply(networkPolicy("deny-egress", in: "x", types: [.egress]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "y"); $0.deny(from: "x", to: "*") }]),
        ClusterStep("y's NetworkPolicy deleted: the Accept skips x's", change: { $0.delete(policy: "deny-ingress", in: "y") },
                    matrices: [probe(80) { $0.deny(from: "x", to: "*"); $0.allow(from: "x", to: "y") }]),
    ]),
    ClusterConformanceCase("an Admin Pass skips the rest of its tier, then a NetworkPolicy denies", world: .xyz, steps: [
        ClusterStep("pass y at priority 1, accept y at 2, NetworkPolicy denies", change: {
            $0.apply(admin("pass-y", priority: 1, ingress: [from(.pass, [.inNamespaces(ns("y"))])]))
            $0.apply(admin("accept-y", priority: 2, ingress: [from(.accept, [.inNamespaces(ns("y"))])]))
            $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
            $0.apply(baseline("default", ingress: [from(.accept, [.inNamespaces(all)])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x") }]),
        ClusterStep("without the Pass, the Accept decides", change: { $0.delete(clusterPolicy: "pass-y") },
                    matrices: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }]),
    ]),
    ClusterConformanceCase("a NetworkPolicy allow overrides a Baseline deny, for the pods it isolates", world: .xyz, steps: [
        ClusterStep("Baseline denies x everything; a NetworkPolicy lets y reach x/a", change: {
            $0.apply(baseline("default", ingress: [from(.deny, [.inNamespaces(all)])]))
            $0.apply(networkPolicy("a-from-y", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(ns("y"))])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x/a") }]),
    ]),
    ClusterConformanceCase("a named port on egress resolves on the destination pod", world: .xyz, steps: [
        ClusterStep("web is 80 on y/a and 81 on z/a", change: {
            $0.update(pod: "a", in: "y") { $0.spec.containers.append(Container(name: "web", ports: [ContainerPort(name: "web", containerPort: 80)])) }
            $0.update(pod: "a", in: "z") { $0.spec.containers.append(Container(name: "web", ports: [ContainerPort(name: "web", containerPort: 81)])) }
            $0.apply(admin("no-web", egress: [to(.deny, [.inNamespaces(all)], [.named("web")])]))
        }, matrices: [probe(80) { $0.deny(from: "x", to: "y/a") }, probe(81) { $0.deny(from: "x", to: "z/a") }, probe(.udp, 80)]),
    ]),
    ClusterConformanceCase("port ranges are inclusive and per protocol", world: .xyz, steps: [
        ClusterStep("deny TCP 80-81", change: { $0.apply(admin("range", ingress: [from(.deny, [.inNamespaces(all)], [.range(.tcp, 80...81)])])) },
                    matrices: [probe(80) { $0.deny(from: "*", to: "x") }, probe(81) { $0.deny(from: "*", to: "x") }, probe(.udp, 80)]),
        ClusterStep("deny TCP 81-90", change: { $0.update(clusterPolicy: "range") { $0.spec.ingress[0].protocols = [.range(.tcp, 81...90)] } },
                    matrices: [probe(80), probe(81) { $0.deny(from: "*", to: "x") }]),
        ClusterStep("deny UDP 53-80", change: { $0.update(clusterPolicy: "range") { $0.spec.ingress[0].protocols = [.range(.udp, 53...80)] } },
                    matrices: [probe(80), probe(.udp, 80) { $0.deny(from: "*", to: "x") }, probe(.udp, 81)]),
    ]),
    ClusterConformanceCase("host-network pods are never subjects, and match networks peers only", world: .xyz, steps: [
        ClusterStep("x/c on the host network; every pod denies every namespace", change: {
            $0.update(pod: "c", in: "x") { $0.spec.hostNetwork = true; $0.status.podIP = "192.0.2.1"; $0.status.podIPs = ["192.0.2.1"] }
            $0.apply(clusterPolicy("deny-all", tier: .admin, priority: 10, subject: .inNamespaces(all),
                                   ingress: [from(.deny, [.inNamespaces(all)])], egress: [to(.deny, [.inNamespaces(all)])]))
        }, [poke(ya(), xc(), .tcp, 80, true), poke(xc(), ya(), .tcp, 80, true)],
           matrices: [probe(80) { $0.deny(from: "*", to: "*") }]),
        ClusterStep("a networks peer matches x/c's address", change: {
            $0.update(clusterPolicy: "deny-all") { $0.spec.egress.append(to(.deny, [.cidrs("192.0.2.0/24")])) }
        }, [poke(ya(), xc(), .tcp, 80, false)], matrices: [probe(80) { $0.deny(from: "*", to: "*") }]),
    ]),
    ClusterConformanceCase("nodes peers match the addresses of the nodes they select", world: .xyz, steps: [
        ClusterStep("x denies egress to infra nodes", change: {
            addNodes(&$0)
            $0.apply(admin("no-infra", egress: [to(.deny, [.nodesLabelled(.labels(["role": "infra"]))])]))
        }, [poke(xa(), address: nodeAddress(1), .tcp, 80, false), poke(ya(), address: nodeAddress(1), .tcp, 80, true)], matrices: [probe(80)]),
        ClusterStep("a relabelled node is no longer infra", change: { $0.nodes = $0.nodes.mapValues { node in
            var node = node
            node.metadata.labels = ["role": "worker"]
            return node
        } }, [poke(xa(), address: nodeAddress(1), .tcp, 80, true)], matrices: [probe(80)]),
    ]),
    ClusterConformanceCase("domainNames fail closed: an Accept matches nothing, a Deny or Pass everything", world: .xyz, steps: [
        ClusterStep("Accept to a domain does not lift a NetworkPolicy deny", change: {
            $0.apply(networkPolicy("deny-egress", in: "x", types: [.egress]))
            $0.apply(admin("domains", egress: [to(.accept, [.domains("example.com")])]))
        }, matrices: [probe(80) { $0.deny(from: "x", to: "*") }]),
        ClusterStep("Deny to a domain drops everything", change: {
            $0.delete(policy: "deny-egress", in: "x")
            $0.update(clusterPolicy: "domains") { $0.spec.egress[0].action = .deny }
        }, matrices: [probe(80) { $0.deny(from: "x", to: "*") }]),
        ClusterStep("Pass to a domain passes everything, past a later Deny", change: {
            $0.update(clusterPolicy: "domains") {
                $0.spec.egress[0].action = .pass
                $0.spec.egress.append(to(.deny, [.inNamespaces(all)]))
            }
        }, matrices: [probe(80)]),
    ]),
    ClusterConformanceCase("pods subjects pick pods across namespaces", world: .xyz, steps: [
        ClusterStep("pods b everywhere deny ingress from z", change: {
            $0.apply(clusterPolicy("b-not-from-z", tier: .admin, priority: 1, subject: .pods(pod("b")), ingress: [from(.deny, [.inNamespaces(ns("z"))])]))
        }, matrices: [probe(80) { $0.deny(from: "z", to: "x/b"); $0.deny(from: "z", to: "y/b"); $0.deny(from: "z", to: "z/b") }]),
        ClusterStep("and only in y once the namespaceSelector says so", change: {
            $0.update(clusterPolicy: "b-not-from-z") { $0.spec.subject = .pods(pod("b"), inNamespaces: ns("y")) }
        }, matrices: [probe(80) { $0.deny(from: "z", to: "y/b") }]),
    ]),
    ClusterConformanceCase("Admin goes before Baseline whatever their priorities", world: .xyz, steps: [
        ClusterStep("Baseline priority 0 denies y, Admin priority 1000 accepts it", change: {
            $0.apply(clusterPolicy("deny-y", tier: .baseline, priority: 0, subject: inX(), ingress: [from(.deny, [.inNamespaces(ns("y"))])]))
            $0.apply(clusterPolicy("accept-y", tier: .admin, priority: 1000, subject: inX(), ingress: [from(.accept, [.inNamespaces(ns("y"))])]))
        }, matrices: [probe(80)]),
        ClusterStep("the Admin Accept turned into Pass lets Baseline decide", change: {
            $0.update(clusterPolicy: "accept-y") { $0.spec.ingress[0].action = .pass }
        }, matrices: [probe(80) { $0.deny(from: "y", to: "x") }]),
    ]),
    ClusterConformanceCase("relabelled namespaces and pods join and leave subjects", world: .xyz, steps: [
        ClusterStep("blue namespaces and red pods deny ingress from z; none is labelled yet", change: {
            $0.apply(clusterPolicy("blue", tier: .admin, priority: 1, subject: .inNamespaces(.labels(["team": "blue"])),
                                   ingress: [from(.deny, [.inNamespaces(ns("z"))])]))
            $0.apply(clusterPolicy("red", tier: .admin, priority: 2, subject: .pods(.labels(["color": "red"])),
                                   ingress: [from(.deny, [.inNamespaces(ns("z"))])]))
        }, matrices: [probe(80)]),
        ClusterStep("y turns blue and x/a red", change: {
            $0.relabel(namespace: "y", ["ns": "y", "team": "blue"])
            $0.relabel(pod: "a", in: "x", ["pod": "a", "color": "red"])
        }, matrices: [probe(80) { $0.deny(from: "z", to: "y"); $0.deny(from: "z", to: "x/a") }]),
        ClusterStep("y is no longer blue", change: {
            $0.relabel(namespace: "y", ["ns": "y"])
        }, matrices: [probe(80) { $0.deny(from: "z", to: "x/a") }]),
    ]),
    ClusterConformanceCase("networks peers are per family on dual-stack pods", world: .xyzDualStack, steps: [
        ClusterStep("x denies egress to y's IPv6 range", change: {
            $0.apply(admin("no-y-v6", egress: [to(.deny, [.cidrs("fd00::2:0/112")])]))
        }, matrices: [probe(80, family: .ipv6) { $0.deny(from: "x", to: "y") }, probe(80, family: .ipv4)]),
        ClusterStep("and to everything IPv4", change: {
            $0.update(clusterPolicy: "no-y-v6") { $0.spec.egress.append(to(.deny, [.cidrs("0.0.0.0/0")])) }
        }, matrices: [probe(80, family: .ipv6) { $0.deny(from: "x", to: "y") }, probe(80, family: .ipv4) { $0.deny(from: "x", to: "*") }]),
    ]),
    ClusterConformanceCase("an Admin Accept on ingress skips a NetworkPolicy and Baseline deny", world: .xyz, steps: [
        ClusterStep("x/b accepted from z everywhere else denied", change: {
            $0.apply(clusterPolicy("z-to-b", tier: .admin, priority: 1, subject: .pods(pod("b"), inNamespaces: ns("x")),
                                   ingress: [from(.accept, [.pods(pod("a"), inNamespaces: ns("z"))])]))
            $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
            $0.apply(baseline("default", ingress: [from(.deny, [.inNamespaces(all)])]))
        }, matrices: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "z/a", to: "x/b") }, probe(.udp, 81) { $0.deny(from: "*", to: "x"); $0.allow(from: "z/a", to: "x/b") }]),
    ]),
]
