/// Finds the keys a mapping holds more than once, which YAML refuses (and
/// Yams reported, before netpol read libyaml's events itself).
enum DuplicateKeys {
    /// Index of the first occurrence of every key that occurs again, in index
    /// order; empty when the keys are unique. Keys are numbered 0..<count:
    /// `same` compares two of them, `key` makes one hashable for long mappings.
    static func firstOccurrences<Key: Hashable>(count: Int, same: (Int, Int) -> Bool, key: (Int) -> Key) -> [Int] {
        guard count > 1 else { return [] }
        // Most mappings have a handful of keys: comparing pairs costs less than hashing.
        if count <= 16 {
            var repeated: [Int] = []
            for first in 0..<count {
                for later in (first + 1)..<count where same(first, later) {
                    // Only the first occurrence: an earlier one would already be listed.
                    if !repeated.contains(where: { same($0, first) }) { repeated.append(first) }
                    break
                }
            }
            return repeated
        }
        var firstIndex: [Key: Int] = [:]
        var repeated: Set<Int> = []
        for index in 0..<count {
            let key = key(index)
            if let first = firstIndex[key] { repeated.insert(first) } else { firstIndex[key] = index }
        }
        return repeated.sorted()
    }
}
