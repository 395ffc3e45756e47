import ArgumentParser
import Foundation
import Logging
import Metrics
import NetpolAgent
import NetpolDataplane
import NetpolKube
import NetpolModel
import NetpolRules
import Prometheus

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Keep one node's kernel rules equal to the cluster's NetworkPolicies.",
        discussion: """
            Watches Namespaces, Pods, Nodes, NetworkPolicies and ClusterNetworkPolicies \
            (policy.networking.k8s.io/v1alpha2; without their CRD, NetworkPolicy only, \
            looking again every minute) and, after each change, writes only the \
            difference to the kernel in one transaction. Nothing is written until \
            every kind is listed; the first sync replaces whatever an earlier run \
            left in one transaction, so isolated pods are never open on restart. On \
            SIGTERM or SIGINT the agent exits and the rules stay in force \
            (`netpol cleanup` removes them). Invalid objects are skipped with a log \
            line and a metric; the last valid version stays.

            Faults fail closed. A source that cannot read (the API server down, a \
            missing or unreadable directory or file) keeps the last good objects and \
            writes nothing before its first complete read. A transaction the kernel \
            refuses changes nothing; the agent retries with backoff, and an \
            incremental change the kernel refuses is replaced by the whole table \
            (logged, counted in netpol_sync_fallbacks_total). A killed agent leaves \
            its last rules in force. Every --verify-interval the kernel's table is \
            read back and compared with the plan, set and map elements included; \
            drift is logged, counted (netpol_drift_repairs_total) and repaired by \
            writing the whole table. --resync rewrites the whole table without \
            looking, on a timer (off by default: verify finds what it would repair).

            Sources:
              kubernetes   the API server, through --kubeconfig or --context if
                           given, else the pod's service account in a cluster,
                           else $KUBECONFIG or ~/.kube/config
              files:DIR    a directory of manifests, read again when a file changes

            New pods: a pod's address exists, and its containers may run, before the \
            agent has seen the pod in the API. With --isolate-new-pods (on by default \
            when the node's pod ranges are known: the Node's spec.podCIDRs, or \
            --pod-cidr), an address in those ranges that no pod on this node holds \
            can neither open nor accept a connection until the pod is known; then its \
            own rules apply at once. The cost: a pod that starts while the agent is \
            down cannot talk until the agent is back (fail closed). Host-network pods \
            and the node's own addresses are never affected.

            Established connections: with --established=keep (the default) a \
            connection allowed when it began stays open after a policy change denies \
            it, as with Calico, kube-router and Antrea. With --established=recheck, \
            after every change that can deny something the agent judges each \
            connection the kernel tracks by the new rules and deletes the conntrack \
            entries of those it denies, so they stop at once; connections still \
            allowed are never touched. Only a TCP SYN may then open a connection \
            through the node, so that a cut connection cannot be picked up again \
            mid-stream (counted in netpol_established_cut_total).

            Denied connections: with --log-denied the rules log each connection they \
            deny (the first packets reaching a drop, within --log-denied-rate per \
            second and --log-denied-burst at once, per node) to NFLOG group \
            --log-denied-group, which the agent reads in-process: only one process \
            can read a group, so give each agent in one network namespace its own. It \
            writes one JSON line per connection (repeats within a few seconds are \
            merged) to standard output or --log-denied-file, naming the pods \
            (namespace/pod, or the IP) and who denied it: every NetworkPolicy \
            isolating the pod for a default deny, or the ClusterNetworkPolicy's \
            tier, name, rule and action. A slow file never holds up the rules: \
            records it cannot take are dropped and counted \
            (netpol_denied_log_dropped_total), as are messages the kernel drops \
            (netpol_denied_log_lost_total). Per policy: \
            netpol_denied_connections_total{direction,namespace,policy}.

            Counted connections: with --count-connections every rule of a pod's \
            chain and every chain end carries a kernel counter, which the agent \
            reads every --count-interval into \
            netpol_policy_connections_total{direction,namespace,policy,verdict}: \
            how many connections each policy allowed, and how many attempts it \
            denied, on this node (only packets that open a connection reach those \
            rules: an allowed connection counts once, a denied one once per \
            attempt, such as each retransmitted SYN). A default deny counts as \
            denied for every policy isolating the pod; a ClusterNetworkPolicy \
            (namespace "") counts its Accept and Deny rules; a Pass counts for no \
            one (the next tier decides); an audited policy counts would-allow and \
            would-deny. The counters are read on the agent's own thread, never by \
            a scrape.

            Endpoints on --metrics-address: /metrics (Prometheus); /healthz, which \
            fails while one sync or verify has run longer than --stall-timeout (so \
            the kubelet restarts a stuck agent); /readyz, ready while the last sync \
            worked.

            Examples:
              netpol agent --node "$NODE_NAME"
              netpol agent --node "$NODE_NAME" --established recheck
              netpol agent --node "$NODE_NAME" --log-denied --log-denied-file denied.log
              netpol agent --node "$NODE_NAME" --count-connections --count-interval 30s
              ip netns add netpol-try
              netpol agent --node node-a --source files:examples/lab --netns netpol-try
            """)

    @Option(help: ArgumentHelp("The node whose pods to enforce for (spec.nodeName). Default: $NODE_NAME.", valueName: "name"))
    var node: String?

    @Option(help: ArgumentHelp("kubernetes, or files:DIR for a directory of manifests.", valueName: "source"))
    var source: String = "kubernetes"

    @Option(help: ArgumentHelp("The kubeconfig to use instead of the service account.", valueName: "path"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context; default its current-context.", valueName: "name"))
    var context: String?

    @OptionGroup var backend: BackendOptions

    @Option(help: "A network namespace (from `ip netns list`) to program instead of the current one.")
    var netns: String?

    @Option(help: ArgumentHelp("Where /metrics, /healthz and /readyz listen (port 0 picks one).", valueName: "host:port"))
    var metricsAddress: ListenAddress = ListenAddress(argument: "127.0.0.1:9714")!

    @Option(help: ArgumentHelp("How often the kernel is read back and compared with the plan (off: never).", valueName: "duration"))
    var verifyInterval: DurationArgument = DurationArgument(argument: "1m")!

    @Option(help: ArgumentHelp("How often the whole table is rewritten without looking (off: never).", valueName: "duration"))
    var resync: DurationArgument = DurationArgument(argument: "off")!

    @Option(help: ArgumentHelp("How long one sync or verify may run before /healthz fails.", valueName: "duration"))
    var stallTimeout: DurationArgument = DurationArgument(argument: "2m")!

    @Option(help: ArgumentHelp("How long to wait after a change for more before syncing.", valueName: "duration"))
    var debounce: DurationArgument = DurationArgument(argument: "0ms")!

    @OptionGroup var guardOptions: GuardOptions

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Isolate addresses in the node's pod ranges that no known pod holds. Default: on when the ranges are known."))
    var isolateNewPods: Bool?

    @Flag(help: "Log denied connections as JSON lines (off by default; see below).")
    var logDenied = false

    @Option(help: ArgumentHelp("Append the denied-connection log to this file. Default: standard output.", valueName: "path"))
    var logDeniedFile: String?

    @Option(help: ArgumentHelp("Denied connections logged per second, per node (1-10000). Default: 10.", valueName: "n"))
    var logDeniedRate: Int?

    @Option(help: ArgumentHelp("Denied connections logged at once above the rate (1-10000). Default: 50.", valueName: "n"))
    var logDeniedBurst: Int?

    @Option(help: ArgumentHelp(
        "The NFLOG group the rules log to and the agent reads (0-65535; one reader per group). Default: 100.", valueName: "n"))
    var logDeniedGroup: Int?

    @Flag(help: "Count the connections each policy allows and denies, in /metrics (see below).")
    var countConnections = false

    @Option(help: ArgumentHelp("How often --count-connections reads the counters. Default: 30s.", valueName: "duration"))
    var countInterval: DurationArgument?

    @Option(help: "Log lines as text or json.")
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard resolvedNode != nil else {
            throw ValidationError("--node is required (or set NODE_NAME, as the DaemonSet does from spec.nodeName)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        _ = try sourceKind()
        if isolateNewPods == true, guardOptions.podCIDRs.isEmpty, case .files = try sourceKind() {
            throw ValidationError("--isolate-new-pods needs --pod-cidr with --source files:DIR (there is no Node to read the ranges from)")
        }
        if isolateNewPods == false, !guardOptions.podCIDRs.isEmpty {
            throw ValidationError("--pod-cidr is used only by --isolate-new-pods, which --no-isolate-new-pods turns off")
        }
        guard stallTimeout.value > .zero else {
            throw ValidationError("--stall-timeout must be longer than zero")
        }
        try validateDeniedLog()
        if let countInterval {
            guard countConnections else { throw ValidationError("--count-interval is used only with --count-connections, which is off") }
            guard countInterval.value > .zero else { throw ValidationError("--count-interval must be longer than zero") }
        }
    }

    /// How often the counters are read; nil without --count-connections.
    private var resolvedCountInterval: Duration? {
        countConnections ? countInterval?.value ?? .seconds(30) : nil
    }

    private func validateDeniedLog() throws {
        let given: [(String, Bool)] = [
            ("--log-denied-file", logDeniedFile != nil), ("--log-denied-rate", logDeniedRate != nil),
            ("--log-denied-burst", logDeniedBurst != nil), ("--log-denied-group", logDeniedGroup != nil),
        ]
        if !logDenied, let option = given.first(where: \.1)?.0 {
            throw ValidationError("\(option) is used only with --log-denied, which is off")
        }
        for (option, value, range) in [
            ("--log-denied-rate", logDeniedRate, 1...10_000), ("--log-denied-burst", logDeniedBurst, 1...10_000),
            ("--log-denied-group", logDeniedGroup, 0...65_535),
        ] {
            if let value, !range.contains(value) {
                throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
            }
        }
        if let file = logDeniedFile, file.isEmpty || file.hasSuffix("/") {
            throw ValidationError("--log-denied-file must name a file, not \"\(file)\"")
        }
    }

    /// What --log-denied asks for; nil when it is off.
    private var deniedLog: DeniedLogSettings? {
        guard logDenied else { return nil }
        return DeniedLogSettings(
            logging: DenyLogging(group: UInt16(logDeniedGroup ?? 100), rate: logDeniedRate ?? 10, burst: logDeniedBurst ?? 50),
            file: logDeniedFile)
    }

    private var resolvedNode: String? {
        node ?? ProcessInfo.processInfo.environment["NODE_NAME"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private enum SourceKind {
        case kubernetes
        case files(String)
    }

    private func sourceKind() throws -> SourceKind {
        if source == "kubernetes" { return .kubernetes }
        if source.hasPrefix("files:"), source.count > 6 { return .files(String(source.dropFirst(6))) }
        throw ValidationError("--source must be kubernetes or files:DIR, not \(source)")
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = logFormat
        LoggingSystem.bootstrap { label in LineLogHandler(logLevel: level, format: format, label: label) }
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        MetricsSystem.bootstrap(factory)
        let logger = Logger(label: "netpol.agent")

        let (clusterSource, client) = try makeSource(logger: logger)
        let baseConfiguration = AgentConfiguration(
            node: resolvedNode ?? "", debounce: debounce.value, verifyInterval: verifyInterval.value, resync: resync.value,
            stallTimeout: stallTimeout.value, denyLogging: deniedLog?.logging, countInterval: resolvedCountInterval)
        let backend = self.backend
        let netns = self.netns
        let address = metricsAddress
        let (isolateNewPods, podCIDRs, established) = (self.isolateNewPods, guardOptions.podCIDRs, guardOptions.established)
        let deniedLog = self.deniedLog
        // A reader of the log's pipe that goes away must not kill the agent: the write fails and is counted.
        if deniedLog != nil { signal(SIGPIPE, SIG_IGN) }
        let started = runUntilSignalled {
            var configuration = baseConfiguration
            guard let ranges = await Self.podRanges(
                node: configuration.node, isolate: isolateNewPods, given: podCIDRs, client: client, logger: logger) else { return false }
            configuration.podRanges = ranges
            let recheck = established == .recheck ? ConntrackRecheck(namespace: netns) : nil
            do {
                try recheck?.checkReadable()
            } catch {
                logger.critical("--established=recheck cannot read the conntrack table", metadata: ["error": "\(error)"])
                return false
            }
            let metrics = AgentMetrics(factory: factory)
            let agent = Agent(
                configuration: configuration, programmer: backend.programmer(InProcessNftRunner(namespace: netns, fallback: runner(netns))),
                recheck: recheck,
                logger: logger, metrics: metrics)
            var log: DeniedConnectionLog?
            if let deniedLog {
                let status = agent.status
                let recorder = DeniedConnectionRecorder(node: configuration.node, store: agent.store, plan: { status.plan }, metrics: metrics)
                do {
                    log = try DeniedConnectionLog(
                        group: deniedLog.logging.group, namespace: netns, file: deniedLog.file, recorder: recorder, metrics: metrics, logger: logger)
                } catch {
                    logger.critical("--log-denied cannot start", metadata: ["error": "\(error)"])
                    return false
                }
            }
            let started = await Self.serve(agent, log: log, source: clusterSource, address: address, logger: logger) { registry.emitToString() }
            await client?.shutdown()
            return started
        }
        if !started { throw ExitStatus.usageOrInput.exitCode }
    }

    /// The pod ranges whose unknown addresses are isolated: --pod-cidr, else
    /// the Node's spec.podCIDRs when the API server is the source; none when
    /// isolation is off or the ranges are unknown. nil when --isolate-new-pods
    /// asked for it and the ranges cannot be found: the agent does not start.
    private static func podRanges(node: String, isolate: Bool?, given: [CIDR], client: KubeClient?, logger: Logger) async -> [CIDR]? {
        if isolate == false { return [] }
        if !given.isEmpty {
            logger.info("isolating new pods", metadata: ["podCIDRs": "\(given.map(\.description).joined(separator: ","))", "from": "--pod-cidr"])
            return given
        }
        var problem = "the files source has no Node to read them from"
        // Like the lists, the Node is read again while the API server fails for
        // a while: a passing error must not start the agent without isolation.
        var backoff = Backoff()
        while let client {
            do {
                let texts = try await client.podCIDRs(ofNode: node)
                let ranges = texts.compactMap { CIDR($0) }
                if !ranges.isEmpty && ranges.count == texts.count {
                    logger.info("isolating new pods", metadata: ["podCIDRs": "\(texts.joined(separator: ","))", "from": "Node \(node) spec.podCIDRs"])
                    return ranges
                }
                problem = texts.isEmpty ? "Node \(node) has no spec.podCIDRs" : "Node \(node) has spec.podCIDRs netpol cannot read: \(texts)"
            } catch let error as KubeError where error.isPassing {
                let wait = backoff.next()
                logger.warning("cannot read the node's pod ranges yet; nothing is written meanwhile", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                do { try await Task.sleep(for: wait) } catch { return nil }
                continue
            } catch {
                problem = "cannot read Node \(node): \(error)"
            }
            break
        }
        if isolate == true {
            logger.critical("--isolate-new-pods needs the node's pod ranges; give them with --pod-cidr", metadata: ["problem": "\(problem)"])
            return nil
        }
        logger.notice("new pods are not isolated before the agent sees them (--pod-cidr gives the ranges)", metadata: ["problem": "\(problem)"])
        return []
    }

    /// The source --source names, and the API client it uses, if any.
    private func makeSource(logger: Logger) throws -> (any ClusterSource, KubeClient?) {
        switch try sourceKind() {
        case .files(let directory):
            return (FilesSource(directory: directory), nil)
        case .kubernetes:
            do throws(KubeError) {
                let access = try ClusterAccess.resolve(kubeconfig: kubeconfig, context: context)
                let client = try KubeClient(access: access)
                logger.info("watching the API server", metadata: ["server": "\(access.server)"])
                return (KubernetesSource(client: client), client)
            } catch {
                FileHandle.standardError.write(Data("netpol: \(error)\n".utf8))
                throw ExitStatus.usageOrInput.exitCode
            }
        }
    }

    /// Runs the agent with its status endpoints until cancelled; false when it could not start.
    private static func serve(
        _ agent: Agent<ContinuousClock>, log: DeniedConnectionLog?, source: any ClusterSource, address: ListenAddress, logger: Logger,
        metrics: @escaping @Sendable () -> String
    ) async -> Bool {
        let server: StatusServer
        do {
            server = try await StatusServer(
                host: address.host, port: address.port,
                routes: StatusServer.agentRoutes(status: agent.status, metrics: metrics))
        } catch {
            logger.critical("cannot listen for metrics and health", metadata: ["address": "\(address.host):\(address.port)", "error": "\(error)"])
            return false
        }
        logger.info("agent started", metadata: ["metrics": "\(address.host):\(server.port)"])
        await agent.run(sources: [source], deniedLog: log)
        await server.close()
        return true
    }
}

/// Runs `body` on the concurrency pool until it returns, cancelling it on
/// SIGTERM or SIGINT; returns what it returned.
private func runUntilSignalled(_ body: @escaping @Sendable () async -> Bool) -> Bool {
    let task = Task<Bool, any Error> { await body() }
    let signalQueue = DispatchQueue(label: "netpol.signals")
    let sources = [SIGTERM, SIGINT].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: signalQueue)
        source.setEventHandler { task.cancel() }
        source.resume()
        return source
    }
    defer { sources.forEach { $0.cancel() } }
    return (try? waitFor(task)) ?? false
}

/// What `--log-denied` and its options ask for.
private struct DeniedLogSettings {
    /// What the rules log, and where.
    var logging: DenyLogging
    /// nil: standard output.
    var file: String?
}
