import NetpolEngine
import NetpolModel
import NetpolTesting
import Testing

/// Class matrices group the pods that verdicts treat alike; `matrix` is built
/// from them, so every matrix test checks their verdicts too. These check the
/// grouping itself.
@Suite("Class matrices")
struct ClassMatrixTests {
    @Test func withoutPoliciesEveryPodIsAlike() {
        let classes = Engine(snapshot: ConformanceModel.cluster().snapshot).classMatrix(port: .int(80))
        #expect(classes.pods.count == 9)
        #expect(classes.sourceClassCount == 1 && classes.destinationClassCount == 1)
        #expect(classes.classAllowed(0, 0))
    }

    /// A policy isolating x that admits y/b alone: x's pods are one destination
    /// class, y/b a source class of its own, and the verdicts follow.
    @Test func classesFollowWhatPoliciesTellApart() throws {
        var cluster = ConformanceModel.cluster()
        cluster.apply(networkPolicy("from-y-b", in: "x", ingress: [.init(from: [.pods(.labels(["pod": "b"]), inNamespaces: .labels(["ns": "y"]))])]))
        let classes = Engine(snapshot: cluster.snapshot).classMatrix(port: .int(80))
        let position = { (name: String) in try #require(classes.pods.firstIndex { $0.description == name }) }
        let (xa, xb, yb, yc, za) = (try position("x/a"), try position("x/b"), try position("y/b"), try position("y/c"), try position("z/a"))
        #expect(classes.destinationClasses[xa] == classes.destinationClasses[xb])
        #expect(classes.destinationClasses[xa] != classes.destinationClasses[za])
        #expect(classes.sourceClasses[yb] != classes.sourceClasses[yc])
        #expect(classes.sourceClasses[yc] == classes.sourceClasses[za])
        #expect(classes.sourceClassCount == 2 && classes.destinationClassCount == 2)
        #expect(classes.allowed(yb, xa) && !classes.allowed(yc, xa) && classes.allowed(yc, za) && classes.allowed(xa, xa))
    }
}
