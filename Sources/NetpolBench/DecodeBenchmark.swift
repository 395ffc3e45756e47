import Foundation
import NetpolAgent
import NetpolModel

/// Measures manifest decoding, bytes to objects as `netpol validate -f` reads
/// them, for one cluster size in the two shapes operators feed netpol: YAML as
/// `netpol gen` writes it, and JSON as `kubectl get -A -o json` answers (one
/// `kind: List`, an item a line).
public struct DecodeBenchmark {
    public var size: BenchmarkSize

    public init(size: BenchmarkSize) {
        self.size = size
    }

    /// Per format: the input's size, the median decoding time of `runs` runs,
    /// and the rate in MB/s (10^6 bytes a second).
    public func run(runs: Int) throws -> [Measurement] {
        let objects = size.generator.objects()
        let inputs = [
            ("YAML", "bench.yaml", Data(ManifestWriter.yaml(objects).utf8)),
            ("JSON", "bench.json", Data(ManifestWriter.jsonList(objects).utf8)),
        ]
        var results: [Measurement] = []
        for (format, file, data) in inputs {
            let seconds = try (0..<max(1, runs)).map { _ in try Self.decodeSeconds(data, file: file, expecting: objects.count) }.sorted()
            let median = seconds[seconds.count / 2]
            results += [
                Measurement(name: "\(format) size", value: Double(data.count) / 1e6, unit: "MB"),
                Measurement(name: "\(format) decode", value: median * 1_000, unit: "ms"),
                Measurement(name: "\(format) decode rate", value: Double(data.count) / 1e6 / median, unit: "MB/s"),
            ]
        }
        return results
    }

    /// One decode of `data`; throws unless every object came back.
    private static func decodeSeconds(_ data: Data, file: String, expecting count: Int) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var set = ManifestSet()
        ManifestLoader.load(data: data, file: file, into: &set)
        let elapsed = clock.now - start
        guard set.errors.isEmpty, set.objects.count == count else {
            throw BenchmarkError("\(file) decoded to \(set.objects.count) objects of \(count), errors: \(set.errors.prefix(3))")
        }
        return elapsed.milliseconds / 1_000
    }
}
