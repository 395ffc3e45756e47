import NetpolAgent
import NetpolModel
import NetpolTesting
import Testing

@Suite("Cluster store")
struct ClusterStoreTests {
    private static let allowWeb = networkPolicy("allow-web", in: "x", selecting: .labels(["pod": "a"]), ingress: [.init(ports: [.tcp(80)])])

    private static func policies(_ store: ClusterStore) -> [NetworkPolicy] {
        store.snapshot().snapshot.policies
    }

    @Test func isCompleteOnlyOnceEveryKindIsListed() {
        let store = ClusterStore()
        store.replaceAll("Namespace", with: [])
        store.replaceAll("Pod", with: [])
        store.replaceAll("NetworkPolicy", with: [])
        store.replaceAll("Node", with: [])
        #expect(!store.isComplete)
        store.replaceAll("ClusterNetworkPolicy", with: [])
        #expect(store.isComplete)
    }

    @Test func anInvalidUpdateKeepsTheLastValidVersion() throws {
        let store = ClusterStore()
        #expect(store.upsert(.networkPolicy(Self.allowWeb)).isEmpty)
        var broken = Self.allowWeb
        broken.spec.ingress[0].ports[0].port = .int(70_000)
        let rejection = try #require(store.upsert(.networkPolicy(broken)).first)
        #expect(rejection.isRejection)
        #expect(rejection.description.contains("NetworkPolicy x/allow-web"))
        #expect(rejection.description.contains("spec.ingress[0].ports[0].port"))
        #expect(Self.policies(store) == [Self.allowWeb])
    }

    @Test func aListKeepsValidVersionsOfRejectedAndUndecodableObjects() {
        let store = ClusterStore()
        let other = networkPolicy("other", in: "y", types: [.ingress])
        store.replaceAll("NetworkPolicy", with: [.networkPolicy(Self.allowWeb), .networkPolicy(other)])
        var broken = Self.allowWeb
        broken.metadata.labels = ["bad key!": "v"]
        let rejections = store.replaceAll(
            "NetworkPolicy", with: [.networkPolicy(broken)],
            keeping: [ObjectReference(kind: "NetworkPolicy", namespace: "y", name: "other")])
        #expect(rejections.count == 1)
        #expect(Self.policies(store).map(\.name) == ["allow-web", "other"])
        #expect(Self.policies(store).first == Self.allowWeb)
    }

    /// A mistyped mode is enforced (failing closed) and said so: once when the
    /// policy arrives or changes, not on every relist.
    @Test func aPolicyTakenWithWarningsIsNoticedOncePerVersion() throws {
        let store = ClusterStore()
        var mistyped = Self.allowWeb
        mistyped.metadata.annotations[NetworkPolicy.modeAnnotation] = "Audit"
        let notice = try #require(store.replaceAll("NetworkPolicy", with: [.networkPolicy(mistyped)]).first)
        #expect(!notice.isRejection && notice.description.contains("metadata.annotations[netpol.io/mode]"), "\(notice)")
        #expect(Self.policies(store) == [mistyped])
        #expect(store.replaceAll("NetworkPolicy", with: [.networkPolicy(mistyped)]).isEmpty, "a relist of the same version")
        #expect(store.upsert(.networkPolicy(mistyped)).isEmpty)
        mistyped.metadata.labels = ["changed": "yes"]
        #expect(store.upsert(.networkPolicy(mistyped)).map(\.isRejection) == [false])
        #expect(store.upsert(.networkPolicy(Self.allowWeb)).isEmpty)
    }

    @Test func versionCountsOnlyRealChanges() {
        let store = ClusterStore()
        _ = store.upsert(.networkPolicy(Self.allowWeb))
        let version = store.version
        _ = store.upsert(.networkPolicy(Self.allowWeb))
        store.remove(ObjectReference(kind: "NetworkPolicy", namespace: "x", name: "missing"))
        #expect(store.version == version)
        store.remove(ObjectReference(kind: "NetworkPolicy", namespace: "x", name: "allow-web"))
        #expect(store.version == version + 1)
        #expect(Self.policies(store).isEmpty)
    }
}
