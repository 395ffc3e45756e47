import NetpolEngine
import NetpolModel

/// What changes between two plans of one node: the least the kernel has to be
/// told. A pod that comes or goes changes set elements and bindings; a policy
/// change adds, removes or rewrites chains.
public struct PlanDiff: Hashable, Sendable {
    /// Sets new in the plan, with their elements.
    public var addedSets: [AddressSet] = []
    /// Names of sets the plan no longer has.
    public var removedSets: [String] = []
    /// Element changes of sets both plans have, by set name.
    public var elementChanges: [ElementChange] = []
    /// Chains new in the plan.
    public var addedChains: [PlanChain] = []
    /// Chains whose rules changed (same name, so the pods using them stay bound).
    public var changedChains: [PlanChain] = []
    /// Names of chains the plan no longer has.
    public var removedChains: [String] = []
    public var addedBindings: [PodBinding] = []
    public var removedBindings: [PodBinding] = []

    public struct ElementChange: Hashable, Sendable {
        public var set: String
        public var family: IPAddress.Family
        public var added: [AddressSet.Element]
        public var removed: [AddressSet.Element]
    }

    /// Sets of the new plan that a rule other than an allow refers to (a
    /// ClusterNetworkPolicy Deny or Pass): an element added there can deny.
    public var denyingSets: Set<String> = []

    /// No change at all.
    public init() {}

    public var isEmpty: Bool {
        addedSets.isEmpty && removedSets.isEmpty && elementChanges.isEmpty && addedChains.isEmpty && changedChains.isEmpty
            && removedChains.isEmpty && addedBindings.isEmpty && removedBindings.isEmpty
    }

    /// Whether it can deny a connection the plan before allowed: an element
    /// leaves a set (a peer, or a pod no longer known), a pod becomes bound
    /// (isolated, or judged by another chain), a chain's rules change, or an
    /// element joins a set a Deny or Pass rule matches. Elements added to
    /// sets only allows match allow more; a chain or set nothing refers to yet
    /// decides nothing.
    public var mayDeny: Bool {
        !addedBindings.isEmpty || !changedChains.isEmpty
            || elementChanges.contains { !$0.removed.isEmpty || (!$0.added.isEmpty && denyingSets.contains($0.set)) }
    }

    /// Set and map elements added or removed.
    public var elementCount: Int {
        addedSets.reduce(0) { $0 + $1.elements.count }
            + elementChanges.reduce(0) { $0 + $1.added.count + $1.removed.count }
            + addedBindings.count + removedBindings.count
    }

    /// Rules written (in added or rewritten chains) or removed with their chains.
    public var ruleCount: Int {
        (addedChains + changedChains).reduce(0) { $0 + $1.rules.count + 1 } + removedChains.count
    }
}

extension RulePlan {
    /// What turns `old` into this plan.
    public func diff(from old: RulePlan) -> PlanDiff {
        var diff = PlanDiff()
        let oldSets = Dictionary(uniqueKeysWithValues: old.sets.map { ($0.name, $0) })
        let newSets = Dictionary(uniqueKeysWithValues: sets.map { ($0.name, $0) })
        for set in sets {
            guard let before = oldSets[set.name] else {
                diff.addedSets.append(set)
                continue
            }
            // Most sets are untouched by a change; comparing in order is far cheaper than hashing.
            if before.elements == set.elements { continue }
            let beforeElements = Set(before.elements), afterElements = Set(set.elements)
            let added = set.elements.filter { !beforeElements.contains($0) }
            let removed = before.elements.filter { !afterElements.contains($0) }
            if !added.isEmpty || !removed.isEmpty {
                diff.elementChanges.append(PlanDiff.ElementChange(set: set.name, family: set.family, added: added, removed: removed))
            }
        }
        diff.removedSets = old.sets.map(\.name).filter { newSets[$0] == nil }

        let oldChains = Dictionary(uniqueKeysWithValues: old.chains.map { ($0.name, $0) })
        let newChainNames = Set(chains.map(\.name))
        for chain in chains {
            guard let before = oldChains[chain.name] else {
                diff.addedChains.append(chain)
                continue
            }
            if before.rules != chain.rules { diff.changedChains.append(chain) }
        }
        diff.removedChains = old.chains.map(\.name).filter { !newChainNames.contains($0) }

        if diff.elementChanges.contains(where: { !$0.added.isEmpty }) {
            diff.denyingSets = denyingSets.intersection(diff.elementChanges.map(\.set))
        }
        if old.bindings == bindings { return diff }
        let oldBindings = Set(old.bindings), newBindings = Set(bindings)
        diff.addedBindings = bindings.filter { !oldBindings.contains($0) }
        diff.removedBindings = old.bindings.filter { !newBindings.contains($0) }
        return diff
    }
}

extension RulePlan {
    /// Makes this plan the one `diff` leads to, in place: what a programmer that
    /// wrote `diff` holds afterwards, without the whole plan worked out again.
    /// The cost follows the size of the difference (and a move of each touched
    /// array), not the number of elements.
    public mutating func apply(_ diff: PlanDiff) {
        if !diff.removedSets.isEmpty {
            let removed = Set(diff.removedSets)
            sets.removeAll { removed.contains($0.name) }
        }
        for set in diff.addedSets { sets.insert(set, at: sets.insertionIndex { $0.name < set.name }) }
        for change in diff.elementChanges {
            let index = sets.insertionIndex { $0.name < change.set }
            guard index < sets.count, sets[index].name == change.set else { continue }
            sets[index].elements.applySorted(adding: change.added, removing: change.removed)
        }

        if !diff.removedChains.isEmpty {
            let removed = Set(diff.removedChains)
            chains.removeAll { removed.contains($0.name) }
        }
        for chain in diff.changedChains + diff.addedChains {
            let index = chains.insertionIndex { $0.name < chain.name }
            if index < chains.count, chains[index].name == chain.name { chains[index] = chain } else { chains.insert(chain, at: index) }
        }

        bindings.applySorted(adding: diff.addedBindings, removing: diff.removedBindings, by: PodBinding.inPlanOrder)
    }
}

extension Array {
    /// The first index whose element is not `before` the one sought, in an array sorted that way.
    func insertionIndex(_ before: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if before(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension Array where Element: Hashable {
    /// Removes and inserts elements of an array sorted by `before`, keeping it
    /// sorted: one by one for a few, by rebuilding for many.
    mutating func applySorted(adding added: [Element], removing removed: [Element], by before: (Element, Element) -> Bool) {
        if added.count + removed.count > 64 {
            var kept = Set(self)
            kept.subtract(removed)
            kept.formUnion(added)
            self = kept.sorted(by: before)
            return
        }
        for element in removed {
            let index = insertionIndex { before($0, element) }
            if index < count, self[index] == element { remove(at: index) }
        }
        for element in added {
            let index = insertionIndex { before($0, element) }
            if index == count || self[index] != element { insert(element, at: index) }
        }
    }
}

extension Array where Element: Hashable & Comparable {
    mutating func applySorted(adding added: [Element], removing removed: [Element]) {
        applySorted(adding: added, removing: removed, by: <)
    }
}
