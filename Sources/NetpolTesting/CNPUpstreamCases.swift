import NetpolEngine
import NetpolModel

/// The upstream ClusterNetworkPolicy conformance suite (kubernetes-sigs/network-policy-api
/// `conformance/tests`, 24 tests with 92 subtests), transcribed test by test on
/// `CNPConformanceModel`. One case per upstream test, one step per subtest, in
/// upstream's order: each subtest patches the state the earlier ones left, as
/// upstream's do, and the first step also applies the test's manifests. A
/// subtest that changes the cluster between its probes is split into steps of
/// the same name. Every `poke` is one of upstream's `PokeServer` calls.
///
/// Upstream probes SCTP too; the engine judges those, the lab (no SCTP in this
/// kernel) skips them. The node-peer tests probe host-network pods, which the lab
/// does not build.
public let cnpUpstreamCases: [ClusterConformanceCase] = UpstreamCases.admin + UpstreamCases.baseline + UpstreamCases.experimental

private func harry(_ replica: Int) -> PodID { CNPConformanceModel.gryffindor.pod(replica) }
private func draco(_ replica: Int) -> PodID { CNPConformanceModel.slytherin.pod(replica) }
private func cedric(_ replica: Int) -> PodID { CNPConformanceModel.hufflepuff.pod(replica) }
private func luna(_ replica: Int) -> PodID { CNPConformanceModel.ravenclaw.pod(replica) }
private func centaur(_ replica: Int) -> PodID { CNPConformanceModel.forbiddenForrest.pod(replica) }

private let gryffindor = CNPConformanceModel.gryffindor
private let slytherin = CNPConformanceModel.slytherin
private let hufflepuff = CNPConformanceModel.hufflepuff
private let ravenclaw = CNPConformanceModel.ravenclaw
private let hostPorts = CNPConformanceModel.hostNetworkPorts

/// `matchLabels: {kubernetes.io/metadata.name: network-policy-conformance-<house>}`.
private func named(_ house: CNPConformanceModel.House) -> LabelSelector {
    .labels([Snapshot.namespaceNameLabel: house.namespace])
}

/// `matchLabels: {conformance-house: <house>}`, on namespaces and pods alike.
private func labelled(_ house: CNPConformanceModel.House) -> LabelSelector {
    .labels([CNPConformanceModel.houseLabel: house.name])
}

/// The rule list every standard protocol test shares (`standard-{ingress,egress}-{tcp,udp,sctp}-rules.yaml`
/// and `standard-gress-rules-combined.yaml`, both tiers): Accept, Deny and (Admin
/// only) Pass everything with one house; Deny and (Admin only) Pass one house at
/// some ports; Accept a third house at some ports, then Deny it everything else.
private struct TierRules {
    var everything: CNPConformanceModel.House
    var denied: CNPConformanceModel.House
    var deniedPorts: [ClusterPolicyProtocol]
    var accepted: CNPConformanceModel.House
    var acceptedPorts: [ClusterPolicyProtocol]
    /// The Admin files have the Pass rules; the Baseline ones do not.
    var passes: Bool

    var ingress: [ClusterPolicyIngressRule] {
        entries("from").map { ClusterPolicyIngressRule(name: $0.name, action: $0.action, from: [.inNamespaces(named($0.house))], protocols: $0.protocols) }
    }

    var egress: [ClusterPolicyEgressRule] {
        entries("to").map { ClusterPolicyEgressRule(name: $0.name, action: $0.action, to: [.inNamespaces(named($0.house))], protocols: $0.protocols) }
    }

    /// The rules in order, named as upstream names them (`allow-from-ravenclaw-everything`),
    /// but for the combined files, whose names say `port` or `ports` at random
    /// (and one leaves out 9003): here one port is `port-N`, several `ports-N-M`.
    private func entries(_ word: String) -> [(name: String, action: ClusterPolicyAction, house: CNPConformanceModel.House, protocols: [ClusterPolicyProtocol])] {
        let deniedAt = "\(denied.name)-at-\(Self.describe(deniedPorts))", acceptedAt = "\(accepted.name)-at-\(Self.describe(acceptedPorts))"
        return [("allow-\(word)-\(everything.name)-everything", .accept, everything, [])]
            + [("deny-\(word)-\(everything.name)-everything", .deny, everything, [])]
            + (passes ? [("pass-\(word)-\(everything.name)-everything", .pass, everything, [])] : [])
            + [("deny-\(word)-\(deniedAt)", .deny, denied, deniedPorts)]
            + (passes ? [("pass-\(word)-\(deniedAt)", .pass, denied, deniedPorts)] : [])
            + [("allow-\(word)-\(acceptedAt)", .accept, accepted, acceptedPorts)]
            + [("deny-\(word)-\(accepted.name)-everything-else", .deny, accepted, [])]
    }

    private static func describe(_ protocols: [ClusterPolicyProtocol]) -> String {
        let numbers = protocols.compactMap { $0.protocolMatch?.1.destinationPort?.number }.map(String.init)
        return (numbers.count == 1 ? "port-" : "ports-") + numbers.joined(separator: "-")
    }
}

/// The Admin policy `name` of a standard protocol test, subject one house by name.
private func adminPolicy(_ name: String, priority: Int, subject: CNPConformanceModel.House, ingress: TierRules? = nil, egress: TierRules? = nil) -> ClusterNetworkPolicy {
    clusterPolicy(name, tier: .admin, priority: priority, subject: .inNamespaces(named(subject)), ingress: ingress?.ingress ?? [], egress: egress?.egress ?? [])
}

/// The Baseline policy `default` (priority 10) of a standard protocol test.
private func baselinePolicy(subject: CNPConformanceModel.House, ingress: TierRules? = nil, egress: TierRules? = nil) -> ClusterNetworkPolicy {
    clusterPolicy("default", tier: .baseline, priority: 10, subject: .inNamespaces(named(subject)), ingress: ingress?.ingress ?? [], egress: egress?.egress ?? [])
}

// MARK: - The policies of conformance/base

/// base/admin_tier/standard-ingress-tcp-rules.yaml
private let adminIngressTCP = adminPolicy("ingress-tcp", priority: 3, subject: gryffindor, ingress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80)], accepted: hufflepuff, acceptedPorts: [.tcp(80)], passes: true))
/// base/admin_tier/standard-ingress-udp-rules.yaml
private let adminIngressUDP = adminPolicy("ingress-udp", priority: 4, subject: hufflepuff, ingress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.udp(5353)], accepted: gryffindor, acceptedPorts: [.udp(53)], passes: true))
/// base/admin_tier/standard-ingress-sctp-rules.yaml
private let adminIngressSCTP = adminPolicy("ingress-sctp", priority: 5, subject: ravenclaw, ingress: TierRules(
    everything: gryffindor, denied: slytherin, deniedPorts: [.sctp(9003)], accepted: hufflepuff, acceptedPorts: [.sctp(9003)], passes: true))
/// base/admin_tier/standard-egress-tcp-rules.yaml
private let adminEgressTCP = adminPolicy("egress-tcp", priority: 6, subject: gryffindor, egress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80)], accepted: hufflepuff, acceptedPorts: [.tcp(8080)], passes: true))
/// base/admin_tier/standard-egress-udp-rules.yaml
private let adminEgressUDP = adminPolicy("egress-udp", priority: 7, subject: hufflepuff, egress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.udp(5353)], accepted: gryffindor, acceptedPorts: [.udp(53)], passes: true))
/// base/admin_tier/standard-egress-sctp-rules.yaml
private let adminEgressSCTP = adminPolicy("egress-sctp", priority: 8, subject: ravenclaw, egress: TierRules(
    everything: gryffindor, denied: slytherin, deniedPorts: [.sctp(9003)], accepted: hufflepuff, acceptedPorts: [.sctp(9003)], passes: true))
/// base/admin_tier/standard-gress-rules-combined.yaml
private let adminGress = adminPolicy("gress-rules", priority: 15, subject: gryffindor,
    ingress: TierRules(everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80), .udp(53), .sctp(9003)],
                       accepted: hufflepuff, acceptedPorts: [.tcp(80), .udp(5353), .sctp(9003)], passes: true),
    egress: TierRules(everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80), .udp(53), .sctp(9003)],
                      accepted: hufflepuff, acceptedPorts: [.tcp(8080), .udp(5353), .sctp(9003)], passes: true))

/// base/baseline_tier/standard-ingress-tcp-rules.yaml
private let baselineIngressTCP = baselinePolicy(subject: gryffindor, ingress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80)], accepted: hufflepuff, acceptedPorts: [.tcp(80)], passes: false))
/// base/baseline_tier/standard-ingress-udp-rules.yaml
private let baselineIngressUDP = baselinePolicy(subject: hufflepuff, ingress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.udp(5353)], accepted: gryffindor, acceptedPorts: [.udp(53)], passes: false))
/// base/baseline_tier/standard-ingress-sctp-rules.yaml
private let baselineIngressSCTP = baselinePolicy(subject: ravenclaw, ingress: TierRules(
    everything: gryffindor, denied: slytherin, deniedPorts: [.sctp(9003)], accepted: hufflepuff, acceptedPorts: [.sctp(9003)], passes: false))
/// base/baseline_tier/standard-egress-tcp-rules.yaml
private let baselineEgressTCP = baselinePolicy(subject: gryffindor, egress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80)], accepted: hufflepuff, acceptedPorts: [.tcp(8080)], passes: false))
/// base/baseline_tier/standard-egress-udp-rules.yaml
private let baselineEgressUDP = baselinePolicy(subject: hufflepuff, egress: TierRules(
    everything: ravenclaw, denied: slytherin, deniedPorts: [.udp(5353)], accepted: gryffindor, acceptedPorts: [.udp(53)], passes: false))
/// base/baseline_tier/standard-egress-sctp-rules.yaml
private let baselineEgressSCTP = baselinePolicy(subject: ravenclaw, egress: TierRules(
    everything: gryffindor, denied: slytherin, deniedPorts: [.sctp(9003)], accepted: hufflepuff, acceptedPorts: [.sctp(9003)], passes: false))
/// base/baseline_tier/standard-gress-rules-combined.yaml
private let baselineGress = baselinePolicy(subject: gryffindor,
    ingress: TierRules(everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80), .udp(53), .sctp(9003)],
                       accepted: hufflepuff, acceptedPorts: [.tcp(80), .udp(5353), .sctp(9003)], passes: false),
    egress: TierRules(everything: ravenclaw, denied: slytherin, deniedPorts: [.tcp(80), .udp(53), .sctp(9003)],
                      accepted: hufflepuff, acceptedPorts: [.tcp(8080), .udp(5353), .sctp(9003)], passes: false))

/// The egress rules of both `standard-egress-inline-cidr-rules.yaml`: Accept
/// slytherin's pods, Deny the whole internet (pods included).
private let inlineCIDRRules = [
    ClusterPolicyEgressRule(name: "allow-egress-to-slytherin", action: .accept, to: [.pods(labelled(slytherin), inNamespaces: labelled(slytherin))]),
    ClusterPolicyEgressRule(name: "deny-egress-to-internet", action: .deny, to: [.cidrs("0.0.0.0/0", "::/0")]),
]
/// base/admin_tier/standard-egress-inline-cidr-rules.yaml
private let adminInlineCIDR = clusterPolicy("inline-cidr-as-peers-example", tier: .admin, priority: 85,
                                            subject: .pods(labelled(gryffindor), inNamespaces: labelled(gryffindor)), egress: inlineCIDRRules)
/// base/baseline_tier/standard-egress-inline-cidr-rules.yaml
private let baselineInlineCIDR = clusterPolicy("default", tier: .baseline, priority: 10, subject: .inNamespaces(named(gryffindor)), egress: inlineCIDRRules)

/// base/api_integration/standard-anp-np-banp.yaml: an Admin Deny (that the test
/// turns into Pass), a NetworkPolicy allowing slytherin, a Baseline Deny.
private func integrationPolicy(_ name: String, tier: PolicyTier) -> ClusterNetworkPolicy {
    clusterPolicy(name, tier: tier, priority: 10, subject: .inNamespaces(labelled(gryffindor)),
                  ingress: [.init(name: "deny-all-ingress-from-slytherin", action: .deny, from: [.inNamespaces(labelled(slytherin))])],
                  egress: [.init(name: "deny-all-egress-to-slytherin", action: .deny, to: [.inNamespaces(labelled(slytherin))])])
}
private let integrationNetworkPolicy = networkPolicy(
    "allow-gress-from-to-slytherin-to-gryffindor", in: gryffindor.namespace, types: [.ingress, .egress],
    ingress: [.init(from: [.namespaces(labelled(slytherin))])], egress: [.init(to: [.namespaces(labelled(slytherin))])])

/// base/admin_tier/standard-priority-field.yaml: the same rule in three policies
/// with different actions, subject gryffindor's pods, peer slytherin's pods.
private func priorityPolicy(_ name: String, tier: PolicyTier, priority: Int, _ action: ClusterPolicyAction, _ word: String) -> ClusterNetworkPolicy {
    let gryffindorPods = ClusterPolicySubject.pods(labelled(gryffindor), inNamespaces: labelled(gryffindor))
    let slytherinPods = ClusterPolicyPeer.pods(labelled(slytherin), inNamespaces: labelled(slytherin))
    return clusterPolicy(name, tier: tier, priority: priority, subject: gryffindorPods,
                         ingress: [.init(name: "\(word)-all-ingress-from-slytherin", action: action, from: [slytherinPods])],
                         egress: [.init(name: "\(word)-all-egress-to-slytherin", action: action, to: [slytherinPods])])
}

/// The `nodes` selector of both `experimental-egress-selector-rules.yaml`.
private let linuxNodes = ClusterPolicyPeer.nodesLabelled(.labels(["kubernetes.io/os": "linux"]))
/// base/admin_tier/experimental-egress-selector-rules.yaml
private let adminNodePeers = clusterPolicy(
    "node-and-cidr-as-peers-example", tier: .admin, priority: 75, subject: .pods(labelled(gryffindor), inNamespaces: labelled(gryffindor)), egress: [
        .init(name: "allow-egress-to-\(hostPorts[0])-on-nodes", action: .accept, to: [linuxNodes], protocols: [.tcp(hostPorts[0])]),
        .init(name: "pass-egress-to-\(hostPorts[2])-on-nodes", action: .pass, to: [linuxNodes], protocols: [.udp(hostPorts[2])]),
        .init(name: "deny-egress-to-slytherin-and-nodes-and-internet", action: .deny,
              to: [.pods(labelled(slytherin), inNamespaces: labelled(slytherin)), linuxNodes, .cidrs("0.0.0.0/0", "::/0")]),
    ])
/// base/baseline_tier/experimental-egress-selector-rules.yaml
private let baselineNodePeers = clusterPolicy(
    "default", tier: .baseline, priority: 10, subject: .inNamespaces(named(gryffindor)), egress: [
        .init(name: "allow-egress-to-\(hostPorts[0])-on-nodes", action: .accept, to: [linuxNodes], protocols: [.range(.tcp, hostPorts[0]...hostPorts[1])]),
        .init(name: "deny-egress-to-nodes-and-internet", action: .deny, to: [linuxNodes, .cidrs("0.0.0.0/0", "::/0")]),
    ])

/// Upstream's `allow-egress-to-specific-podIPs`, made of the two pods' addresses
/// with a /32 (or /128) mask, put first.
private func allowSpecificPodIPs(_ cluster: inout Cluster, policy: String) {
    let cidrs = [luna(0), cedric(0)].map { id in
        let address = cluster.address(of: id)
        return address + (address.contains(":") ? "/128" : "/32")
    }
    cluster.update(clusterPolicy: policy) {
        $0.spec.egress.insert(.init(name: "allow-egress-to-specific-podIPs", action: .accept, to: [ClusterPolicyPeer(networks: cidrs)]), at: 0)
    }
}

/// The probes of the inline-CIDR subtests: TCP 80, UDP 53 and SCTP 9003 from harry-potter-1.
private func pokeAllProtocols(_ to: PodID, _ allowed: Bool) -> [PairExpectation] {
    [poke(harry(1), to, .tcp, 80, allowed), poke(harry(1), to, .udp, 53, allowed), poke(harry(1), to, .sctp, 9003, allowed)]
}

/// Both inline-CIDR tests: the same subtests, on the Admin or the Baseline policy.
private func inlineCIDRSteps(_ policy: ClusterNetworkPolicy) -> [ClusterStep] {
    let deny = "Should support a 'deny-egress' rule policy for egress-cidr-peer"
    return [
        ClusterStep(deny, change: { $0.apply(policy) }, pokeAllProtocols(luna(0), false) + pokeAllProtocols(cedric(0), false) + pokeAllProtocols(draco(0), true)),
        ClusterStep(deny, change: { $0.relabel(namespace: slytherin.namespace, [CNPConformanceModel.houseLabel: "denied-namespace-label"]) },
                    pokeAllProtocols(draco(0), false)),
        ClusterStep(deny, change: { $0.relabel(namespace: slytherin.namespace, [CNPConformanceModel.houseLabel: slytherin.name]) },
                    pokeAllProtocols(draco(0), true)),
        ClusterStep("Should support an 'allow-egress' rule policy for egress-cidr-peer", change: { allowSpecificPodIPs(&$0, policy: policy.name) },
                    pokeAllProtocols(luna(0), true) + pokeAllProtocols(cedric(0), true) + pokeAllProtocols(luna(1), false) + pokeAllProtocols(cedric(1), false)),
    ]
}

/// Replaces the protocols of rule `index` by one `destinationNamedPort`.
private func nameThePort(_ cluster: inout Cluster, policy: String, ingress index: Int, _ name: String) {
    cluster.update(clusterPolicy: policy) { $0.spec.ingress[index].protocols = [.named(name)] }
}

private func nameThePort(_ cluster: inout Cluster, policy: String, egress index: Int, _ name: String) {
    cluster.update(clusterPolicy: policy) { $0.spec.egress[index].protocols = [.named(name)] }
}

private func swapIngress(_ policy: String, _ first: Int, _ second: Int) -> @Sendable (inout Cluster) -> Void {
    { $0.update(clusterPolicy: policy) { $0.spec.ingress.swapAt(first, second) } }
}

private func swapEgress(_ policy: String, _ first: Int, _ second: Int) -> @Sendable (inout Cluster) -> Void {
    { $0.update(clusterPolicy: policy) { $0.spec.egress.swapAt(first, second) } }
}

private func swapBoth(_ policy: String, _ first: Int, _ second: Int) -> @Sendable (inout Cluster) -> Void {
    { $0.update(clusterPolicy: policy) { $0.spec.ingress.swapAt(first, second); $0.spec.egress.swapAt(first, second) } }
}

private func upstreamFile(_ name: String) -> String { "conformance/tests/\(name).go" }

// MARK: - The tests of conformance/tests

private enum UpstreamCases {
    static let admin: [ClusterConformanceCase] = [
        ClusterConformanceCase("CNPAdminTierIngressTCP", upstream: upstreamFile("admin-network-policy-standard-ingress-tcp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected", change: { $0.apply(adminIngressTCP) },
                        [poke(luna(0), harry(0), .tcp, 80, true), poke(luna(1), harry(0), .tcp, 8080, true)]),
            ClusterStep("Should support an 'allow-ingress' policy for TCP protocol at the specified port",
                        [poke(cedric(0), harry(1), .tcp, 80, true), poke(cedric(1), harry(1), .tcp, 8080, false)]),
            ClusterStep("Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected", change: swapIngress("ingress-tcp", 0, 1),
                        [poke(luna(0), harry(1), .tcp, 80, false), poke(luna(1), harry(1), .tcp, 8080, false)]),
            ClusterStep("Should support a 'deny-ingress' policy for TCP protocol at the specified port",
                        [poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, true)]),
            ClusterStep("Should support an 'pass-ingress' policy for TCP protocol; ensure rule ordering is respected", change: swapIngress("ingress-tcp", 0, 2),
                        [poke(luna(0), harry(0), .tcp, 80, true), poke(luna(1), harry(0), .tcp, 8080, true)]),
            ClusterStep("Should support a 'pass-ingress' policy for TCP protocol at the specified port", change: swapIngress("ingress-tcp", 3, 4),
                        [poke(draco(0), harry(0), .tcp, 80, true), poke(draco(1), harry(0), .tcp, 8080, true)]),
        ]),
        ClusterConformanceCase("CNPAdminTierIngressUDP", upstream: upstreamFile("admin-network-policy-standard-ingress-udp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected", change: { $0.apply(adminIngressUDP) },
                        [poke(luna(0), cedric(0), .udp, 53, true), poke(luna(1), cedric(0), .udp, 5353, true)]),
            ClusterStep("Should support an 'allow-ingress' policy for UDP protocol at the specified port",
                        [poke(harry(0), cedric(1), .udp, 53, true), poke(harry(1), cedric(1), .udp, 5353, false)]),
            ClusterStep("Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected", change: swapIngress("ingress-udp", 0, 1),
                        [poke(luna(0), cedric(1), .udp, 53, false), poke(luna(1), cedric(1), .udp, 5353, false)]),
            ClusterStep("Should support a 'deny-ingress' policy for UDP protocol at the specified port",
                        [poke(draco(0), cedric(0), .udp, 5353, false), poke(draco(1), cedric(0), .udp, 53, true)]),
            ClusterStep("Should support an 'pass-ingress' policy for UDP protocol; ensure rule ordering is respected", change: swapIngress("ingress-udp", 0, 2),
                        [poke(luna(0), cedric(1), .udp, 5353, true), poke(luna(1), cedric(1), .udp, 53, true)]),
            ClusterStep("Should support a 'pass-ingress' policy for UDP protocol at the specified port", change: swapIngress("ingress-udp", 3, 4),
                        [poke(draco(0), cedric(0), .udp, 5353, true), poke(draco(1), cedric(0), .udp, 53, true)]),
        ]),
        ClusterConformanceCase("CNPAdminTierIngressSCTP", upstream: upstreamFile("admin-network-policy-standard-ingress-sctp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected", change: { $0.apply(adminIngressSCTP) },
                        [poke(harry(0), luna(0), .sctp, 9003, true), poke(harry(1), luna(0), .sctp, 9005, true)]),
            ClusterStep("Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
                        [poke(cedric(0), luna(1), .sctp, 9003, true), poke(cedric(1), luna(1), .sctp, 9005, false)]),
            ClusterStep("Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected", change: swapIngress("ingress-sctp", 0, 1),
                        [poke(harry(0), luna(1), .sctp, 9003, false), poke(harry(1), luna(1), .sctp, 9005, false)]),
            ClusterStep("Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
                        [poke(draco(0), luna(0), .sctp, 9003, false), poke(draco(1), luna(0), .sctp, 9005, true)]),
            ClusterStep("Should support an 'pass-ingress' policy for SCTP protocol; ensure rule ordering is respected", change: swapIngress("ingress-sctp", 0, 2),
                        [poke(harry(0), luna(1), .sctp, 9003, true), poke(harry(1), luna(1), .sctp, 9005, true)]),
            ClusterStep("Should support a 'pass-ingress' policy for SCTP protocol at the specified port", change: swapIngress("ingress-sctp", 3, 4),
                        [poke(draco(0), luna(0), .sctp, 9003, true), poke(draco(1), luna(0), .sctp, 9005, true)]),
        ]),
        ClusterConformanceCase("CNPAdminTierEgressTCP", upstream: upstreamFile("admin-network-policy-standard-egress-tcp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected", change: { $0.apply(adminEgressTCP) },
                        [poke(harry(0), luna(0), .tcp, 80, true), poke(harry(1), luna(0), .tcp, 8080, true)]),
            ClusterStep("Should support an 'allow-egress' policy for TCP protocol at the specified port",
                        [poke(harry(0), cedric(1), .tcp, 8080, true), poke(harry(1), cedric(1), .tcp, 80, false)]),
            ClusterStep("Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected", change: swapEgress("egress-tcp", 0, 1),
                        [poke(harry(0), luna(1), .tcp, 80, false), poke(harry(1), luna(1), .tcp, 8080, false)]),
            ClusterStep("Should support a 'deny-egress' policy for TCP protocol at the specified port",
                        [poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, true)]),
            ClusterStep("Should support an 'pass-egress' policy for TCP protocol; ensure rule ordering is respected", change: swapEgress("egress-tcp", 0, 2),
                        [poke(harry(0), luna(0), .tcp, 80, true), poke(harry(1), luna(0), .tcp, 8080, true)]),
            ClusterStep("Should support a 'pass-egress' policy for TCP protocol at the specified port", change: swapEgress("egress-tcp", 3, 4),
                        [poke(harry(0), draco(0), .tcp, 80, true), poke(harry(1), draco(0), .tcp, 8080, true)]),
        ]),
        ClusterConformanceCase("CNPAdminTierEgressUDP", upstream: upstreamFile("admin-network-policy-standard-egress-udp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected", change: { $0.apply(adminEgressUDP) },
                        [poke(cedric(0), luna(0), .udp, 53, true), poke(cedric(1), luna(0), .udp, 5353, true)]),
            ClusterStep("Should support an 'allow-egress' policy for UDP protocol at the specified port",
                        [poke(cedric(0), harry(1), .udp, 53, true), poke(cedric(1), harry(1), .udp, 5353, false)]),
            ClusterStep("Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected", change: swapEgress("egress-udp", 0, 1),
                        [poke(cedric(0), luna(1), .udp, 53, false), poke(cedric(1), luna(1), .udp, 5353, false)]),
            ClusterStep("Should support a 'deny-egress' policy for UDP protocol at the specified port",
                        [poke(cedric(0), draco(0), .udp, 5353, false), poke(cedric(1), draco(0), .udp, 53, true)]),
            ClusterStep("Should support an 'pass-egress' policy for UDP protocol; ensure rule ordering is respected", change: swapEgress("egress-udp", 0, 2),
                        [poke(cedric(0), luna(1), .udp, 5353, true), poke(cedric(1), luna(1), .udp, 53, true)]),
            ClusterStep("Should support a 'pass-egress' policy for UDP protocol at the specified port", change: swapEgress("egress-udp", 3, 4),
                        [poke(cedric(0), draco(0), .udp, 5353, true), poke(cedric(1), draco(0), .udp, 53, true)]),
        ]),
        ClusterConformanceCase("CNPAdminTierEgressSCTP", upstream: upstreamFile("admin-network-policy-standard-egress-sctp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected", change: { $0.apply(adminEgressSCTP) },
                        [poke(luna(0), harry(0), .sctp, 9003, true), poke(luna(1), harry(0), .sctp, 9005, true)]),
            ClusterStep("Should support an 'allow-egress' policy for SCTP protocol at the specified port",
                        [poke(luna(0), cedric(1), .sctp, 9003, true), poke(luna(1), cedric(1), .sctp, 9005, false)]),
            ClusterStep("Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected", change: swapEgress("egress-sctp", 0, 1),
                        [poke(luna(0), harry(1), .sctp, 9003, false), poke(luna(1), harry(1), .sctp, 9005, false)]),
            ClusterStep("Should support a 'deny-egress' policy for SCTP protocol at the specified port",
                        [poke(luna(0), draco(0), .sctp, 9003, false), poke(luna(1), draco(0), .sctp, 9005, true)]),
            ClusterStep("Should support an 'pass-egress' policy for SCTP protocol; ensure rule ordering is respected", change: swapEgress("egress-sctp", 0, 2),
                        [poke(luna(0), harry(1), .sctp, 9003, true), poke(luna(1), harry(1), .sctp, 9005, true)]),
            ClusterStep("Should support a 'pass-egress' policy for SCTP protocol at the specified port", change: swapEgress("egress-sctp", 3, 4),
                        [poke(luna(0), draco(0), .sctp, 9003, true), poke(luna(1), draco(0), .sctp, 9005, true)]),
        ]),
        ClusterConformanceCase("CNPAdminTierGress", upstream: upstreamFile("admin-network-policy-standard-gress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-gress' policy across different protocols", change: { $0.apply(adminGress) }, [
                poke(harry(0), luna(0), .tcp, 80, true), poke(harry(1), luna(0), .udp, 53, true), poke(harry(0), luna(0), .sctp, 9003, true),
                poke(luna(0), harry(0), .tcp, 80, true), poke(luna(1), harry(0), .udp, 53, true), poke(luna(1), harry(0), .sctp, 9003, true),
            ]),
            ClusterStep("Should support an 'allow-gress' policy across different protocols at the specified ports", [
                poke(harry(0), cedric(1), .tcp, 8080, true), poke(harry(1), cedric(1), .tcp, 80, false),
                poke(harry(0), cedric(1), .udp, 5353, true), poke(harry(1), cedric(1), .udp, 53, false),
                poke(harry(0), cedric(1), .sctp, 9003, true), poke(harry(1), cedric(1), .sctp, 9005, false),
                poke(cedric(0), harry(1), .tcp, 80, true), poke(cedric(1), harry(1), .tcp, 8080, false),
                poke(cedric(0), harry(1), .udp, 5353, true), poke(cedric(1), harry(1), .udp, 53, false),
                poke(cedric(0), harry(1), .sctp, 9003, true), poke(cedric(1), harry(1), .sctp, 9005, false),
            ]),
            ClusterStep("Should support an 'deny-gress' policy across different protocols", change: swapBoth("gress-rules", 0, 1), [
                poke(harry(0), luna(1), .tcp, 80, false), poke(harry(1), luna(1), .udp, 53, false), poke(harry(0), luna(1), .sctp, 9003, false),
                poke(luna(0), harry(1), .tcp, 80, false), poke(luna(1), harry(1), .udp, 53, false), poke(luna(1), harry(1), .sctp, 9003, false),
            ]),
            ClusterStep("Should support a 'deny-gress' policy across different protocols at the specified ports", [
                poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, true),
                poke(harry(0), draco(0), .udp, 53, false), poke(harry(1), draco(0), .udp, 5353, true),
                poke(harry(0), draco(0), .sctp, 9003, false), poke(harry(1), draco(0), .sctp, 9005, true),
                poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, true),
                poke(draco(0), harry(0), .udp, 53, false), poke(draco(1), harry(0), .udp, 5353, true),
                poke(draco(0), harry(0), .sctp, 9003, false), poke(draco(1), harry(0), .sctp, 9005, true),
            ]),
            ClusterStep("Should support an 'pass-gress' policy across different protocols", change: swapBoth("gress-rules", 0, 2), [
                poke(harry(0), luna(0), .tcp, 80, true), poke(harry(0), luna(0), .udp, 5353, true), poke(harry(0), luna(0), .sctp, 9003, true),
                poke(luna(0), harry(0), .tcp, 80, true), poke(luna(1), harry(0), .udp, 53, true), poke(luna(1), harry(0), .sctp, 9003, true),
            ]),
            ClusterStep("Should support a 'pass-gress' policy across different protocols at the specified ports", change: swapBoth("gress-rules", 3, 4), [
                poke(harry(0), draco(0), .tcp, 80, true), poke(harry(1), draco(0), .tcp, 8080, true),
                poke(harry(0), draco(0), .udp, 53, true), poke(harry(1), draco(0), .udp, 5353, true),
                poke(harry(0), draco(0), .sctp, 9003, true), poke(harry(1), draco(0), .sctp, 9005, true),
                poke(draco(0), harry(0), .tcp, 80, true), poke(draco(1), harry(0), .tcp, 8080, true),
                poke(draco(0), harry(0), .udp, 53, true), poke(draco(1), harry(0), .udp, 5353, true),
                poke(draco(0), harry(0), .sctp, 9003, true), poke(draco(1), harry(0), .sctp, 9005, true),
            ]),
        ]),
        ClusterConformanceCase("CNPAdminTierIntegration", upstream: upstreamFile("admin-network-policy-standard-integration"), world: .houses, steps: [
            ClusterStep("Should Deny traffic from slytherin to gryffindor respecting admin CNP", change: {
                $0.apply(integrationPolicy("pass-example", tier: .admin))
                $0.apply(integrationNetworkPolicy)
                $0.apply(integrationPolicy("default", tier: .baseline))
            }, [poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, false)]),
            ClusterStep("Should Deny traffic to slytherin from gryffindor respecting admin CNP",
                        [poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, false)]),
            ClusterStep("Should support a 'pass-ingress' policy for admin CNP and respect the match for network policy",
                        change: { $0.update(clusterPolicy: "pass-example") { $0.spec.ingress[0].action = .pass } },
                        [poke(draco(0), harry(0), .tcp, 80, true), poke(draco(1), harry(0), .tcp, 8080, true)]),
            ClusterStep("Should support a 'pass-egress' policy for admin CNP and respect the match for network policy",
                        change: { $0.update(clusterPolicy: "pass-example") { $0.spec.egress[0].action = .pass } },
                        [poke(harry(0), draco(0), .tcp, 80, true), poke(harry(1), draco(0), .tcp, 8080, true)]),
            ClusterStep("Should support a 'pass-ingress' policy for admin CNP and respect the match for baseline cluster network policy",
                        change: { $0.delete(policy: "allow-gress-from-to-slytherin-to-gryffindor", in: gryffindor.namespace) },
                        [poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, false)]),
            ClusterStep("Should support a 'pass-egress' policy for admin CNP and respect the match for baseline cluster network policy",
                        [poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, false)]),
        ]),
        ClusterConformanceCase("CNPAdminTierPriorityField", upstream: upstreamFile("admin-network-policy-standard-priority"), world: .houses, steps: [
            ClusterStep("Should Deny traffic from slytherin to gryffindor respecting admin CNP", change: {
                $0.apply(priorityPolicy("priority-50-example", tier: .admin, priority: 50, .deny, "deny"))
                $0.apply(priorityPolicy("old-priority-60-new-priority-40-example", tier: .admin, priority: 60, .pass, "pass"))
                $0.apply(priorityPolicy("default", tier: .baseline, priority: 10, .accept, "allow"))
            }, [poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, false)]),
            ClusterStep("Should Deny traffic to slytherin from gryffindor respecting admin CNP",
                        [poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, false)]),
            ClusterStep("Should respect admin CNP priority field; thus passing both ingress and egress traffic over to baseline CNP",
                        change: { $0.update(clusterPolicy: "old-priority-60-new-priority-40-example") { $0.spec.priority = 40 } }, [
                            poke(draco(0), harry(0), .tcp, 80, true), poke(draco(1), harry(0), .tcp, 8080, true),
                            poke(harry(0), draco(0), .tcp, 80, true), poke(harry(1), draco(0), .tcp, 8080, true),
                        ]),
        ]),
        ClusterConformanceCase("CNPAdminTierEgressInlineCIDRPeers", upstream: upstreamFile("admin-network-policy-standard-egress-inline-cidr-rules"),
                               world: .houses, steps: inlineCIDRSteps(adminInlineCIDR)),
    ]

    static let baseline: [ClusterConformanceCase] = [
        ClusterConformanceCase("CNPBaselineTierIngressTCP", upstream: upstreamFile("baseline-admin-network-policy-standard-ingress-tcp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected", change: { $0.apply(baselineIngressTCP) },
                        [poke(luna(0), harry(0), .tcp, 80, true), poke(luna(1), harry(0), .tcp, 8080, true)]),
            ClusterStep("Should support an 'allow-ingress' policy for TCP protocol at the specified port",
                        [poke(cedric(0), harry(1), .tcp, 80, true), poke(cedric(1), harry(1), .tcp, 8080, false)]),
            ClusterStep("Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected", change: swapIngress("default", 0, 1),
                        [poke(luna(0), harry(1), .tcp, 80, false), poke(luna(1), harry(1), .tcp, 8080, false)]),
            ClusterStep("Should support a 'deny-ingress' policy for TCP protocol at the specified port",
                        [poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, true)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierIngressUDP", upstream: upstreamFile("baseline-admin-network-policy-standard-ingress-udp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected", change: { $0.apply(baselineIngressUDP) },
                        [poke(luna(0), cedric(0), .udp, 53, true), poke(luna(1), cedric(0), .udp, 5353, true)]),
            ClusterStep("Should support an 'allow-ingress' policy for UDP protocol at the specified port",
                        [poke(harry(0), cedric(1), .udp, 53, true), poke(harry(1), cedric(1), .udp, 5353, false)]),
            ClusterStep("Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected", change: swapIngress("default", 0, 1),
                        [poke(luna(0), cedric(1), .udp, 53, false), poke(luna(1), cedric(1), .udp, 5353, false)]),
            ClusterStep("Should support a 'deny-ingress' policy for UDP protocol at the specified port",
                        [poke(draco(0), cedric(0), .udp, 5353, false), poke(draco(1), cedric(0), .udp, 53, true)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierIngressSCTP", upstream: upstreamFile("baseline-admin-network-policy-standard-ingress-sctp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected", change: { $0.apply(baselineIngressSCTP) },
                        [poke(harry(0), luna(0), .sctp, 9003, true), poke(harry(1), luna(0), .sctp, 9005, true)]),
            ClusterStep("Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
                        [poke(cedric(0), luna(1), .sctp, 9003, true), poke(cedric(1), luna(1), .sctp, 9005, false)]),
            ClusterStep("Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected", change: swapIngress("default", 0, 1),
                        [poke(harry(0), luna(1), .sctp, 9003, false), poke(harry(1), luna(1), .sctp, 9005, false)]),
            ClusterStep("Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
                        [poke(draco(0), luna(0), .sctp, 9003, false), poke(draco(1), luna(0), .sctp, 9005, true)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierEgressTCP", upstream: upstreamFile("baseline-admin-network-policy-standard-egress-tcp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected", change: { $0.apply(baselineEgressTCP) },
                        [poke(harry(0), luna(0), .tcp, 80, true), poke(harry(1), luna(0), .tcp, 8080, true)]),
            ClusterStep("Should support an 'allow-egress' policy for TCP protocol at the specified port",
                        [poke(harry(0), cedric(1), .tcp, 8080, true), poke(harry(1), cedric(1), .tcp, 80, false)]),
            ClusterStep("Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected", change: swapEgress("default", 0, 1),
                        [poke(harry(0), luna(1), .tcp, 80, false), poke(harry(1), luna(1), .tcp, 8080, false)]),
            ClusterStep("Should support a 'deny-egress' policy for TCP protocol at the specified port",
                        [poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, true)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierEgressUDP", upstream: upstreamFile("baseline-admin-network-policy-standard-egress-udp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected", change: { $0.apply(baselineEgressUDP) },
                        [poke(cedric(0), luna(0), .udp, 53, true), poke(cedric(1), luna(0), .udp, 5353, true)]),
            ClusterStep("Should support an 'allow-egress' policy for UDP protocol at the specified port",
                        [poke(cedric(0), harry(1), .udp, 53, true), poke(cedric(1), harry(1), .udp, 5353, false)]),
            ClusterStep("Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected", change: swapEgress("default", 0, 1),
                        [poke(cedric(0), luna(1), .udp, 53, false), poke(cedric(1), luna(1), .udp, 5353, false)]),
            ClusterStep("Should support a 'deny-egress' policy for UDP protocol at the specified port",
                        [poke(cedric(0), draco(0), .udp, 5353, false), poke(cedric(1), draco(0), .udp, 53, true)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierEgressSCTP", upstream: upstreamFile("baseline-admin-network-policy-standard-egress-sctp-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected", change: { $0.apply(baselineEgressSCTP) },
                        [poke(luna(0), harry(0), .sctp, 9003, true), poke(luna(1), harry(0), .sctp, 9005, true)]),
            ClusterStep("Should support an 'allow-egress' policy for SCTP protocol at the specified port",
                        [poke(luna(0), cedric(1), .sctp, 9003, true), poke(luna(1), cedric(1), .sctp, 9005, false)]),
            ClusterStep("Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected", change: swapEgress("default", 0, 1),
                        [poke(luna(0), harry(1), .sctp, 9003, false), poke(luna(1), harry(1), .sctp, 9005, false)]),
            ClusterStep("Should support a 'deny-egress' policy for SCTP protocol at the specified port",
                        [poke(luna(0), draco(0), .sctp, 9003, false), poke(luna(1), draco(0), .sctp, 9005, true)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierGress", upstream: upstreamFile("baseline-admin-network-policy-standard-gress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-gress' policy across different protocols", change: { $0.apply(baselineGress) }, [
                poke(harry(0), luna(0), .tcp, 80, true), poke(harry(1), luna(0), .udp, 53, true), poke(harry(0), luna(0), .sctp, 9003, true),
                poke(luna(0), harry(0), .tcp, 80, true), poke(luna(1), harry(0), .udp, 53, true), poke(luna(1), harry(0), .sctp, 9003, true),
            ]),
            ClusterStep("Should support an 'allow-gress' policy across different protocols at the specified ports", [
                poke(harry(0), cedric(1), .tcp, 8080, true), poke(harry(1), cedric(1), .tcp, 80, false),
                poke(harry(0), cedric(1), .udp, 5353, true), poke(harry(1), cedric(1), .udp, 53, false),
                poke(harry(0), cedric(1), .sctp, 9003, true), poke(harry(1), cedric(1), .sctp, 9005, false),
                poke(cedric(0), harry(1), .tcp, 80, true), poke(cedric(1), harry(1), .tcp, 8080, false),
                poke(cedric(0), harry(1), .udp, 5353, true), poke(cedric(1), harry(1), .udp, 53, false),
                poke(cedric(0), harry(1), .sctp, 9003, true), poke(cedric(1), harry(1), .sctp, 9005, false),
            ]),
            ClusterStep("Should support an 'deny-gress' policy across different protocols", change: swapBoth("default", 0, 1), [
                poke(harry(0), luna(1), .tcp, 80, false), poke(harry(1), luna(1), .udp, 53, false), poke(harry(0), luna(1), .sctp, 9003, false),
                poke(luna(0), harry(1), .tcp, 80, false), poke(luna(1), harry(1), .udp, 53, false), poke(luna(1), harry(1), .sctp, 9003, false),
            ]),
            ClusterStep("Should support a 'deny-gress' policy across different protocols at the specified ports", [
                poke(harry(0), draco(0), .tcp, 80, false), poke(harry(1), draco(0), .tcp, 8080, true),
                poke(harry(0), draco(0), .udp, 53, false), poke(harry(1), draco(0), .udp, 5353, true),
                poke(harry(0), draco(0), .sctp, 9003, false), poke(harry(1), draco(0), .sctp, 9005, true),
                poke(draco(0), harry(0), .tcp, 80, false), poke(draco(1), harry(0), .tcp, 8080, true),
                poke(draco(0), harry(0), .udp, 53, false), poke(draco(1), harry(0), .udp, 5353, true),
                poke(draco(0), harry(0), .sctp, 9003, false), poke(draco(1), harry(0), .sctp, 9005, true),
            ]),
        ]),
        ClusterConformanceCase("CNPBaselineTierEgressInlineCIDRPeers", upstream: upstreamFile("baseline-admin-network-policy-standard-egress-inline-cidr-rules"),
                               world: .houses, steps: inlineCIDRSteps(baselineInlineCIDR)),
    ]

    static let experimental: [ClusterConformanceCase] = [
        ClusterConformanceCase("CNPAdminTierEgressNamedPort", upstream: upstreamFile("admin-network-policy-experimental-egress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for named port", change: {
                $0.apply(adminEgressTCP)
                nameThePort(&$0, policy: "egress-tcp", egress: 5, "web")
            }, [poke(harry(0), cedric(1), .tcp, 80, true), poke(harry(1), cedric(1), .tcp, 8080, false)]),
        ]),
        ClusterConformanceCase("CNPAdminTierEgressNodePeers", upstream: upstreamFile("admin-network-policy-experimental-egress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' rule policy for egress-node-peer", change: { $0.apply(adminNodePeers) },
                        [poke(harry(1), centaur(1), .tcp, hostPorts[0], true)]),
            ClusterStep("Should support a 'pass-egress' rule policy for egress-node-peer", [poke(harry(1), centaur(1), .udp, hostPorts[2], true)]),
            ClusterStep("Should support a 'deny-egress' rule policy for egress-node-peer", [
                poke(harry(1), centaur(1), .tcp, hostPorts[1], false), poke(harry(1), centaur(1), .udp, hostPorts[4], false),
                poke(harry(1), centaur(1), .sctp, hostPorts[6], false),
            ]),
        ]),
        ClusterConformanceCase("CNPAdminTierIngressNamedPort", upstream: upstreamFile("admin-network-policy-experimental-ingress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for named port", change: {
                $0.apply(adminIngressUDP)
                nameThePort(&$0, policy: "ingress-udp", ingress: 5, "dns")
            }, [poke(harry(0), cedric(1), .udp, 53, true), poke(harry(1), cedric(1), .udp, 5353, false)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierEgressNamedPort", upstream: upstreamFile("baseline-admin-network-policy-experimental-egress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' policy for named port", change: {
                $0.apply(baselineEgressUDP)
                nameThePort(&$0, policy: "default", egress: 3, "dns")
            }, [poke(cedric(0), harry(1), .udp, 53, true), poke(cedric(1), harry(1), .udp, 5353, false)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierEgressNodePeers", upstream: upstreamFile("baseline-admin-network-policy-experimental-egress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-egress' rule policy for egress-node-peer", change: { $0.apply(baselineNodePeers) },
                        [poke(harry(0), centaur(1), .tcp, hostPorts[0], true), poke(harry(1), centaur(1), .tcp, hostPorts[1], true)]),
            ClusterStep("Should support a 'deny-egress' rule policy for egress-node-peer",
                        [poke(harry(1), centaur(1), .udp, hostPorts[4], false), poke(harry(1), centaur(1), .sctp, hostPorts[6], false)]),
        ]),
        ClusterConformanceCase("CNPBaselineTierIngressNamedPort", upstream: upstreamFile("baseline-admin-network-policy-experimental-ingress-rules"), world: .houses, steps: [
            ClusterStep("Should support an 'allow-ingress' policy for named port", change: {
                $0.apply(baselineIngressTCP)
                nameThePort(&$0, policy: "default", ingress: 3, "web")
            }, [poke(cedric(0), harry(1), .tcp, 80, true), poke(cedric(1), harry(1), .tcp, 8080, false)]),
        ]),
    ]
}
