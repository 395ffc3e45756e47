import Foundation
import NetpolKube
import NetpolModel

/// Lists the kinds netpol reads (Namespaces, Pods, NetworkPolicies, Nodes and
/// ClusterNetworkPolicies) from one API server, cluster-wide, through the agent's client.
enum ClusterReader {
    /// How long one page of a list may take.
    static let requestTimeout = Duration.seconds(30)

    /// What is listed: a ClusterNetworkPolicy collection that answers 404 has
    /// no CRD installed, and so no policies.
    static let kinds = ResourceKind.all + [.nodes, .clusterNetworkPolicies]

    /// Every object of those kinds. A failure names the server, the kind it
    /// was listing and, for a refusal, the permission netpol needs.
    static func list(_ access: ClusterAccess) throws(KubeError) -> [APIItem] {
        let client = try KubeClient(access: access, requestTimeout: requestTimeout, retriesConnecting: false)
        let task = Task<[APIItem], any Error> {
            let lists = await withTaskGroup(of: (Int, Result<APIList, any Error>).self) { group in
                for (index, kind) in kinds.enumerated() {
                    group.addTask {
                        do { return (index, .success(try await client.list(kind))) } catch { return (index, .failure(error)) }
                    }
                }
                var lists: [(Int, Result<APIList, any Error>)] = []
                for await list in group { lists.append(list) }
                return lists.sorted { $0.0 < $1.0 }.map(\.1)
            }
            await client.shutdown()
            var items: [APIItem] = []
            // The first failure in kind order, whichever came back first.
            for (kind, result) in zip(kinds, lists) {
                switch result {
                case .success(let list): items += list.items
                case .failure(let error as KubeError) where kind.isCustom && error.code == .status(404): continue
                case .failure(let error): throw explained(error, listing: kind, server: access.server)
                }
            }
            return items
        }
        do {
            return try waitFor(task)
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError(.transport, "cannot read the cluster", location: access.server, cause: error)
        }
    }

    /// `error`, saying which list failed and, for 401 and 403, what to check.
    private static func explained(_ error: any Error, listing kind: ResourceKind, server: String) -> KubeError {
        guard let error = error as? KubeError else {
            return KubeError(.transport, "cannot list \(plural(kind))", location: server, cause: error)
        }
        let hint = switch error.code {
        case .status(401): "; the server refuses the credentials (the kubeconfig user's token or certificate, or the pod's service account)"
        case .status(403): "; netpol needs list on namespaces, pods, nodes, networkpolicies.networking.k8s.io and clusternetworkpolicies.policy.networking.k8s.io, as the ClusterRole in deploy/netpol.yaml grants"
        default: ""
        }
        return KubeError(error.code, "cannot list \(plural(kind)): \(error.message)\(hint)", location: server, cause: error.cause)
    }

    /// `Namespaces`, `Pods`, `NetworkPolicies`, `Nodes`, `ClusterNetworkPolicies`.
    private static func plural(_ kind: ResourceKind) -> String {
        kind.kind.hasSuffix("y") ? kind.kind.dropLast() + "ies" : kind.kind + "s"
    }
}
