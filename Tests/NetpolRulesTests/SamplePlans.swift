import NetpolModel
import NetpolRules
import NetpolTesting

/// node-1's plan for a dual-stack x/y/z cluster with every kind of set: pod
/// addresses, an ipBlock minus an exception (an interval set), a named port on
/// egress (`address . protocol . port`), a port range.
func dualStackPlan(_ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
    var cluster = ConformanceModel.cluster(dualStack: true)
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
    cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]),
                                ingress: [.init(ports: [.tcp(80), .range(8000, 8080)], from: [.namespaces(.labels(["ns": "y"]))])]))
    cluster.apply(networkPolicy("out", in: "x", selecting: .labels(["pod": "a"]), types: [.egress], egress: [
        .init(ports: [.named("serve-80-tcp")], to: [.pods(.labels(["pod": "b"]), inNamespaces: .everything)]),
        .init(to: [.block("192.0.2.0/24", except: ["192.0.2.64/26"])]),
    ]))
    change(&cluster)
    return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
}

