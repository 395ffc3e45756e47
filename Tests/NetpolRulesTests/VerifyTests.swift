import Foundation
import Synchronization
import NetpolDataplane
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

/// `dualStackPlan` with an IPv6 ipBlock too, so that both families have an interval set.
private func richPlan(_ change: (inout Cluster) -> Void = { _ in }) -> RulePlan {
    dualStackPlan { cluster in
        cluster.apply(networkPolicy("out-v6", in: "x", selecting: .labels(["pod": "a"]), types: [.egress], egress: [
            .init(to: [.block("2001:db8::/32", except: ["2001:db8:8000::/33"])]),
        ]))
        change(&cluster)
    }
}

/// Every plan a conformance case goes through, node by node, as the incremental tests apply them.
private func planSequence(_ testCase: ConformanceCase) -> [RulePlan] {
    var cluster = testCase.initialCluster(nodes: ["node-1", "node-2"])
    var plans: [RulePlan] = []
    for step in [Step(change: { _ in }, probes: [])] + testCase.steps {
        step.change(&cluster)
        plans += ["node-1", "node-2"].map { RuleCompiler.plan(node: $0, snapshot: cluster.snapshot) }
    }
    return plans
}

private func set(_ plan: RulePlan, _ kind: AddressSet.Kind, _ family: IPAddress.Family = .ipv4) throws -> AddressSet {
    try #require(plan.sets.first { $0.kind == kind && $0.family == family && !$0.elements.isEmpty })
}

private func elementText(_ element: AddressSet.Element) -> String {
    switch element {
    case .address(let address): return address.description
    case .prefix(let cidr): return cidr.description
    case .service(let address, let proto, let port): return "\(address) . \(proto.rawValue.lowercased()) . \(port)"
    }
}

@Suite("Fake nftables kernel")
struct FakeNftKernelTests {
    @Test func everyConformanceSequenceAppliesIncrementallyAndVerifiesClean() throws {
        for testCase in conformanceCases {
            let kernel = FakeNftKernel()
            let programmer = NftablesProgrammer(runner: kernel)
            for (number, plan) in planSequence(testCase).enumerated() {
                let outcome = try programmer.apply(plan)
                #expect(outcome.fallback == nil, "\(testCase.name), plan \(number): \(outcome.fallback.map(\.description) ?? "")")
                #expect(try programmer.verify() == [], "\(testCase.name), plan \(number)")
            }
        }
    }

    @Test func aDanglingReferenceIsRefusedAndChangesNothing() throws {
        let kernel = FakeNftKernel()
        let plan = richPlan()
        try NftablesProgrammer(runner: kernel).apply(plan)
        let before = try kernel.check(Command("nft", ["-j", "list", "table", "inet", "netpol"])).output
        let chain = plan.chains[0].name
        for script in [
            "add element inet netpol \(plan.sets[0].name) { 10.9.9.9 }\nadd rule inet netpol \(chain) ip saddr @missing accept\n",
            "add element inet netpol ingress-pods-v4 { 10.9.9.9 : jump missing }\n",
        ] {
            let refused = try kernel.run(Command("nft", ["-f", "-"], input: script))
            #expect(refused.status == 1)
            #expect(refused.errors.contains("Error: "), "\(refused.errors)")
            #expect(refused.errors.contains("No such file or directory"), "\(refused.errors)")
        }
        #expect(try kernel.check(Command("nft", ["-j", "list", "table", "inet", "netpol"])).output == before)
        #expect(kernel.transactionCount == 1)
    }

    @Test func refusesWhatNftRefuses() throws {
        let kernel = FakeNftKernel()
        let plan = richPlan()
        try NftablesProgrammer(runner: kernel).apply(plan)
        let peer = try set(plan, .addresses), binding = try #require(plan.bindings.first { $0.direction == .ingress && $0.address.family == .ipv4 })
        let other = try #require(plan.chains.first { $0.name != binding.chain }).name
        let refusals = [
            ("delete element inet netpol \(peer.name) { 10.9.9.9 }", "No such file or directory"),
            ("delete set inet netpol \(peer.name)", "Device or resource busy"),
            ("delete chain inet netpol \(binding.chain)", "Device or resource busy"),
            ("delete chain inet netpol missing", "No such file or directory"),
            ("add element inet netpol ingress-pods-v4 { \(binding.address) : jump \(other) }", "File exists"),
            ("add element inet netpol \(try set(plan, .prefixes).name) { 192.0.2.0/25 }", "interval overlaps"),
            ("flush chain inet netpol missing", "No such file or directory"),
        ]
        for (script, error) in refusals {
            let output = try kernel.run(Command("nft", ["-f", "-"], input: script + "\n"))
            #expect(output.status == 1 && output.errors.contains(error), "\(script): \(output.errors)")
        }
        // What nft accepts again: an element or chain that is already there.
        try kernel.check(Command("nft", ["-f", "-"], input: "add element inet netpol \(peer.name) { \(elementText(peer.elements[0])) }\nadd chain inet netpol \(other)\n"))
        #expect(kernel.transactionCount == 2)
    }

    @Test func aCheckChangesNothingAndRefusalsCanBeScripted() throws {
        let kernel = FakeNftKernel()
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.check(richPlan())
        #expect(!kernel.hasTable && kernel.transactionCount == 0)
        try programmer.apply(richPlan())
        kernel.failNext(1)
        let outcome = try programmer.apply(richPlan { $0.delete(policy: "out", in: "x") })
        #expect(outcome.fallback?.message.contains("Cannot allocate memory") == true)
        #expect(kernel.transactionCount == 2)
        #expect(try programmer.verify() == [])
        kernel.failNext(2)
        #expect(throws: DataplaneError.self) { try programmer.apply(richPlan()) }
        #expect(programmer.applied == richPlan { $0.delete(policy: "out", in: "x") })
        try programmer.cleanup()
        #expect(!kernel.hasTable)
    }

    @Test func tamperingShowsAsDriftOfTheRightKind() throws {
        let plan = richPlan()
        let peer = try set(plan, .addresses), block = try set(plan, .prefixes, .ipv6), named = try set(plan, .services)
        let binding = try #require(plan.bindings.first)
        let map = NftablesRenderer.mapName(binding.direction, binding.address.family)
        let chain = plan.chains[0].name
        let cases: [(String, (FakeNftKernel) -> Void, Drift.Kind, String)] = [
            ("element deleted", { $0.tamperDeleteElement(elementText(peer.elements[0]), from: peer.name) }, .set, peer.name),
            ("element added", { $0.tamperAddElement("10.9.9.9", to: peer.name) }, .set, peer.name),
            ("prefix deleted", { $0.tamperDeleteElement(elementText(block.elements[0]), from: block.name) }, .set, block.name),
            ("service deleted", { $0.tamperDeleteElement(elementText(named.elements[0]), from: named.name) }, .set, named.name),
            ("binding deleted", { $0.tamperDeleteElement(binding.address.description, from: map) }, .binding, map),
            ("chain flushed", { $0.tamperFlushChain(chain) }, .chain, chain),
            ("rule deleted", { $0.tamperDeleteLastRule(of: chain) }, .chain, chain),
            ("set deleted", { $0.tamperDeleteSet(peer.name) }, .set, peer.name),
            ("table deleted", { $0.tamperDeleteTable() }, .table, "inet netpol"),
        ]
        for (name, tamper, kind, object) in cases {
            let kernel = FakeNftKernel()
            let programmer = NftablesProgrammer(runner: kernel)
            try programmer.apply(plan)
            tamper(kernel)
            let drift = try programmer.verify()
            #expect(drift.count == 1 && drift.first?.kind == kind && drift.first?.object == object, "\(name): \(drift)")
            try programmer.replace(plan)
            #expect(try programmer.verify() == [], "\(name): a replace repairs it")
        }
    }
}

extension FakeNftKernelTests {
    @Test func detailsSayWhatDifferedAndStayShort() throws {
        let plan = richPlan()
        let peer = try set(plan, .addresses)
        let chain = try #require(plan.chains.first { $0.direction == .ingress && $0.rules.first?.peer == .set(name: peer.name, family: .ipv4) })
        let kernel = FakeNftKernel()
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.apply(plan)
        for host in 1...8 { kernel.tamperAddElement("10.9.9.\(host)", to: peer.name) }
        kernel.tamperFlushChain(chain.name)
        let rule = "ip saddr @\(peer.name) tcp dport 80,8000-8080 accept comment \"x/from-y spec.ingress[0].from[0]\""
        #expect(try programmer.verify() == [
            Drift(.set, peer.name, "8 elements unexpected: 10.9.9.1, 10.9.9.2, 10.9.9.3, 10.9.9.4, 10.9.9.5 and 3 more"),
            Drift(.chain, chain.name, "0 rules, plan has \(chain.rules.count + 1); rule 1 `\(rule)` is missing"),
        ])
    }

    /// nft may print an interval set's prefixes as ranges, or join adjacent ones:
    /// the same addresses are no drift, other addresses are.
    @Test func intervalSetsCompareByTheAddressesTheyHold() throws {
        let plan = richPlan()
        let block = try set(plan, .prefixes)
        #expect(block.elements.map(elementText) == ["192.0.2.0/26", "192.0.2.128/25"])
        let kernel = FakeNftKernel()
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.apply(plan)
        kernel.tamperDeleteElement("192.0.2.128/25", from: block.name)
        kernel.tamperAddElement("192.0.2.128/26", to: block.name)
        kernel.tamperAddElement("192.0.2.192/26", to: block.name)
        #expect(try programmer.verify() == [])
        kernel.tamperDeleteElement("192.0.2.192/26", from: block.name)
        kernel.tamperAddElement("192.0.2.192/27", to: block.name)
        #expect(try programmer.verify() == [Drift(.set, block.name, "1 element missing: 192.0.2.128/25; 1 element unexpected: 192.0.2.128-192.0.2.223")])
    }
}

/// Runs `body` with fresh `netpol-verify-*` namespaces, removed afterwards whatever happens.
private func withNamespaces(_ count: Int = 1, _ body: ([String]) throws -> Void) throws {
    let host = ProcessRunner()
    let names = (0..<count).map { "netpol-verify-\(getpid())-\($0)-\(UInt32.random(in: 0...UInt32.max))" }
    defer { for name in names { _ = try? host.run(Command("ip", ["netns", "delete", name])) } }
    for name in names { try host.check(Command("ip", ["netns", "add", name])) }
    try body(names)
}

@Suite("Verify on the kernel", .enabled(if: getuid() == 0, "needs root to create a network namespace (CI runs as root)"))
struct KernelVerifyTests {
    @Test(arguments: conformanceCases)
    func nftablesVerifiesCleanAfterEveryApply(_ testCase: ConformanceCase) throws {
        try withNamespaces { names in
            // In-process, as the agent reads it back.
            let programmer = NftablesProgrammer(runner: InProcessNftRunner(namespace: names[0], fallback: NetnsRunner(namespace: names[0])))
            for (number, plan) in planSequence(testCase).enumerated() {
                try programmer.apply(plan)
                #expect(try programmer.verify() == [], "\(testCase.name), plan \(number)")
            }
        }
    }

    @Test(arguments: conformanceCases)
    func iptablesVerifiesCleanAfterEveryApply(_ testCase: ConformanceCase) throws {
        try withNamespaces { names in
            let programmer = IptablesProgrammer(runner: NetnsRunner(namespace: names[0]), mode: .nft)
            for (number, plan) in planSequence(testCase).enumerated() {
                try programmer.apply(plan)
                #expect(try programmer.verify() == [], "\(testCase.name), plan \(number)")
            }
        }
    }

    @Test func nftablesTamperingIsReported() throws {
        let plan = richPlan()
        let peer = try set(plan, .addresses), block = try set(plan, .prefixes), named = try set(plan, .services)
        let binding = try #require(plan.bindings.first { $0.direction == .ingress })
        let map = NftablesRenderer.mapName(binding.direction, binding.address.family)
        let chain = try #require(plan.chains.first { $0.rules.contains { $0.peer == .set(name: peer.name, family: peer.family) } }).name
        let users = plan.chains.filter { $0.rules.contains { $0.peer == .set(name: peer.name, family: peer.family) } }.map(\.name)
        let prefix = "inet netpol"
        let cases: [(String, [String], Drift.Kind, String)] = [
            ("element deleted", ["delete element \(prefix) \(peer.name) { \(elementText(peer.elements[0])) }"], .set, peer.name),
            ("element added", ["add element \(prefix) \(peer.name) { 10.9.9.9 }"], .set, peer.name),
            ("prefix deleted", ["delete element \(prefix) \(block.name) { \(elementText(block.elements[0])) }"], .set, block.name),
            ("service deleted", ["delete element \(prefix) \(named.name) { \(elementText(named.elements[0])) }"], .set, named.name),
            ("binding deleted", ["delete element \(prefix) \(map) { \(binding.address) }"], .binding, map),
            ("chain flushed", ["flush chain \(prefix) \(chain)"], .chain, chain),
            ("rule deleted", ["delete rule \(prefix) \(chain) handle HANDLE"], .chain, chain),
            ("set deleted", users.map { "flush chain \(prefix) \($0)" } + ["delete set \(prefix) \(peer.name)"], .set, peer.name),
            ("table deleted", ["delete table \(prefix)"], .table, prefix),
        ]
        try withNamespaces { names in
            let runner = NetnsRunner(namespace: names[0])
            let programmer = NftablesProgrammer(runner: runner)
            for (name, script, kind, object) in cases {
                try programmer.replace(plan)
                #expect(try programmer.verify() == [])
                let handle = try runner.check(Command("nft", ["-a", "list", "chain", "inet", "netpol", chain])).output
                    .split(separator: "\n").first { $0.contains("# handle") && !$0.contains("chain ") }?.split(separator: " ").last.map(String.init) ?? "?"
                let tampering = script.joined(separator: "\n").replacingOccurrences(of: "HANDLE", with: handle) + "\n"
                let output = try runner.run(Command("nft", ["-f", "-"], input: tampering))
                try #require(output.status == 0, "\(name): \(tampering) \(output.errors)")
                let drift = try programmer.verify()
                #expect(drift.contains { $0.kind == kind && $0.object == object }, "\(name): \(drift)")
                #expect(!drift.contains { $0.object != object && !users.contains($0.object) }, "\(name): only what was changed: \(drift)")
            }
        }
    }

    @Test(arguments: IptablesProgrammer.Mode.allCases)
    func iptablesTamperingIsReported(mode: IptablesProgrammer.Mode) throws {
        let plan = richPlan()
        let peer = try set(plan, .addresses)
        let peerSet = IptablesRenderer.setName(peer.name)
        let member = try #require(IptablesRenderer.allSets(plan).first { $0.name == peerSet }?.elements.first)
        let chain = try #require(plan.chains.first { $0.rules.contains { $0.peer == .set(name: peer.name, family: peer.family) } })
        let bindingSet = try #require(IptablesRenderer.allSets(plan).first { $0.name == IptablesRenderer.bindingSetName(chain, .ipv4) && !$0.elements.isEmpty })
        let iptables = "iptables-\(mode.rawValue)"
        let chainName = IptablesRenderer.chainName(chain)
        let cases: [(String, [Command], Drift.Kind, String)] = [
            ("member deleted", [Command("ipset", ["del", peerSet, member])], .set, peerSet),
            ("member added", [Command("ipset", ["add", peerSet, "10.9.9.9"])], .set, peerSet),
            ("binding deleted", [Command("ipset", ["del", bindingSet.name, bindingSet.elements[0]])], .binding, bindingSet.name),
            ("chain flushed", [Command(iptables, ["-F", chainName])], .chain, chainName),
            ("rule deleted", [Command(iptables, ["-D", chainName, "1"])], .chain, chainName),
            ("set deleted", [Command(iptables, ["-F", chainName]), Command("ipset", ["destroy", peerSet])], .set, peerSet),
            ("jump removed", [Command(iptables, ["-D", "FORWARD", "-j", IptablesRenderer.forwardChain])], .table, "\(iptables) FORWARD"),
        ]
        try withNamespaces { names in
            let runner = NetnsRunner(namespace: names[0])
            let programmer = IptablesProgrammer(runner: runner, mode: mode)
            for (name, commands, kind, object) in cases {
                try programmer.replace(plan)
                #expect(try programmer.verify() == [], "\(name): clean before")
                for command in commands { try runner.check(command) }
                let drift = try programmer.verify()
                    #expect(drift.contains { $0.kind == kind && $0.object == object }, "\(name): \(drift)")
                #expect(!drift.contains { $0.object != object && $0.object != chainName }, "\(name): only what was changed: \(drift)")
            }
        }
    }

    /// Cluster policy tiers (goto, Deny, networks and nodes sets) apply whole
    /// and incrementally and read back as written, on both backends and the fake.
    @Test func tiersVerifyClean() throws {
        let plans = tieredPlanSequence()
        try withNamespaces(3) { names in
            let programmers: [(String, any RuleProgrammer)] = [
                ("nft", NftablesProgrammer(runner: InProcessNftRunner(namespace: names[0], fallback: NetnsRunner(namespace: names[0])))),
                ("fake nft", NftablesProgrammer(runner: FakeNftKernel())),
                ("iptables-nft", IptablesProgrammer(runner: NetnsRunner(namespace: names[1]), mode: .nft)),
                ("iptables-legacy", IptablesProgrammer(runner: NetnsRunner(namespace: names[2]), mode: .legacy)),
            ]
            for (name, programmer) in programmers {
                try programmer.replace(plans[0])
                #expect(try programmer.verify() == [], "\(name), whole")
                for (number, (old, new)) in zip(plans, plans.dropFirst()).enumerated() {
                    #expect(try programmer.apply(new) == .incremental(new.diff(from: old)), "\(name), step \(number + 1)")
                    let drift = try programmer.verify()
                    #expect(drift == [], "\(name), step \(number + 1): \(drift)")
                }
            }
        }
    }

    /// The base chain's guards read back as written, on both backends and the
    /// fake, whole and after a pod left the known-pod set.
    @Test func guardsVerifyClean() throws {
        let plan = dualStackPlan(guards: sampleGuards)
        let next = dualStackPlan(guards: sampleGuards) { $0.update(pod: "c", in: "x") { $0.status = PodStatus(phase: "Pending") } }
        #expect(plan.podRangeGuards.count == 2)
        try withNamespaces(2) { names in
            let programmers: [(String, any RuleProgrammer)] = [
                ("nft", NftablesProgrammer(runner: InProcessNftRunner(namespace: names[0], fallback: NetnsRunner(namespace: names[0])))),
                ("fake nft", NftablesProgrammer(runner: FakeNftKernel())),
                ("iptables", IptablesProgrammer(runner: NetnsRunner(namespace: names[1]), mode: .nft)),
            ]
            for (name, programmer) in programmers {
                try programmer.replace(plan)
                let whole = try programmer.verify()
                #expect(whole == [], "\(name), whole: \(whole)")
                #expect(try programmer.apply(next) == .incremental(next.diff(from: plan)), "\(name)")
                #expect(try programmer.verify() == [], "\(name), after x/c left")
            }
        }
    }

    /// The fake kernel against the real one: the same plans and scripts are
    /// accepted or refused alike, and verify finds the same drift in both.
    @Test func theFakeKernelBehavesLikeTheRealOne() throws {
        try withNamespaces { names in
            let real = NetnsRunner(namespace: names[0])
            for testCase in conformanceCases where testCase.steps.count > 1 || testCase.dualStack {
                let fake = FakeNftKernel()
                let onFake = NftablesProgrammer(runner: fake), onKernel = NftablesProgrammer(runner: real)
                try onKernel.cleanup()
                for (number, plan) in planSequence(testCase).enumerated() {
                    let kernelOutcome = try onKernel.apply(plan), fakeOutcome = try onFake.apply(plan)
                    #expect(kernelOutcome == fakeOutcome, "\(testCase.name), plan \(number)")
                    #expect(try onKernel.verify() == [] && onFake.verify() == [], "\(testCase.name), plan \(number)")
                }
            }

            let plan = richPlan()
            let fake = FakeNftKernel()
            let onFake = NftablesProgrammer(runner: fake), onKernel = NftablesProgrammer(runner: real)
            try onKernel.replace(plan)
            try onFake.replace(plan)
            let peer = try set(plan, .addresses), block = try set(plan, .prefixes)
            let binding = try #require(plan.bindings.first { $0.direction == .ingress && $0.address.family == .ipv4 })
            let other = try #require(plan.chains.first { $0.name != binding.chain }).name
            let scripts = [
                "add rule inet netpol \(other) ip saddr @missing accept",
                "add element inet netpol ingress-pods-v4 { 10.9.9.9 : jump missing }",
                "delete element inet netpol \(peer.name) { 10.9.9.9 }",
                "delete set inet netpol \(peer.name)",
                "delete chain inet netpol \(binding.chain)",
                "delete chain inet netpol missing",
                "add element inet netpol ingress-pods-v4 { \(binding.address) : jump \(other) }",
                "add element inet netpol ingress-pods-v4 { \(binding.address) : jump \(binding.chain) }",
                "add element inet netpol \(block.name) { 192.0.2.0/25 }",
                "add element inet netpol \(peer.name) { \(elementText(peer.elements[0])) }",
                "add element inet netpol \(peer.name) { 10.9.9.9 }\ndelete set inet netpol missing",
                "add element inet netpol \(peer.name) { 10.9.9.9 }",
                "add element inet netpol \(peer.name) { 10.9.9.9 }",
                "delete element inet netpol \(block.name) { \(elementText(block.elements[0])) }",
                "flush chain inet netpol \(other)",
                "delete element inet netpol ingress-pods-v4 { \(binding.address) }",
                "delete table inet netpol",
                "delete table inet netpol",
            ]
            for script in scripts {
                let kernelStatus = try real.run(Command("nft", ["-f", "-"], input: script + "\n")).status
                let fakeStatus = try fake.run(Command("nft", ["-f", "-"], input: script + "\n")).status
                #expect(kernelStatus == fakeStatus, "\(script)")
                #expect(try onKernel.verify() == (try onFake.verify()), "after \(script)")
            }
        }
    }
}

/// A kernel whose first listing of one set misses one element, as a dump of a
/// hash set that the kernel is still resizing can.
private final class FlickeringListing: CommandRunner {
    let kernel = FakeNftKernel()
    let element: String
    let set: String
    private let firstListing = Atomic(true)
    /// Readings of the table (each then lists every set).
    let listings = Atomic(0)

    init(missing element: String, from set: String) {
        self.element = element
        self.set = set
    }

    func run(_ command: Command) throws(DataplaneError) -> CommandOutput {
        guard command.arguments.contains("list") else { return try kernel.run(command) }
        if command.arguments.contains("table") { listings.add(1, ordering: .relaxed) }
        guard command.arguments.last == set, firstListing.exchange(false, ordering: .relaxed) else { return try kernel.run(command) }
        kernel.tamperDeleteElement(element, from: set)
        defer { kernel.tamperAddElement(element, to: set) }
        return try kernel.run(command)
    }
}

@Suite("Verify reads twice before it reports")
struct VerifyRereadTests {
    @Test func driftOnlyOneReadingShowsIsNotReported() throws {
        let plan = richPlan()
        let peer = try set(plan, .addresses)
        let kernel = FlickeringListing(missing: elementText(peer.elements[0]), from: peer.name)
        let programmer = NftablesProgrammer(runner: kernel)
        try programmer.apply(plan)
        #expect(try programmer.verify() == [])
        #expect(kernel.listings.load(ordering: .relaxed) == 2, "the first reading showed drift, a second one did not")
        #expect(try programmer.verify() == [])
        #expect(kernel.listings.load(ordering: .relaxed) == 3, "no drift, one reading")
    }
}
