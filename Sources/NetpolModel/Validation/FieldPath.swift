/// A path to a field inside a Kubernetes object, printed the way the API server
/// prints it: `spec.ingress[0].ports[1].endPort`, `metadata.labels`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    enum Step: Hashable, Sendable {
        case key(String)
        case index(Int)
        /// A map entry, printed `[key]` as the API server's `field.Path.Key` prints it.
        case mapKey(String)
    }

    let steps: [Step]

    /// The empty path: the object (or document) itself.
    public static let root = FieldPath(steps: [])

    public init(_ keys: String...) {
        self.steps = keys.map(Step.key)
    }

    init(steps: [Step]) {
        self.steps = steps
    }

    public func child(_ key: String) -> FieldPath {
        appending(step: .key(key))
    }

    public func index(_ index: Int) -> FieldPath {
        appending(step: .index(index))
    }

    /// The entry `key` of a map field: `metadata.annotations[netpol.io/mode]`.
    public func key(_ key: String) -> FieldPath {
        appending(step: .mapKey(key))
    }

    func appending(step: Step) -> FieldPath {
        var longer: [Step] = []
        longer.reserveCapacity(steps.count + 1)
        longer += steps
        longer.append(step)
        return FieldPath(steps: longer)
    }

    /// This path with `other` appended, for paths relative to a list item.
    public func appending(_ other: FieldPath) -> FieldPath {
        FieldPath(steps: steps + other.steps)
    }

    public var isRoot: Bool { steps.isEmpty }

    /// True when `prefix` is this path or one of its ancestors.
    public func starts(with prefix: FieldPath) -> Bool {
        steps.starts(with: prefix.steps)
    }

    public var description: String {
        var text = ""
        for step in steps {
            switch step {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index):
                text += "[\(index)]"
            case .mapKey(let key):
                text += "[\(key)]"
            }
        }
        return text
    }
}
