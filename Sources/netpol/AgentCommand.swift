import ArgumentParser
import Foundation
import Logging
import Metrics
import NetpolAgent
import NetpolDataplane
import NetpolKube
import Prometheus

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Keep one node's kernel rules equal to the cluster's NetworkPolicies.",
        discussion: """
            Watches Namespaces, Pods and NetworkPolicies and, after each change, writes \
            only the difference to the kernel in one transaction. Nothing is written \
            until all three are listed; the first sync replaces whatever an earlier run \
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

            Endpoints on --metrics-address: /metrics (Prometheus); /healthz, which \
            fails while one sync or verify has run longer than --stall-timeout (so \
            the kubelet restarts a stuck agent); /readyz, ready while the last sync \
            worked.

            Examples:
              netpol agent --node "$NODE_NAME"
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
        guard stallTimeout.value > .zero else {
            throw ValidationError("--stall-timeout must be longer than zero")
        }
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
        let configuration = AgentConfiguration(
            node: resolvedNode ?? "", debounce: debounce.value, verifyInterval: verifyInterval.value, resync: resync.value,
            stallTimeout: stallTimeout.value)
        let backend = self.backend
        let netns = self.netns
        let address = metricsAddress
        let started = runUntilSignalled {
            let agent = Agent(
                configuration: configuration, programmer: backend.programmer(InProcessNftRunner(namespace: netns, fallback: runner(netns))),
                logger: logger, metrics: AgentMetrics(factory: factory))
            let started = await Self.serve(agent, source: clusterSource, address: address, logger: logger) { registry.emitToString() }
            await client?.shutdown()
            return started
        }
        if !started { throw ExitStatus.usageOrInput.exitCode }
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
        _ agent: Agent<ContinuousClock>, source: any ClusterSource, address: ListenAddress, logger: Logger,
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
        await agent.run(sources: [source])
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
