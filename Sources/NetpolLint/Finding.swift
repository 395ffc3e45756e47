import NetpolModel

/// How sure lint is that a finding is a mistake. Warnings fail `netpol lint`
/// (exit status 1); info findings are printed and do not.
public enum Severity: String, Hashable, Sendable {
    case warning
    case info
}

/// Every check lint makes, with its stable code: codes are never reused or
/// renumbered, so that scripts and suppressions may rely on them.
public enum LintCode: String, Hashable, Sendable, CaseIterable, Comparable {
    case podSelectorSelectsNothing = "NP001"
    case namespaceSelectorSelectsNothing = "NP002"
    case peerSelectsNoPod = "NP003"
    case selectorContradicts = "NP004"
    case namespaceNameLabel = "NP005"
    case emptyIPBlock = "NP006"
    case undeclaredNamedPort = "NP007"
    case redundantPolicy = "NP008"
    case allowAllCancelsDefaultDeny = "NP009"
    case ipBlockCoversPods = "NP010"
    case egressWithoutDNS = "NP011"
    case dnsPortWithoutUDP = "NP012"
    case implicitIngressIsolation = "NP013"
    case ignoredRules = "NP014"
    case everyNamespace = "NP015"
    case splitPeer = "NP016"
    case oneSidedRule = "NP017"
    case retypedScalar = "NP018"

    public static func < (lhs: LintCode, rhs: LintCode) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The severity of every finding with this code.
    public var severity: Severity {
        switch self {
        case .everyNamespace, .splitPeer: return .info
        default: return .warning
        }
    }

    /// One line for the table of codes in `netpol lint --help` and README.
    public var summary: String {
        switch self {
        case .podSelectorSelectsNothing: return "spec.podSelector selects no pod of the input"
        case .namespaceSelectorSelectsNothing: return "a namespaceSelector selects no namespace"
        case .peerSelectsNoPod: return "a peer's podSelector selects no pod"
        case .selectorContradicts: return "a selector no labels can ever satisfy"
        case .namespaceNameLabel: return "namespaceSelector on `name`, not kubernetes.io/metadata.name"
        case .emptyIPBlock: return "an ipBlock whose except entries cover its cidr"
        case .undeclaredNamedPort: return "a named port no destination pod declares"
        case .redundantPolicy: return "a policy another one makes redundant"
        case .allowAllCancelsDefaultDeny: return "an allow-all rule that cancels a default deny"
        case .ipBlockCoversPods: return "an ipBlock that covers pod addresses"
        case .egressWithoutDNS: return "egress isolation with no rule allowing port 53"
        case .dnsPortWithoutUDP: return "port 53 without protocol: TCP only, DNS needs UDP"
        case .implicitIngressIsolation: return "policyTypes absent, egress rules only: isolates ingress"
        case .ignoredRules: return "rules of a direction policyTypes leaves out"
        case .everyNamespace: return "namespaceSelector {}: every namespace"
        case .splitPeer: return "namespaceSelector and podSelector in two peers (OR)"
        case .oneSidedRule: return "a rule whose every connection the other end refuses"
        case .retypedScalar: return "an unquoted YAML value read as other than its text (~, 0777)"
        }
    }
}

/// One thing lint found: a policy that is valid but almost certainly not what
/// its author meant, named by its code, object, field and one line of why.
public struct Finding: Hashable, Sendable {
    public var code: LintCode
    public var object: ObjectReference
    /// `FILE:DOC` of the object, as `netpol validate` prints it.
    public var location: String
    /// The field the finding is about, as the API server names fields.
    public var field: FieldPath
    public var message: String

    public init(code: LintCode, object: ObjectReference, location: String, field: FieldPath, message: String) {
        self.code = code
        self.object = object
        self.location = location
        self.field = field
        self.message = message
    }

    public var severity: Severity { code.severity }
}
