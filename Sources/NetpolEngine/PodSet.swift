/// A set of pods by their index in a `PolicyIndex`, as a bit set: unions and
/// membership tests over thousands of pods cost a few machine words.
package struct PodSet: Hashable, Sendable {
    private(set) var words: [UInt64]

    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    /// Every pod index below `capacity`.
    static func all(capacity: Int) -> PodSet {
        var set = PodSet(capacity: capacity)
        for index in 0..<capacity { set.insert(index) }
        return set
    }

    package func contains(_ index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    mutating func insert(_ index: Int) {
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    mutating func formUnion(_ other: PodSet) {
        for word in words.indices { words[word] |= other.words[word] }
    }

    func intersection(_ other: PodSet) -> PodSet {
        var result = self
        for word in words.indices { result.words[word] &= other.words[word] }
        return result
    }

    func subtracting(_ other: PodSet) -> PodSet {
        var result = self
        for word in words.indices { result.words[word] &= ~other.words[word] }
        return result
    }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The members in increasing order.
    package var indices: [Int] {
        var result: [Int] = []
        for (wordIndex, word) in words.enumerated() where word != 0 {
            var remaining = word
            while remaining != 0 {
                result.append(wordIndex << 6 + remaining.trailingZeroBitCount)
                remaining &= remaining - 1
            }
        }
        return result
    }
}
