import NetpolEngine
import NetpolModel

/// Finds NetworkPolicies that are valid but almost certainly not what their
/// author meant. Pure: give it the objects read from manifests (already valid,
/// as `netpol validate` judges them), ask for the findings.
///
/// Checks about "today" (a selector that selects nothing, a named port no pod
/// declares, pod addresses inside an ipBlock) look at the pods and namespaces
/// of the input, and only where the input shows them: a namespace with no pod
/// in the input is not said to have none.
public struct Linter: Sendable {
    let view: ClusterView
    /// Verdicts on connections, for checks that need both ends' policies.
    let engine: Engine
    /// The objects with YAML values read as other than their text, any kind.
    let retyped: [LocatedObject]

    public init(objects: [LocatedObject]) {
        view = ClusterView(objects)
        engine = Engine(snapshot: view.snapshot)
        retyped = objects.filter { !$0.retypedScalars.isEmpty }
    }

    /// Lints objects read from manifests, each placed at its `FILE:DOC`.
    public init(objects: [LoadedObject]) {
        self.init(objects: objects.map { LocatedObject($0.object, at: $0.location, retypedScalars: $0.retypedScalars) })
    }

    /// Every finding, in the order of the policies (namespace, name), then by code and field.
    public func findings() -> [Finding] {
        var findings: [Finding] = []
        for policy in view.snapshot.policies {
            let subject = PolicySubject(policy: policy, location: view.location(of: policy))
            findings += selectorFindings(subject)
            findings += ruleFindings(subject)
            findings += redundancyFindings(subject)
            findings += allowAllFindings(subject)
            findings += oneSidedFindings(subject)
        }
        findings += dnsFindings()
        findings += retypedScalarFindings()
        return findings.sorted { lhs, rhs in
            (lhs.object.namespace, lhs.object.name, lhs.code, lhs.field.description) < (rhs.object.namespace, rhs.object.name, rhs.code, rhs.field.description)
        }
    }
}

/// An object to lint and where it was read: `FILE:DOC`, or what stands in for
/// it (`cluster` for an object of a live cluster).
public struct LocatedObject: Sendable {
    public var object: KubeObject
    public var location: String
    /// Unquoted YAML scalars that decoding read as something other than the
    /// text they look like (`LoadedObject.retypedScalars`).
    public var retypedScalars: [RetypedScalar]

    public init(_ object: KubeObject, at location: String, retypedScalars: [RetypedScalar] = []) {
        self.object = object
        self.location = location
        self.retypedScalars = retypedScalars
    }
}

/// A policy under examination, and how to word a finding about it.
struct PolicySubject {
    let policy: NetworkPolicy
    let location: String

    var namespace: String { policy.namespace }

    func finding(_ code: LintCode, _ field: FieldPath, _ message: String) -> Finding {
        Finding(code: code, object: ClusterView.reference(.networkPolicy(policy)), location: location, field: field, message: message)
    }

    /// Every rule of the spec, whatever policyTypes says.
    var rules: [RuleSubject] {
        policy.spec.ingress.enumerated().map { RuleSubject(direction: .ingress, index: $0, peers: $1.from, ports: $1.ports) }
            + policy.spec.egress.enumerated().map { RuleSubject(direction: .egress, index: $0, peers: $1.to, ports: $1.ports) }
    }

    /// The rules of `direction`, if the policy isolates it (else they are ignored).
    func effectiveRules(_ direction: Direction) -> [RuleSubject] {
        policy.isolatedDirections.contains(direction) ? rules.filter { $0.direction == direction } : []
    }
}

/// One ingress or egress rule, with its field path.
struct RuleSubject {
    let direction: Direction
    let index: Int
    let peers: [NetworkPolicyPeer]
    let ports: [NetworkPolicyPort]

    /// `spec.ingress[0]`.
    var path: FieldPath { FieldPath("spec").child(direction.rulesField).index(index) }

    /// `spec.ingress[0].from[1]`.
    func peerPath(_ peer: Int) -> FieldPath { path.child(direction.peersField).index(peer) }

    /// `spec.ingress[0].ports[1]`.
    func portPath(_ port: Int) -> FieldPath { path.child("ports").index(port) }

    /// Neither peers nor ports: every packet of the direction.
    var allowsEverything: Bool { peers.isEmpty && ports.isEmpty }
}

extension Linter {
    /// NP018: an unquoted value YAML 1.1 reads as something else and decoding
    /// accepted: `~` or nothing in a text field or label (read as absent), a
    /// port in octal or hex (`0777` is 511). Values that decoding refuses
    /// (`yes` as a label) are already errors of `netpol validate`.
    func retypedScalarFindings() -> [Finding] {
        retyped.flatMap { located in
            located.retypedScalars.map { scalar in
                let written = scalar.text.isEmpty ? "nothing" : "`\(scalar.text)`"
                return Finding(
                    code: .retypedScalar, object: ClusterView.reference(located.object), location: located.location, field: scalar.path,
                    message: "YAML reads \(written) as \(scalar.readAs), not as the text it looks like; quote it if text was meant")
            }
        }
    }
}
