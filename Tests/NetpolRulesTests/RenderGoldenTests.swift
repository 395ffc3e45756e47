import Foundation
import NetpolEngine
import NetpolModel
import NetpolRender
import NetpolRules
import NetpolTesting
import Testing

/// The rendered `nft -f` scripts for a few small snapshots, compared with files
/// under `Golden/`. After a deliberate change, regenerate them with
/// `NETPOL_UPDATE_GOLDEN=1 swift test --filter RenderGoldenTests` and review the diff.
@Suite("Rendered rulesets (golden files)")
struct RenderGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    struct Golden: CustomStringConvertible, Sendable {
        let name: String
        let node: String
        let cluster: @Sendable () -> Cluster

        var description: String { name }
    }

    static let cases: [Golden] = [
        Golden(name: "default-deny-and-allow-from-namespace", node: "node-1") {
            var cluster = ConformanceModel.cluster(nodes: ["node-1", "node-2"])
            cluster.apply(networkPolicy("deny", in: "x", types: [.ingress, .egress]))
            cluster.apply(networkPolicy("from-y", in: "x", selecting: .labels(["pod": "a"]),
                                        ingress: [.init(ports: [.tcp(80), .range(8000, 8080)], from: [.namespaces(.labels(["ns": "y"]))])]))
            cluster.apply(networkPolicy("dns", in: "x", types: [.egress], egress: [.init(ports: [.udp(53), .tcp(53)])]))
            return cluster
        },
        Golden(name: "named-ports-ipblock-dual-stack", node: "node-1") {
            var cluster = ConformanceModel.cluster(dualStack: true, nodes: ["node-1", "node-2"])
            cluster.apply(networkPolicy("named", in: "y", selecting: .labels(["pod": "b"]),
                                        ingress: [.init(ports: [.named("serve-81-tcp"), .named("serve-80-udp", .udp)], from: [.pods(.everything, inNamespaces: .everything)])]))
            cluster.apply(networkPolicy("out", in: "x", selecting: .labels(["pod": "a"]), types: [.egress], egress: [
                .init(ports: [.named("serve-80-tcp")], to: [.pods(.labels(["pod": "b"]), inNamespaces: .everything)]),
                .init(to: [.block("192.0.2.0/24", except: ["192.0.2.64/26"]), .block("2001:db8::/32", except: ["2001:db8:1::/48"])]),
            ]))
            return cluster
        },
        Golden(name: "cluster-policy-tiers", node: "node-1") { tieredCluster() },
    ]

    @Test(arguments: cases)
    func matchesGoldenFile(_ golden: Golden) throws {
        let script = NftablesRenderer.script(RuleCompiler.plan(node: golden.node, snapshot: golden.cluster().snapshot))
        let file = Self.directory.appendingPathComponent(golden.name + ".nft")
        if ProcessInfo.processInfo.environment["NETPOL_UPDATE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try script.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(script == expected, "rendered script differs from \(file.lastPathComponent)")
    }
}
