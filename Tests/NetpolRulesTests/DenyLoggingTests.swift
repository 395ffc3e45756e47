import Foundation
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

/// The logging every test here uses: group 7, 10 records a second, burst 50.
private let logging = DenyLogging(group: 7)

/// `plan` with `logging` set, as `RuleCompiler.plan(logging:)` would make it.
private func logged(_ plan: RulePlan, _ setting: DenyLogging? = logging) -> RulePlan {
    var plan = plan
    plan.logging = setting
    return plan
}

/// Two NetworkPolicies isolating x/a on ingress (one allows from ns y on TCP
/// 80 and 8000-8080), so that its chain's end names both.
private func twoIsolatingPoliciesPlan() -> RulePlan {
    var cluster = ConformanceModel.cluster(nodes: ["node-1"])
    cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
    cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]),
                                ingress: [.init(ports: [.tcp(80), .range(8000, 8080)], from: [.namespaces(.labels(["ns": "y"]))])]))
    return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot)
}

private func chain(of pod: String, in namespace: String, _ direction: Direction, _ plan: RulePlan) throws -> PlanChain {
    let binding = try #require(plan.bindings.first { $0.pod == PodID(namespace: namespace, name: pod) && $0.direction == direction })
    return try #require(plan.chain(named: binding.chain))
}

@Suite("Deny points and who denied")
struct DenyPointTests {
    @Test func aDefaultDenyNamesEveryIsolatingPolicy() throws {
        let plan = twoIsolatingPoliciesPlan()
        let chain = try NetpolRulesTests.chain(of: "a", in: "x", .ingress, plan)
        let denial = plan.denial(at: DenyPoint(chain: chain.name))
        #expect(denial == Denial(direction: .ingress, deniedBy: .isolation([PolicyID(namespace: "x", name: "deny"), PolicyID(namespace: "x", name: "from-y")])))
        let other = try NetpolRulesTests.chain(of: "b", in: "x", .ingress, plan)
        #expect(plan.denial(at: DenyPoint(chain: other.name)) == Denial(direction: .ingress, deniedBy: .isolation([PolicyID(namespace: "x", name: "deny")])))
    }

    @Test func clusterDenyRulesNameTheirTierPolicyIndexAndName() throws {
        let plan = tieredPlan()
        let points = plan.denyPoints.compactMap { point in plan.denial(at: point).map { (point, $0) } }
        let admin = ClusterRuleID(tier: .admin, policy: "guard-x", direction: .ingress, index: 1, name: "no-y", action: .deny)
        let adminEgress = ClusterRuleID(tier: .admin, policy: "guard-x", direction: .egress, index: 0, name: "no-docs", action: .deny)
        let baseline = ClusterRuleID(tier: .baseline, policy: "default-closed", direction: .ingress, index: 1, name: "", action: .deny)
        for rule in [admin, adminEgress, baseline] {
            let found = points.filter { $0.1.deniedBy == .clusterRule(rule) }
            #expect(!found.isEmpty, "\(rule)")
            #expect(found.allSatisfy { $0.1.direction == rule.direction && $0.0.rule != nil })
        }
        // Every deny point of the plan says who denied.
        #expect(points.count == plan.denyPoints.count)
    }

    @Test func anAllowAGotoAndAnUnknownChainDenyNothing() throws {
        let plan = tieredPlan()
        let allow = try #require(plan.chains.lazy.compactMap { chain in chain.rules.firstIndex { $0.action == .allow }.map { DenyPoint(chain: chain.name, rule: $0) } }.first)
        let goto = try #require(plan.chains.lazy.compactMap { chain in
            chain.rules.firstIndex { if case .goto = $0.action { return true } else { return false } }.map { DenyPoint(chain: chain.name, rule: $0) }
        }.first)
        let gotoEnd = try #require(plan.chains.first { if case .goto = $0.end { return true } else { return false } })
        #expect(plan.denial(at: allow) == nil)
        #expect(plan.denial(at: goto) == nil)
        #expect(plan.denial(at: DenyPoint(chain: gotoEnd.name)) == nil)
        #expect(plan.denial(at: DenyPoint(chain: "ingress-000000000000")) == nil)
        #expect(plan.denial(at: DenyPoint(chain: gotoEnd.name, rule: 10_000)) == nil)
    }

    @Test func prefixesRoundTripAndFitNflog() throws {
        let plans = [tieredPlan(), dualStackPlan(), twoIsolatingPoliciesPlan()]
        let points = plans.flatMap(\.denyPoints)
        #expect(points.contains { $0.rule == nil } && points.contains { $0.rule != nil })
        for point in points {
            #expect(DenyPoint(prefix: point.prefix) == point)
        }
        let longest = try #require(plans.flatMap(\.chains).map(\.name).max { $0.utf8.count < $1.utf8.count })
        let widest = DenyPoint(chain: longest, rule: Int(UInt16.max))
        #expect(widest.prefix.utf8.count <= 63, "\(widest.prefix)")
        #expect(DenyPoint(prefix: widest.prefix) == widest)
        for text in ["", "np", "np:", "xx:ingress-1", "np:ingress-1:-1", "np:ingress-1:x", "np:a:1:2"] {
            #expect(DenyPoint(prefix: text) == nil, "\(text)")
        }
    }

    @Test func theMappingIsThePlanRuleIndex() throws {
        let plan = tieredPlan()
        for chain in plan.chains {
            #expect(chain.denyPoints == (chain.rules.indices.filter { chain.rules[$0].action == .deny }.map { DenyPoint(chain: chain.name, rule: $0) }
                + (chain.end == .deny ? [DenyPoint(chain: chain.name)] : [])))
        }
    }
}

@Suite("Deny logging in the rendered rules")
struct DenyLoggingRenderTests {
    /// With logging off the scripts stay byte for byte what they were (the
    /// golden files without logging check that); with it, every deny point
    /// has a log rule before it, the end's with no match.
    @Test(arguments: ["nft", "iptables"])
    func everyDenyPointIsLoggedOnce(_ backend: String) throws {
        let plan = logged(tieredPlan())
        let text: String
        if backend == "nft" {
            text = NftablesRenderer.script(plan)
        } else {
            text = IptablesRenderer.iptablesScript(plan, family: .ipv4) + IptablesRenderer.iptablesScript(plan, family: .ipv6)
        }
        for point in plan.denyPoints {
            #expect(text.contains("\"\(point.prefix)\""), "\(point.prefix)")
        }
        #expect(!NftablesRenderer.script(tieredPlan()).contains("log"))
        #expect(!IptablesRenderer.iptablesScript(tieredPlan(), family: .ipv4).contains("NFLOG"))
    }

    @Test func nftGoldens() throws {
        for (name, plan) in [("cluster-policy-tiers-logged", logged(tieredPlan())), ("default-deny-logged", logged(twoIsolatingPoliciesPlan()))] {
            try compare(NftablesRenderer.script(plan), golden: name + ".nft")
        }
    }

    @Test func iptablesGolden() throws {
        let plan = logged(tieredPlan())
        let rendered = "# iptables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv4)
            + "# ip6tables-restore --noflush\n" + IptablesRenderer.iptablesScript(plan, family: .ipv6)
        try compare(rendered, golden: "iptables-cluster-policy-tiers-logged.txt")
    }

    private func compare(_ text: String, golden: String) throws {
        let file = RenderGoldenTests.directory.appendingPathComponent(golden)
        if ProcessInfo.processInfo.environment["NETPOL_UPDATE_GOLDEN"] != nil {
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(text == (try String(contentsOf: file, encoding: .utf8)), "differs from \(golden)")
    }

    @Test func theIncrementalScriptKeepsLogRulesInRewrittenChains() throws {
        let plans = tieredPlanSequence().map { logged($0) }
        let diff = plans[1].diff(from: plans[0])
        try #require(!diff.changedChains.isEmpty || !diff.addedChains.isEmpty)
        let script = NftablesRenderer.script(diff, logging: logging)
        for point in (diff.changedChains + diff.addedChains).flatMap(\.denyPoints) {
            #expect(script.contains("log prefix \"\(point.prefix)\" group 7"), "\(point.prefix)")
        }
        #expect(!script.contains("limit deny-log"), "the limit object stays as it is")
    }
}

@Suite("Deny logging with the fake kernel")
struct DenyLoggingFakeTests {
    @Test func wholeAndIncrementalVerifyCleanAndARateChangeRewrites() throws {
        let plans = tieredPlanSequence().map { logged($0) }
        let programmer = NftablesProgrammer(runner: FakeNftKernel())
        try programmer.replace(plans[0])
        #expect(try programmer.verify() == [])
        for (old, new) in zip(plans, plans.dropFirst()) {
            #expect(try programmer.apply(new) == .incremental(new.diff(from: old)))
            #expect(try programmer.verify() == [])
        }
        let faster = logged(plans[plans.count - 1], DenyLogging(group: 7, rate: 20, burst: 50))
        #expect(try programmer.verify(against: faster) == [Drift(.table, "inet netpol limit deny-log", "`rate 10/second burst 50 packets`, plan has `rate 20/second burst 50 packets`")])
        #expect(try programmer.apply(faster) == .replaced(fallback: nil))
        #expect(try programmer.verify() == [])
        #expect(try programmer.apply(logged(faster, nil)) == .replaced(fallback: nil))
        #expect(try programmer.verify() == [])
        #expect(try programmer.verify(against: faster).contains(Drift(.table, "inet netpol limit deny-log", "missing")))
        // The pod-range guards log too.
        try programmer.replace(logged(dualStackPlan(guards: sampleGuards)))
        #expect(try programmer.verify() == [])
    }

    @Test func theNodePlannersDifferencesKeepLogging() throws {
        var planner = NodePlanner(node: "node-1", snapshot: tieredCluster().snapshot, logging: logging)
        #expect(planner.plan.logging == logging)
        #expect(planner.plan == RuleCompiler.plan(node: "node-1", snapshot: tieredCluster().snapshot, logging: logging))
        let programmer = NftablesProgrammer(runner: FakeNftKernel())
        try programmer.replace(planner.plan)
        planner.apply(.delete(ObjectReference(kind: "ClusterNetworkPolicy", namespace: "", name: "guard-x")))
        let diff = planner.commit(now: .zero)
        try #require(!diff.isEmpty)
        #expect(try programmer.apply(diff).fallback == nil)
        #expect(try programmer.verify() == [])
    }
}

/// Runs `body` with `count` fresh `netpol-dlog-*` namespaces, removed afterwards whatever happens.
func withLogNamespaces(_ count: Int, tag: String, _ body: ([String]) throws -> Void) throws {
    let host = ProcessRunner()
    let names = (0..<count).map { "netpol-dlog-\(getpid())-\(tag)-\($0)" }
    defer { for name in names { _ = try? host.run(Command("ip", ["netns", "delete", name])) } }
    for name in names { try host.check(Command("ip", ["netns", "add", name])) }
    try body(names)
}

/// The backends the kernel tests run on.
let backends = ["nft", "iptables-nft", "iptables-legacy"]

/// A programmer for `backend` in `namespace`; nft reads back in-process, as the agent does.
func programmer(_ backend: String, in namespace: String) -> any RuleProgrammer {
    switch backend {
    case "nft": return NftablesProgrammer(runner: InProcessNftRunner(namespace: namespace, fallback: NetnsRunner(namespace: namespace)))
    case "iptables-nft": return IptablesProgrammer(runner: NetnsRunner(namespace: namespace), mode: .nft)
    default: return IptablesProgrammer(runner: NetnsRunner(namespace: namespace), mode: .legacy)
    }
}

@Suite("Deny logging on the kernel", .enabled(if: getuid() == 0, "needs root to create network namespaces (CI runs as root)"))
struct DenyLoggingKernelTests {
    /// Log rules and the limit read back as written, whole and incremental;
    /// another rate is drift, and applying it rewrites everything.
    @Test func verifiesCleanWholeAndIncrementalAndSeesAnotherRate() throws {
        let plans = tieredPlanSequence().map { logged($0) } + [logged(dualStackPlan(guards: sampleGuards))]
        try withLogNamespaces(3, tag: "verify") { names in
            for (name, namespace) in zip(backends, names) {
                let programmer = NetpolRulesTests.programmer(name, in: namespace)
                try programmer.replace(plans[0])
                #expect(try programmer.verify() == [], "\(name), whole")
                for (number, (old, new)) in zip(plans, plans.dropFirst()).enumerated() {
                    let outcome = try programmer.apply(new)
                    #expect(outcome.fallback == nil, "\(name), step \(number + 1)")
                    if new.guards == old.guards { #expect(outcome == .incremental(new.diff(from: old)), "\(name), step \(number + 1)") }
                    let drift = try programmer.verify()
                    #expect(drift == [], "\(name), step \(number + 1): \(drift)")
                }
                // Another programmer writes another rate over it: drift for the first.
                let other = NetpolRulesTests.programmer(name, in: namespace)
                let current = try #require(programmer.applied)
                try other.replace(logged(current, DenyLogging(group: 7, rate: 20, burst: 50)))
                let drift = try programmer.verify()
                #expect(!drift.isEmpty, "\(name): a changed rate is drift")
                try programmer.replace(current)
                #expect(try programmer.verify() == [], "\(name), repaired")
            }
        }
    }
}

/// A node namespace that routes between one namespace per pod, each pod with
/// its conformance-model addresses (both families), so that pod-to-pod
/// traffic crosses the node's forward hook as on a real node.
struct PodNetwork {
    let node: String
    /// The namespace of each pod.
    let pods: [PodID: String]

    /// Builds it in `names` (the node's first, then one per pod), all of which exist.
    init(names: [String], pods: [PodID]) throws {
        node = names[0]
        var namespaces: [PodID: String] = [:]
        let host = ProcessRunner()
        func ip(_ namespace: String, _ arguments: String) throws {
            try host.check(Command("ip", ["-n", namespace] + arguments.split(separator: " ").map(String.init)))
        }
        try host.check(Command("ip", ["netns", "exec", node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]))
        try ip(node, "link set lo up")
        for (number, pod) in pods.enumerated() {
            let namespace = names[number + 1], veth = "pod\(number)"
            let v4 = ConformanceModel.ipv4(pod.namespace, pod.name), v6 = ConformanceModel.ipv6(pod.namespace, pod.name)
            try ip(node, "link add \(veth) type veth peer name eth0 netns \(namespace)")
            // The node's end answers for the pods' gateways (the same on every link).
            try ip(node, "addr add 169.254.1.1/32 dev \(veth)")
            try ip(node, "addr add fe80::1/64 dev \(veth) nodad")
            try ip(node, "link set \(veth) up")
            try ip(node, "route add \(v4)/32 dev \(veth)")
            try ip(node, "-6 route add \(v6)/128 dev \(veth)")
            try ip(namespace, "link set lo up")
            try ip(namespace, "addr add \(v4)/32 dev eth0")
            try ip(namespace, "addr add \(v6)/128 dev eth0 nodad")
            try ip(namespace, "link set eth0 up")
            try ip(namespace, "route add 169.254.1.1 dev eth0")
            try ip(namespace, "route add default via 169.254.1.1 dev eth0")
            try ip(namespace, "-6 route add default via fe80::1 dev eth0")
            namespaces[pod] = namespace
        }
        self.pods = namespaces
    }

    /// Sends one TCP SYN or UDP datagram from `pod` to `address` on `port`.
    func send(from pod: PodID, udp: Bool, to address: String, port: UInt16) throws {
        let namespace = try #require(pods[pod])
        try NamespaceThread.run(in: namespace) { PacketLogReaderTests.send(udp: udp, to: address, port: port) }
    }
}

@Suite("Denied packets logged on the kernel", .enabled(if: getuid() == 0, "needs root to create network namespaces (CI runs as root)"))
struct DeniedPacketLogTests {
    static let server = PodID(namespace: "x", name: "a"), other = PodID(namespace: "x", name: "b")
    static let isolated = PodID(namespace: "y", name: "a"), adminDenied = PodID(namespace: "y", name: "b"), allowed = PodID(namespace: "z", name: "a")

    /// x is isolated on ingress by x/deny; x/a also by x/from-z (TCP 80 from
    /// ns z); an Admin ClusterNetworkPolicy denies y/b into x.
    static func plan(_ logging: DenyLogging, guards: NodeGuards = NodeGuards(), _ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
        var cluster = ConformanceModel.cluster(dualStack: true, nodes: ["node-1"])
        change(&cluster)
        cluster.apply(networkPolicy("deny", in: "x", types: [.ingress]))
        cluster.apply(networkPolicy("from-z", in: "x", selecting: .labels(["pod": "a"]),
                                    ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "z"]))])]))
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "no-y-b"), spec: ClusterNetworkPolicySpec(
            tier: .admin, priority: 1, subject: ClusterPolicySubject(namespaces: .labels(["ns": "x"])),
            ingress: [ClusterPolicyIngressRule(name: "y-b", action: .deny, from: [ClusterPolicyPeer(pods: NamespacedPods(
                namespaceSelector: .labels(["ns": "y"]), podSelector: .labels(["pod": "b"])))])])))
        return RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, guards: guards, logging: logging)
    }

    /// Reads records until none came for half a second (at most five seconds).
    static func drain(_ reader: PacketLogReader) throws -> [PacketLogReader.Packet] {
        var packets: [PacketLogReader.Packet] = [], quiet = 0
        for _ in 0..<50 where quiet < 5 {
            let batch = try reader.read(timeout: .milliseconds(100)).packets
            packets += batch
            quiet = batch.isEmpty ? quiet + 1 : 0
        }
        return packets
    }

    @Test(arguments: NetpolRulesTests.backends)
    func deniedConnectionsAreLoggedWithWhoDenied(_ backend: String) throws {
        let plan = Self.plan(DenyLogging(group: 7))
        let pods = [Self.server, Self.isolated, Self.adminDenied, Self.allowed]
        try withLogNamespaces(pods.count + 1, tag: "deny-\(backend)") { names in
            let network = try PodNetwork(names: names, pods: pods)
            try programmer(backend, in: network.node).replace(plan)
            let reader = try NamespaceThread.run(in: network.node) { try PacketLogReader(group: 7) }
            let targets = [ConformanceModel.ipv4("x", "a"), ConformanceModel.ipv6("x", "a")]
            for target in targets { try network.send(from: Self.allowed, udp: false, to: target, port: 80) }
            for client in [Self.isolated, Self.adminDenied] {
                for target in targets {
                    for udp in [false, true] { try network.send(from: client, udp: udp, to: target, port: 80) }
                }
            }
            let packets = try Self.drain(reader)
            #expect(packets.count == 8, "\(packets)")
            let isolation = Denial(direction: .ingress, deniedBy: .isolation([PolicyID(namespace: "x", name: "deny"), PolicyID(namespace: "x", name: "from-z")]))
            let adminRule = Denial(direction: .ingress, deniedBy: .clusterRule(ClusterRuleID(tier: .admin, policy: "no-y-b", direction: .ingress, index: 0, name: "y-b", action: .deny)))
            for packet in packets {
                let denial = DenyPoint(prefix: packet.prefix).flatMap(plan.denial(at:))
                let source = packet.source.description
                if [ConformanceModel.ipv4("y", "a"), ConformanceModel.ipv6("y", "a")].contains(source) {
                    #expect(denial == isolation, "\(packet)")
                } else {
                    #expect([ConformanceModel.ipv4("y", "b"), ConformanceModel.ipv6("y", "b")].contains(source), "only denied clients log: \(packet)")
                    #expect(denial == adminRule, "\(packet)")
                }
                #expect(packet.destinationPort == 80 && targets.contains(packet.destination.description))
            }
            let seen = Set(packets.map { "\($0.source) \($0.destination) \($0.protocol.map(\.rawValue) ?? "?")" })
            #expect(seen.count == 8, "one record per denied connection, both protocols and families: \(seen.sorted())")
        }
    }

    /// y/a is isolated by no policy in force but would be by the audited
    /// y/audit-from-z (TCP 80 from ns z only); a Baseline policy denies x/b
    /// into y. SYNs from x/a are logged at the audit point, naming the audited
    /// policy; those from x/b there too and then at the Baseline Deny (the
    /// audit layer goes on to the tier it stands before); z/a's are not logged.
    /// The kernel's counters say the same: would-allow and would-deny for the
    /// audited policy, denied for the Baseline one.
    @Test(arguments: NetpolRulesTests.backends)
    func wouldBeDeniesOfAuditedPoliciesAreLoggedAndGoOn(_ backend: String) throws {
        var cluster = ConformanceModel.cluster(dualStack: true, nodes: ["node-1"])
        var audited = networkPolicy("audit-from-z", in: "y", selecting: .labels(["pod": "a"]),
                                    ingress: [.init(ports: [.tcp(80)], from: [.namespaces(.labels(["ns": "z"]))])])
        audited.metadata.annotations[NetworkPolicy.modeAnnotation] = "audit"
        cluster.apply(audited)
        cluster.apply(ClusterNetworkPolicy(metadata: ObjectMeta(name: "no-x-b"), spec: ClusterNetworkPolicySpec(
            tier: .baseline, priority: 1, subject: ClusterPolicySubject(namespaces: .labels(["ns": "y"])),
            ingress: [ClusterPolicyIngressRule(name: "x-b", action: .deny, from: [ClusterPolicyPeer(pods: NamespacedPods(
                namespaceSelector: .labels(["ns": "x"]), podSelector: .labels(["pod": "b"])))])])))
        var plan = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, logging: DenyLogging(group: 7))
        plan.countsConnections = true
        let target = PodID(namespace: "y", name: "a"), wouldDeny = Self.server, denied = Self.other, allowed = Self.allowed
        try withLogNamespaces(5, tag: "audit-\(backend)") { names in
            let network = try PodNetwork(names: names, pods: [target, wouldDeny, denied, allowed])
            let programmer = programmer(backend, in: network.node)
            try programmer.replace(plan)
            let reader = try NamespaceThread.run(in: network.node) { try PacketLogReader(group: 7) }
            for client in [allowed, wouldDeny, denied] {
                for address in [ConformanceModel.ipv4("y", "a"), ConformanceModel.ipv6("y", "a")] {
                    try network.send(from: client, udp: false, to: address, port: 80)
                }
            }
            let audit = Denial(direction: .ingress, deniedBy: .audit([PolicyID(namespace: "y", name: "audit-from-z")]))
            let baseline = Denial(direction: .ingress, deniedBy: .clusterRule(ClusterRuleID(tier: .baseline, policy: "no-x-b", direction: .ingress, index: 0, name: "x-b", action: .deny)))
            let records = try Self.drain(reader).map { packet in
                "\(packet.source) \(DenyPoint(prefix: packet.prefix).flatMap(plan.denial(at:)).map { $0 == audit ? "audit" : $0 == baseline ? "baseline" : "\($0)" } ?? packet.prefix)"
            }
            func addresses(_ pod: PodID) -> [String] { [ConformanceModel.ipv4(pod.namespace, pod.name), ConformanceModel.ipv6(pod.namespace, pod.name)] }
            let expected = (addresses(wouldDeny) + addresses(denied)).map { "\($0) audit" } + addresses(denied).map { "\($0) baseline" }
            #expect(records.sorted() == expected.sorted())
            var tally = ConnectionTally()
            tally.add(try programmer.readCounters(), plan: plan)
            let auditID = PolicyID(namespace: "y", name: "audit-from-z")
            #expect(tally.totals == [
                PolicyVerdict(direction: .ingress, policy: auditID, verdict: .wouldAllow): 2,
                PolicyVerdict(direction: .ingress, policy: auditID, verdict: .wouldDeny): 4,
                PolicyVerdict(direction: .ingress, policy: PolicyID(namespace: "", name: "no-x-b"), verdict: .denied): 2,
            ], "\(backend)")

            // The audit layer reads back as written, and enforcing the policy is an incremental step.
            #expect(try programmer.verify() == [], "audit chains and their log rules")
            audited.metadata.annotations[NetworkPolicy.modeAnnotation] = nil
            cluster.apply(audited)
            var enforced = RuleCompiler.plan(node: "node-1", snapshot: cluster.snapshot, logging: DenyLogging(group: 7))
            enforced.countsConnections = true
            #expect(try programmer.apply(enforced) == .incremental(enforced.diff(from: plan)))
            #expect(try programmer.verify() == [], "after enforcing it")
        }
    }

    /// A pod the node does not know yet (x/c, not in the plan) is stopped by
    /// the pod-range guard, logged with the guard's own prefix.
    @Test(arguments: NetpolRulesTests.backends)
    func anUnknownPodIsLoggedAsThePodRangeGuard(_ backend: String) throws {
        let unknown = PodID(namespace: "x", name: "c")
        let guards = NodeGuards(podRanges: [CIDR("10.0.0.0/16")!, CIDR("fd00::/64")!])
        let plan = Self.plan(DenyLogging(group: 7), guards: guards) { $0.pods[PodKey("x", "c")] = nil }
        try withLogNamespaces(3, tag: "guard-\(backend)") { names in
            let network = try PodNetwork(names: names, pods: [Self.server, unknown])
            try programmer(backend, in: network.node).replace(plan)
            let reader = try NamespaceThread.run(in: network.node) { try PacketLogReader(group: 7) }
            for target in [ConformanceModel.ipv4("x", "a"), ConformanceModel.ipv6("x", "a")] {
                try network.send(from: unknown, udp: false, to: target, port: 80)
            }
            let packets = try Self.drain(reader)
            #expect(packets.map(\.source.description).sorted() == [ConformanceModel.ipv4("x", "c"), ConformanceModel.ipv6("x", "c")].sorted())
            #expect(packets.allSatisfy { DenyPoint(prefix: $0.prefix) == .podRangeGuard && plan.denial(at: .podRangeGuard) == nil }, "\(packets)")
        }
    }

    /// 200 denied SYNs to two deny points at once, at 10 a second with a burst
    /// of 20: the records stay within one shared bucket.
    @Test(arguments: NetpolRulesTests.backends)
    func recordsStayWithinTheRate(_ backend: String) throws {
        let (rate, burst) = (10, 20)
        let plan = Self.plan(DenyLogging(group: 7, rate: rate, burst: burst))
        let pods = [Self.server, Self.other, Self.isolated]
        try withLogNamespaces(pods.count + 1, tag: "rate-\(backend)") { names in
            let network = try PodNetwork(names: names, pods: pods)
            try programmer(backend, in: network.node).replace(plan)
            let reader = try NamespaceThread.run(in: network.node) { try PacketLogReader(group: 7) }
            let namespace = try #require(network.pods[Self.isolated])
            let targets = [ConformanceModel.ipv4("x", "a"), ConformanceModel.ipv4("x", "b")]
            let elapsed = try NamespaceThread.run(in: namespace) {
                ContinuousClock().measure {
                    for number in 0..<200 { PacketLogReaderTests.send(udp: false, to: targets[number % 2], port: 80) }
                }
            }
            let packets = try Self.drain(reader)
            #expect(packets.count >= burst, "\(packets.count) records")
            #expect(Double(packets.count) <= Double(burst) + Double(rate) * Self.seconds(elapsed) + 1, "\(packets.count) records in \(elapsed)")
            #expect(Set(packets.map(\.prefix)).count == 2, "both deny points logged: \(Set(packets.map(\.prefix)))")
        }
    }

    /// The same over both families: nft's `inet` limit is one bucket for the
    /// node; a hashlimit table belongs to one family, so iptables has two.
    @Test(arguments: NetpolRulesTests.backends)
    func familiesShareTheBucketOnNftOnly(_ backend: String) throws {
        let (rate, burst) = (10, 20)
        let plan = Self.plan(DenyLogging(group: 7, rate: rate, burst: burst))
        let buckets = backend == "nft" ? 1 : 2
        try withLogNamespaces(3, tag: "family-\(backend)") { names in
            let network = try PodNetwork(names: names, pods: [Self.server, Self.isolated])
            try programmer(backend, in: network.node).replace(plan)
            let reader = try NamespaceThread.run(in: network.node) { try PacketLogReader(group: 7) }
            let namespace = try #require(network.pods[Self.isolated])
            let targets = [ConformanceModel.ipv4("x", "a"), ConformanceModel.ipv6("x", "a")]
            let elapsed = try NamespaceThread.run(in: namespace) {
                ContinuousClock().measure {
                    for number in 0..<200 { PacketLogReaderTests.send(udp: false, to: targets[number % 2], port: 80) }
                }
            }
            let packets = try Self.drain(reader)
            let bound = Double(buckets) * (Double(burst) + Double(rate) * Self.seconds(elapsed) + 1)
            #expect(packets.count >= buckets * burst && Double(packets.count) <= bound, "\(packets.count) records in \(elapsed), \(buckets) buckets")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
