import NetpolLint
import Testing

@Suite("lint: YAML values read as other than their text")
struct RetypedScalarTests {
    /// `~` in a matchLabels value drops the entry (the selector selects more);
    /// an octal port is another number; quoted, both stay as written.
    @Test func unquotedValuesYAMLRetypesAreFound() throws {
        let retyped = policy("shop", "p", "{podSelector: {matchLabels: {app: web, tier: ~}}, ingress: [{ports: [{port: 0777}]}]}")
        let findings = try lint(retyped).filter { $0.code == .retypedScalar }
        #expect(findings.map { "\($0.object.name) \($0.field)" } == ["p spec.ingress[0].ports[0].port", "p spec.podSelector.matchLabels.tier"])
        #expect(findings.allSatisfy { $0.code.severity == .warning })
        #expect(findings.first?.message.contains("`0777` as 511") == true, "\(findings.map(\.message))")
        let quoted = policy("shop", "p", "{podSelector: {matchLabels: {app: web, tier: \"\"}}, ingress: [{ports: [{port: 511}]}]}")
        #expect(try found(.retypedScalar, quoted) == [])
    }

    @Test func aLabelOfAnyKindIsLooked() throws {
        #expect(try found(.retypedScalar, namespace("shop", labels: "{team: ~}")) == ["NP018 shop metadata.labels.team"])
    }
}
