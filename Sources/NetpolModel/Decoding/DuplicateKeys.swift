/// Finds the keys a mapping holds more than once, which YAML refuses (and
/// Yams reported, before netpol read libyaml's events itself).
enum DuplicateKeys {
    /// Index of the first occurrence of every key that occurs again, in index
    /// order; empty when the keys are unique.
    static func firstOccurrences<Keys: RandomAccessCollection>(_ keys: Keys) -> [Int] where Keys.Element: Hashable, Keys.Index == Int {
        guard keys.count > 1 else { return [] }
        // Most mappings have a handful of keys: comparing pairs costs less than hashing.
        if keys.count <= 16 {
            var repeated: [Int] = []
            for first in keys.indices {
                let key = keys[first]
                for later in (first + 1)..<keys.endIndex where keys[later] == key {
                    // Only the first occurrence: an earlier one would already be listed.
                    if !repeated.contains(where: { keys[$0] == key }) { repeated.append(first) }
                    break
                }
            }
            return repeated
        }
        var firstIndex: [Keys.Element: Int] = [:]
        var repeated: Set<Int> = []
        for index in keys.indices {
            let key = keys[index]
            if let first = firstIndex[key] { repeated.insert(first) } else { firstIndex[key] = index }
        }
        return repeated.sorted()
    }
}
