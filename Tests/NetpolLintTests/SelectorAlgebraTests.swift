@testable import NetpolLint
import NetpolModel
import Testing

@Suite("lint: selector algebra")
struct SelectorAlgebraTests {
    func constraints(_ labels: [String: String] = [:], _ expressions: [LabelSelectorRequirement] = []) -> SelectorConstraints {
        SelectorConstraints(LabelSelector(matchLabels: labels, matchExpressions: expressions))
    }

    @Test func implication() {
        let web = constraints(["app": "web"])
        let webOrApi = constraints([:], [LabelSelectorRequirement(key: "app", operator: .in, values: ["web", "api"])])
        let notDb = constraints([:], [LabelSelectorRequirement(key: "app", operator: .notIn, values: ["db"])])
        let hasApp = constraints([:], [LabelSelectorRequirement(key: "app", operator: .exists)])
        let noApp = constraints([:], [LabelSelectorRequirement(key: "app", operator: .doesNotExist)])
        let everything = constraints()
        #expect(web.implies(webOrApi) && web.implies(notDb) && web.implies(hasApp) && web.implies(everything))
        #expect(!webOrApi.implies(web) && !notDb.implies(hasApp) && !hasApp.implies(notDb) && !everything.implies(web))
        #expect(noApp.implies(notDb) && !noApp.implies(hasApp))
        #expect(constraints(["app": "web", "tier": "x"]).implies(web) && !web.implies(constraints(["app": "web", "tier": "x"])))
    }

    @Test func contradictions() {
        #expect(constraints(["app": "web"], [LabelSelectorRequirement(key: "app", operator: .in, values: ["api"])]).contradictedKey == "app")
        #expect(constraints([:], [LabelSelectorRequirement(key: "a", operator: .exists), LabelSelectorRequirement(key: "a", operator: .doesNotExist)]).contradictedKey == "a")
        #expect(constraints(["app": "web"], [LabelSelectorRequirement(key: "app", operator: .notIn, values: ["api"])]).contradictedKey == nil)
        // A contradiction implies anything: it matches nothing.
        #expect(constraints(["app": "web"], [LabelSelectorRequirement(key: "app", operator: .in, values: ["api"])]).implies(constraints(["x": "y"])))
    }
}
