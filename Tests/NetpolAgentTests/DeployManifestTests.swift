import Foundation
import Testing
import Yams

/// `deploy/` checked without kubectl: it parses, asks for no more than the
/// agent reads, and runs the agent the way the agent expects to be run.
@Suite("Deploy manifests")
struct DeployManifestTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static func objects() throws -> [[String: Any]] {
        let text = try String(contentsOf: root.appendingPathComponent("deploy/netpol.yaml"), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    private static func object(_ kind: String) throws -> [String: Any] {
        try #require(try objects().first { $0["kind"] as? String == kind }, "deploy/netpol.yaml has no \(kind)")
    }

    @Test func holdsTheFourObjects() throws {
        #expect(try Self.objects().compactMap { $0["kind"] as? String } == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"])
    }

    @Test func clusterRoleOnlyReadsWhatTheAgentWatches() throws {
        let rules = try #require(try Self.object("ClusterRole")["rules"] as? [[String: Any]])
        var granted: Set<String> = []
        for rule in rules {
            #expect(rule["resourceNames"] == nil && rule["nonResourceURLs"] == nil)
            for group in rule["apiGroups"] as? [String] ?? [] {
                for resource in rule["resources"] as? [String] ?? [] {
                    for verb in rule["verbs"] as? [String] ?? [] { granted.insert("\(group)/\(resource)/\(verb)") }
                }
            }
        }
        let wanted = ["/pods", "/namespaces", "/nodes", "networking.k8s.io/networkpolicies", "policy.networking.k8s.io/clusternetworkpolicies"].flatMap { resource in
            ["get", "list", "watch"].map { "\(resource)/\($0)" }
        }
        #expect(granted == Set(wanted))
    }

    @Test func bindingGivesTheRoleToTheDaemonSetsServiceAccount() throws {
        let binding = try Self.object("ClusterRoleBinding")
        let account = try Self.object("ServiceAccount")
        let pod = try #require(((try Self.object("DaemonSet")["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let accountName = (account["metadata"] as? [String: Any])?["name"] as? String
        let accountNamespace = (account["metadata"] as? [String: Any])?["namespace"] as? String
        #expect((binding["roleRef"] as? [String: Any])?["name"] as? String == (try Self.object("ClusterRole")["metadata"] as? [String: Any])?["name"] as? String)
        let subject = try #require((binding["subjects"] as? [[String: Any]])?.first)
        #expect(subject["name"] as? String == accountName)
        #expect(subject["namespace"] as? String == accountNamespace)
        #expect(pod["serviceAccountName"] as? String == accountName)
    }

    @Test func daemonSetRunsTheAgentOnTheHostNetworkWithItsProbes() throws {
        let daemonSet = try Self.object("DaemonSet")
        let pod = try #require(((daemonSet["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["hostNetwork"] as? Bool == true)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let args = container["args"] as? [String] ?? []
        #expect(args.first == "agent")
        let metricsPort = try #require(args.first { $0.hasPrefix("--metrics-address=") }?.split(separator: ":").last.flatMap { Int($0) })
        let capabilities = (container["securityContext"] as? [String: Any])?["capabilities"] as? [String: Any]
        #expect(capabilities?["add"] as? [String] == ["NET_ADMIN"])
        let env = container["env"] as? [[String: Any]] ?? []
        let node = env.first { $0["name"] as? String == "NODE_NAME" }
        #expect(((node?["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String == "spec.nodeName")
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any]
            #expect(get?["path"] as? String == path)
            #expect(get?["port"] as? Int == metricsPort, "\(probe) must hit the port the agent listens on")
        }
        let requests = (container["resources"] as? [String: Any])?["requests"] as? [String: Any]
        #expect(requests?["cpu"] != nil && requests?["memory"] != nil)
        let limits = (container["resources"] as? [String: Any])?["limits"] as? [String: Any]
        #expect(limits?["memory"] != nil)
        #expect(env.contains { $0["name"] as? String == "MALLOC_ARENA_MAX" && $0["value"] as? String == "2" },
                "the limit is sized for two malloc arenas (README, netpol agent)")
    }

    @Test func containerfileShipsTheToolsTheBackendsRun() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/Containerfile"), encoding: .utf8)
        for tool in ["nftables", "iptables", "ipset"] { #expect(text.contains(tool)) }
        #expect(text.contains("ENTRYPOINT [\"/usr/local/bin/netpol\"]"))
    }

    /// The image holds the product only: every `swift build` in it builds
    /// `--product netpol` (or asks where it put it).
    @Test func containerfileBuildsTheProductAlone() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/Containerfile"), encoding: .utf8)
        let builds = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("swift build") }
        #expect(!builds.isEmpty)
        for build in builds { #expect(build.contains("--product netpol ") || build.contains("--show-bin-path"), "\(build)") }
    }
}
