import CoreMetrics
import NetpolDataplane
import NetpolEngine
import NetpolRules

/// The agent's Prometheus metrics, made from one factory so that tests and the
/// CLI each read their own registry.
public struct AgentMetrics: Sendable {
    let syncDuration: CoreMetrics.Timer
    let syncs: Counter
    let syncFailures: Counter
    /// Incremental updates the kernel refused, so that the whole table was written instead.
    let syncFallbacks: Counter
    let setElementChanges: Counter
    let ruleChanges: Counter
    let kernelRules: Gauge
    let kernelSetElements: Gauge
    let objectChanges: Counter
    /// Read-backs of the kernel compared with the plan.
    let verifies: Counter
    /// Tracked connections judged again after a change (`--established=recheck`).
    let establishedRechecked: Counter
    /// Those the new rules deny, cut by deleting their conntrack entries.
    let establishedCut: Counter
    /// Denied-connection records written to the log.
    let deniedLogRecords: Counter
    /// Records dropped because the log's file was too slow or refused them.
    let deniedLogDropped: Counter
    /// Log messages the kernel dropped because the reader's socket was full.
    let deniedLogLost: Counter
    /// Records whose log prefix the current plan does not know (an older plan, or not netpol's).
    let deniedLogUnattributed: Counter
    /// How long one reading of the rules' counters took (`--count-connections`).
    let counterReadDuration: CoreMetrics.Timer
    /// Readings of the rules' counters that failed.
    let counterReadErrors: Counter
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
        syncDuration = CoreMetrics.Timer(label: "netpol_sync_duration_seconds", dimensions: [], factory: factory)
        syncs = Counter(label: "netpol_syncs_total", dimensions: [], factory: factory)
        syncFailures = Counter(label: "netpol_sync_errors_total", dimensions: [], factory: factory)
        syncFallbacks = Counter(label: "netpol_sync_fallbacks_total", dimensions: [], factory: factory)
        setElementChanges = Counter(label: "netpol_set_element_changes_total", dimensions: [], factory: factory)
        ruleChanges = Counter(label: "netpol_rule_changes_total", dimensions: [], factory: factory)
        kernelRules = Gauge(label: "netpol_kernel_rules", dimensions: [], factory: factory)
        kernelSetElements = Gauge(label: "netpol_kernel_set_elements", dimensions: [], factory: factory)
        objectChanges = Counter(label: "netpol_object_changes_total", dimensions: [], factory: factory)
        verifies = Counter(label: "netpol_verifies_total", dimensions: [], factory: factory)
        establishedRechecked = Counter(label: "netpol_established_rechecked_total", dimensions: [], factory: factory)
        establishedCut = Counter(label: "netpol_established_cut_total", dimensions: [], factory: factory)
        deniedLogRecords = Counter(label: "netpol_denied_log_records_total", dimensions: [], factory: factory)
        deniedLogDropped = Counter(label: "netpol_denied_log_dropped_total", dimensions: [], factory: factory)
        deniedLogLost = Counter(label: "netpol_denied_log_lost_total", dimensions: [], factory: factory)
        deniedLogUnattributed = Counter(label: "netpol_denied_log_unattributed_total", dimensions: [], factory: factory)
        counterReadDuration = CoreMetrics.Timer(label: "netpol_counter_read_duration_seconds", dimensions: [], factory: factory)
        counterReadErrors = Counter(label: "netpol_counter_read_errors_total", dimensions: [], factory: factory)
    }

    /// Objects the source refused as invalid, per kind.
    func rejected(_ kind: String) -> Counter {
        Counter(label: "netpol_objects_rejected_total", dimensions: [("kind", kind)], factory: factory)
    }

    /// Watches that ended with an error, per kind.
    func watchRestarts(_ kind: String) -> Counter {
        Counter(label: "netpol_watch_restarts_total", dimensions: [("kind", kind)], factory: factory)
    }

    /// Lists after a 410 Gone, per kind.
    func relists(_ kind: String) -> Counter {
        Counter(label: "netpol_relists_total", dimensions: [("kind", kind)], factory: factory)
    }

    /// Whole replaces after a verify found the kernel differing from the plan,
    /// per kind of difference (table, set, chain, binding).
    func driftRepairs(_ kind: Drift.Kind) -> Counter {
        Counter(label: "netpol_drift_repairs_total", dimensions: [("kind", kind.rawValue)], factory: factory)
    }

    /// Denied connections, per direction and per policy that denied them (a
    /// cluster policy with namespace ""): as many series as policies, never pods.
    func deniedConnections(_ direction: Direction, namespace: String, policy: String) -> Counter {
        Counter(
            label: "netpol_denied_connections_total",
            dimensions: [("direction", direction.rulesField), ("namespace", namespace), ("policy", policy)], factory: factory)
    }

    /// Connections a policy allowed or denied, from the kernel's own counters
    /// (`--count-connections`): exact, unlike the rate-limited log. A cluster
    /// policy has namespace "". As many series as policies, never pods.
    func policyConnections(_ series: PolicyVerdict) -> Counter {
        Counter(
            label: "netpol_policy_connections_total",
            dimensions: [
                ("direction", series.direction.rulesField), ("namespace", series.policy.namespace), ("policy", series.policy.name),
                ("verdict", series.verdict.rawValue),
            ], factory: factory)
    }

    /// Connections audited NetworkPolicies (`netpol.io/mode: audit`) would
    /// have denied, per direction and policy: logged, not denied.
    func auditWouldDeny(_ direction: Direction, namespace: String, policy: String) -> Counter {
        Counter(
            label: "netpol_audit_would_deny_total",
            dimensions: [("direction", direction.rulesField), ("namespace", namespace), ("policy", policy)], factory: factory)
    }

    /// Source errors (unreadable files, unreachable API server), per source.
    func sourceErrors(_ source: String) -> Counter {
        Counter(label: "netpol_source_errors_total", dimensions: [("source", source)], factory: factory)
    }
}
