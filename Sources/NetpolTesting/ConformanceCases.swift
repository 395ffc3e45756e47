import NetpolEngine
import NetpolModel

private let all = LabelSelector.everything
private func pod(_ name: String) -> LabelSelector { .labels(["pod": name]) }
private func ns(_ name: String) -> LabelSelector { .labels(["ns": name]) }

/// Cases of our own on the conformance model, covering every item of the
/// semantics contract in DESIGN.md. Each asserts full matrices.
public let conformanceCases: [ConformanceCase] = [
    // Isolation and default deny
    ConformanceCase("no policies: everything allowed", { _ in }, probe(80), probe(.udp, 81)),
    ConformanceCase("default deny ingress in x", {
        $0.apply(networkPolicy("deny", in: "x", types: [.ingress]))
    }, probe(80) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("default deny egress in x", {
        $0.apply(networkPolicy("deny", in: "x", types: [.egress]))
    }, probe(80) { $0.deny(from: "x", to: "*") }),
    ConformanceCase("default deny both directions in x", {
        $0.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
    }, probe(80) { $0.deny(from: "x", to: "*"); $0.deny(from: "*", to: "x") }, probe(.udp, 81) { $0.deny(from: "x", to: "*"); $0.deny(from: "*", to: "x") }),
    ConformanceCase("deny ingress to x/a only", {
        $0.apply(networkPolicy("deny-a", in: "x", selecting: pod("a"), types: [.ingress]))
    }, probe(80) { $0.deny(from: "*", to: "x/a") }),
    ConformanceCase("policies in y do not touch x or z", {
        $0.apply(networkPolicy("deny", in: "y", types: [.ingress, .egress]))
    }, probe(80) { $0.deny(from: "y", to: "*"); $0.deny(from: "*", to: "y") }),

    // Peers
    ConformanceCase("allow x/a from x/b only", {
        $0.apply(networkPolicy("a-from-b", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(pod("b"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "x/b", to: "x/a") }),
    ConformanceCase("a podSelector peer means pods of the policy's namespace only", {
        $0.apply(networkPolicy("from-b", in: "x", ingress: [.init(from: [.pods(pod("b"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "x/b", to: "x") }),
    ConformanceCase("a namespaceSelector peer means every pod of those namespaces", {
        $0.apply(networkPolicy("from-y", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(ns("y"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "y", to: "x/a") }),
    ConformanceCase("both selectors in one peer intersect", {
        $0.apply(networkPolicy("from-y-c", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(pod("c"), inNamespaces: ns("y"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "y/c", to: "x/a") }),
    ConformanceCase("two peers in one rule unite", {
        $0.apply(networkPolicy("from-y-or-c", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(ns("y")), .pods(pod("c"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "y", to: "x/a"); $0.allow(from: "x/c", to: "x/a") }),
    ConformanceCase("pods b of every namespace (empty namespaceSelector with a podSelector)", {
        $0.apply(networkPolicy("from-any-b", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(pod("b"), inNamespaces: all)])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "x/b", to: "x/a"); $0.allow(from: "y/b", to: "x/a"); $0.allow(from: "z/b", to: "x/a") }),
    ConformanceCase("an empty namespaceSelector alone allows every pod", {
        $0.apply(networkPolicy("from-all-ns", in: "x", ingress: [.init(from: [.namespaces(all)])]))
    }, probe(80)),
    ConformanceCase("an empty podSelector alone allows the policy's namespace", {
        $0.apply(networkPolicy("from-x", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(all)])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "x", to: "x/a") }),

    // Selectors
    ConformanceCase("matchExpressions In", {
        $0.apply(networkPolicy("from-y-z", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(.expression("ns", .in, ["y", "z"]))])]))
    }, probe(80) { $0.deny(from: "x", to: "x/a") }),
    ConformanceCase("matchExpressions NotIn (also matches a missing label)", {
        $0.relabel(namespace: "z", [:])
        $0.apply(networkPolicy("not-y", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(.expression("ns", .notIn, ["y"]))])]))
    }, probe(80) { $0.deny(from: "y", to: "x/a") }),
    ConformanceCase("matchExpressions Exists on a label one namespace carries", {
        $0.relabel(namespace: "z", ["ns": "z", "team": "blue"])
        $0.apply(networkPolicy("from-teams", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(.expression("team", .exists))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "z", to: "x/a") }),
    ConformanceCase("matchExpressions DoesNotExist", {
        $0.relabel(pod: "c", in: "x", ["app": "legacy"])
        $0.apply(networkPolicy("from-unlabelled", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(.expression("pod", .doesNotExist))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "x/c", to: "x/a") }),
    ConformanceCase("a policy's podSelector with matchExpressions", {
        $0.apply(networkPolicy("deny-a-b", in: "y", selecting: .expression("pod", .in, ["a", "b"]), types: [.ingress]))
    }, probe(80) { $0.deny(from: "*", to: "y/a"); $0.deny(from: "*", to: "y/b") }),
    ConformanceCase("matchLabels and matchExpressions together must both hold", {
        $0.relabel(pod: "b", in: "y", ["pod": "b", "tier": "web"])
        $0.relabel(pod: "c", in: "y", ["pod": "c", "tier": "web"])
        let selector = LabelSelector(matchLabels: ["tier": "web"], matchExpressions: [LabelSelectorRequirement(key: "pod", operator: .notIn, values: ["c"])])
        $0.apply(networkPolicy("web-not-c", in: "x", ingress: [.init(from: [.pods(selector, inNamespaces: all)])]))
    }, probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y/b", to: "x") }),

    // Ports
    ConformanceCase("ports without peers: everyone, on port 81 only", {
        $0.apply(networkPolicy("only-81", in: "x", selecting: pod("a"), ingress: [.init(ports: [.tcp(81)])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a") }, probe(81)),
    ConformanceCase("a named port", {
        $0.apply(networkPolicy("named", in: "x", ingress: [.init(ports: [.named("serve-80-tcp")])]))
    }, probe(80), probe(81) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("a named port resolves per destination pod", {
        $0.update(pod: "a", in: "x") { $0.spec.containers.append(Container(name: "web", ports: [ContainerPort(name: "http", containerPort: 80)])) }
        $0.update(pod: "a", in: "y") { $0.spec.containers.append(Container(name: "web", ports: [ContainerPort(name: "http", containerPort: 81)])) }
        for namespace in ["x", "y"] { $0.apply(networkPolicy("http", in: namespace, ingress: [.init(ports: [.named("http")])])) }
    }, probe(80) { $0.deny(from: "*", to: "x"); $0.deny(from: "*", to: "y"); $0.allow(from: "*", to: "x/a") },
       probe(81) { $0.deny(from: "*", to: "x"); $0.deny(from: "*", to: "y"); $0.allow(from: "*", to: "y/a") }),
    ConformanceCase("a named UDP port", {
        $0.apply(networkPolicy("named-udp", in: "x", ingress: [.init(ports: [.named("serve-81-udp", .udp)])]))
    }, probe(.udp, 81), probe(.tcp, 81) { $0.deny(from: "*", to: "x") }, probe(.udp, 80) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("a named port on the wrong protocol resolves to nothing", {
        $0.apply(networkPolicy("named-mismatch", in: "x", ingress: [.init(ports: [.named("serve-80-tcp", .udp)])]))
    }, probe(.udp, 80) { $0.deny(from: "*", to: "x") }, probe(.tcp, 80) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("endPort makes a range", {
        $0.apply(networkPolicy("80-81", in: "x", selecting: pod("a"), ingress: [.init(ports: [.range(80, 81)])]))
        $0.apply(networkPolicy("81-90", in: "y", selecting: pod("a"), ingress: [.init(ports: [.range(81, 90)])]))
    }, probe(80) { $0.deny(from: "*", to: "y/a") }, probe(81)),
    ConformanceCase("a protocol without a port: every port of it", {
        $0.apply(networkPolicy("udp", in: "x", ingress: [.init(ports: [.all(.udp)])]))
    }, probe(.udp, 80), probe(.udp, 81), probe(.tcp, 80) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("protocol defaults to TCP", {
        $0.apply(networkPolicy("port-80", in: "x", ingress: [.init(ports: [NetworkPolicyPort(port: .int(80))])]))
    }, probe(.tcp, 80), probe(.udp, 80) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("SCTP is a protocol of its own", {
        $0.apply(networkPolicy("sctp", in: "x", ingress: [.init(ports: [.sctp(80)])]))
    }, probe(.sctp, 80), probe(.tcp, 80) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("several port entries unite", {
        $0.apply(networkPolicy("ports", in: "x", ingress: [.init(ports: [.tcp(81), .udp(80)])]))
    }, probe(.tcp, 80) { $0.deny(from: "*", to: "x") }, probe(.tcp, 81), probe(.udp, 80), probe(.udp, 81) { $0.deny(from: "*", to: "x") }),
    ConformanceCase("a matrix on a named port skips destinations without it", {
        $0.update(pod: "b", in: "z") { $0.spec.containers = [] }
    }, Probe(port: .string("serve-80-tcp"), proto: .tcp, family: nil, startAllowed: true) { $0.deny(from: "*", to: "z/b") }),

    // Egress
    ConformanceCase("egress from x to namespace y only", {
        $0.apply(networkPolicy("to-y", in: "x", types: [.egress], egress: [.init(to: [.namespaces(ns("y"))])]))
    }, probe(80) { $0.deny(from: "x", to: "*"); $0.allow(from: "x", to: "y") }),
    ConformanceCase("egress to a named port of the destination", {
        $0.apply(networkPolicy("to-81", in: "x", selecting: pod("a"), types: [.egress], egress: [.init(ports: [.named("serve-81-tcp")])]))
    }, probe(80) { $0.deny(from: "x/a", to: "*") }, probe(81)),
    ConformanceCase("egress to an ipBlock covering namespace y", {
        $0.apply(networkPolicy("to-cidr", in: "x", selecting: pod("a"), types: [.egress], egress: [.init(to: [.block("10.0.2.0/24")])]))
    }, probe(80) { $0.deny(from: "x/a", to: "*"); $0.allow(from: "x/a", to: "y") }),
    ConformanceCase("ipBlock except carves out an address", {
        $0.apply(networkPolicy("to-cidr", in: "x", selecting: pod("a"), types: [.egress],
                               egress: [.init(to: [.block("10.0.2.0/24", except: ["10.0.2.2/32"])])]))
    }, probe(80) { $0.deny(from: "x/a", to: "*"); $0.allow(from: "x/a", to: "y/a"); $0.allow(from: "x/a", to: "y/c") }),
    ConformanceCase("ingress from an ipBlock", {
        $0.apply(networkPolicy("from-cidr", in: "x", selecting: pod("a"), ingress: [.init(from: [.block("10.0.3.0/24")])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "z", to: "x/a") }),
    ConformanceCase("egress: [{}] allows everything", {
        $0.apply(networkPolicy("any-out", in: "x", types: [.egress], egress: [.init()]))
    }, probe(80)),
    ConformanceCase("ingress: [{}] allows everything", {
        $0.apply(networkPolicy("any-in", in: "x", ingress: [.init()]))
    }, probe(80)),

    // Both sides
    ConformanceCase("both sides must allow", {
        $0.apply(networkPolicy("a-out", in: "x", selecting: pod("a"), types: [.egress], egress: [.init(to: [.pods(pod("b"), inNamespaces: ns("y"))])]))
        $0.apply(networkPolicy("b-in", in: "y", selecting: pod("b"), ingress: [.init(from: [.pods(pod("a"), inNamespaces: ns("x"))])]))
    }, probe(80) { $0.deny(from: "x/a", to: "*"); $0.deny(from: "*", to: "y/b"); $0.allow(from: "x/a", to: "y/b") }),
    ConformanceCase("egress allowed, ingress denied", {
        $0.apply(networkPolicy("a-out", in: "x", selecting: pod("a"), types: [.egress], egress: [.init()]))
        $0.apply(networkPolicy("deny-y", in: "y", types: [.ingress]))
    }, probe(80) { $0.deny(from: "*", to: "y") }),
    ConformanceCase("allows are a union over policies", {
        $0.apply(networkPolicy("from-b", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(pod("b"))])]))
        $0.apply(networkPolicy("from-y", in: "x", selecting: pod("a"), ingress: [.init(from: [.namespaces(ns("y"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "x/b", to: "x/a"); $0.allow(from: "y", to: "x/a") }),

    // policyTypes
    ConformanceCase("policyTypes [Egress] ignores ingress rules", {
        $0.apply(networkPolicy("egress-only", in: "x", selecting: pod("a"), types: [.egress], ingress: [.init(from: [.pods(pod("b"))])]))
    }, probe(80) { $0.deny(from: "x/a", to: "*") }),
    ConformanceCase("policyTypes absent with egress rules isolates both directions", {
        $0.apply(networkPolicy("both", in: "x", selecting: pod("a"), egress: [.init(to: [.pods(pod("b"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.deny(from: "x/a", to: "*"); $0.allow(from: "x/a", to: "x/b") }),
    ConformanceCase("policyTypes absent without egress rules isolates ingress only", {
        $0.apply(networkPolicy("ingress-default", in: "x", selecting: pod("a")))
    }, probe(80) { $0.deny(from: "*", to: "x/a") }),
    ConformanceCase("policyTypes [Ingress] ignores egress rules", {
        $0.apply(networkPolicy("ingress-only", in: "x", selecting: pod("a"), types: [.ingress], egress: [.init(to: [.pods(pod("b"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a") }),

    // Changes between steps
    ConformanceCase("policies added and deleted between steps", steps: [
        Step(change: { $0.apply(networkPolicy("deny", in: "x", types: [.ingress])) }, probes: [probe(80) { $0.deny(from: "*", to: "x") }]),
        Step(change: { $0.apply(networkPolicy("from-y", in: "x", ingress: [.init(from: [.namespaces(ns("y"))])])) },
             probes: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }]),
        Step(change: { $0.delete(policy: "deny", in: "x") }, probes: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }]),
        Step(change: { $0.delete(policy: "from-y", in: "x") }, probes: [probe(80)]),
    ]),
    ConformanceCase("a relabelled namespace gains and loses access", steps: [
        Step(change: { $0.apply(networkPolicy("from-blue", in: "x", ingress: [.init(from: [.namespaces(.labels(["team": "blue"]))])])) },
             probes: [probe(80) { $0.deny(from: "*", to: "x") }]),
        Step(change: { $0.relabel(namespace: "y", ["ns": "y", "team": "blue"]) }, probes: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }]),
        Step(change: { $0.relabel(namespace: "y", ["ns": "y"]); $0.relabel(namespace: "z", ["team": "blue"]) },
             probes: [probe(80) { $0.deny(from: "*", to: "x"); $0.allow(from: "z", to: "x") }]),
    ]),
    ConformanceCase("a relabelled pod gains access and a relabelled target loses isolation", steps: [
        Step(change: { $0.apply(networkPolicy("clients", in: "x", selecting: .labels(["role": "server"]), ingress: [.init(from: [.pods(.labels(["role": "client"]), inNamespaces: all)])])) },
             probes: [probe(80)]),
        Step(change: { $0.relabel(pod: "a", in: "x", ["pod": "a", "role": "server"]) }, probes: [probe(80) { $0.deny(from: "*", to: "x/a") }]),
        Step(change: { $0.relabel(pod: "c", in: "z", ["pod": "c", "role": "client"]) }, probes: [probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "z/c", to: "x/a") }]),
        Step(change: { $0.relabel(pod: "a", in: "x", ["pod": "a"]) }, probes: [probe(80)]),
    ]),

    // Pods that contribute no addresses, host network, placement, families
    ConformanceCase("a terminating pod leaves the matrix and matches no peer", {
        $0.update(pod: "c", in: "x") { $0.metadata.deletionTimestamp = "2026-11-26T00:00:00Z" }
        $0.apply(networkPolicy("from-c", in: "y", ingress: [.init(from: [.pods(pod("c"), inNamespaces: all)])]))
    }, probe(80) { $0.deny(from: "*", to: "y"); $0.allow(from: "y/c", to: "y"); $0.allow(from: "z/c", to: "y") }),
    ConformanceCase("a pod without an IP leaves the matrix", {
        $0.update(pod: "c", in: "y") { $0.status = PodStatus(phase: "Pending") }
        $0.apply(networkPolicy("deny", in: "y", types: [.ingress]))
    }, probe(80) { $0.deny(from: "*", to: "y") }),
    ConformanceCase("a host-network pod is never a target and leaves the matrix", {
        $0.update(pod: "c", in: "x") { $0.spec.hostNetwork = true; $0.status.podIP = "192.0.2.1"; $0.status.podIPs = ["192.0.2.1"] }
        $0.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
    }, probe(80) { $0.deny(from: "x", to: "*"); $0.deny(from: "*", to: "x") }),
    ConformanceCase("placement on three nodes changes nothing", nodes: ["node-1", "node-2", "node-3"], {
        $0.apply(networkPolicy("a-from-b", in: "x", selecting: pod("a"), ingress: [.init(from: [.pods(pod("b"))])]))
        $0.apply(networkPolicy("to-y", in: "z", types: [.egress], egress: [.init(to: [.namespaces(ns("y"))])]))
    }, probe(80) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "x/b", to: "x/a"); $0.deny(from: "z", to: "*"); $0.allow(from: "z", to: "y") }),
    ConformanceCase("an IPv6 ipBlock on dual-stack pods applies to IPv6 only", dualStack: true, {
        $0.apply(networkPolicy("from-y-v6", in: "x", selecting: pod("a"), ingress: [.init(from: [.block("fd00::2:0/112")])]))
    }, probe(80, family: .ipv6) { $0.deny(from: "*", to: "x/a"); $0.allow(from: "y", to: "x/a") },
       probe(80, family: .ipv4) { $0.deny(from: "*", to: "x/a") }),
    ConformanceCase("an IPv4 ipBlock on dual-stack pods applies to IPv4 only", dualStack: true, {
        $0.apply(networkPolicy("to-z-v4", in: "x", selecting: pod("a"), types: [.egress], egress: [.init(to: [.block("10.0.3.0/24")])]))
    }, probe(80, family: .ipv4) { $0.deny(from: "x/a", to: "*"); $0.allow(from: "x/a", to: "z") },
       probe(80, family: .ipv6) { $0.deny(from: "x/a", to: "*") }),
    ConformanceCase("selectors apply to both families", dualStack: true, {
        $0.apply(networkPolicy("from-y", in: "x", ingress: [.init(from: [.namespaces(ns("y"))])]))
    }, probe(80, family: .ipv6) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") },
       probe(80, family: .ipv4) { $0.deny(from: "*", to: "x"); $0.allow(from: "y", to: "x") }),
]
