import NetpolModel
import NetpolRules
import NetpolTesting

/// node-1's plan for a dual-stack x/y/z cluster with every kind of set: pod
/// addresses, an ipBlock minus an exception (an interval set), a named port on
/// egress (`address . protocol . port`), a port range.
func dualStackPlan(guards: NodeGuards = NodeGuards(), _ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
    var cluster = ConformanceModel.cluster(dualStack: true)
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
    cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]),
                                ingress: [.init(ports: [.tcp(80), .range(8000, 8080)], from: [.namespaces(.labels(["ns": "y"]))])]))
    cluster.apply(networkPolicy("out", in: "x", selecting: .labels(["pod": "a"]), types: [.egress], egress: [
        .init(ports: [.named("serve-80-tcp")], to: [.pods(.labels(["pod": "b"]), inNamespaces: .everything)]),
        .init(to: [.block("192.0.2.0/24", except: ["192.0.2.64/26"])]),
    ]))
    change(&cluster)
    return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, guards: guards)
}

/// Both node guards, over part of the x/y/z cluster's addresses in each family.
let sampleGuards = NodeGuards(podRanges: [CIDR("10.0.1.0/24")!, CIDR("10.0.2.0/25")!, CIDR("fd00::1:0/112")!], synOnlyOpens: true)

