import Foundation
import Glibc
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

    /// Per format: the input's size, the median decoding time of `runs` runs
    /// as CPU time of the decoding thread (the machine is shared: wall time
    /// would count other processes' turns) and as wall time, and the rate in
    /// MB/s (10^6 bytes a second of CPU time).
    public func run(runs: Int) throws -> [Measurement] {
        let objects = size.generator.objects()
        let inputs = [
            ("YAML", "bench.yaml", Data(ManifestWriter.yaml(objects).utf8)),
            ("JSON", "bench.json", Data(ManifestWriter.jsonList(objects).utf8)),
        ]
        var results: [Measurement] = []
        for (format, file, data) in inputs {
            let times = try (0..<max(1, runs)).map { _ in try Self.decodeTimes(data, file: file, expecting: objects.count) }
            let cpu = times.map(\.cpu).sorted()[times.count / 2]
            let wall = times.map(\.wall).sorted()[times.count / 2]
            results += [
                Measurement(name: "\(format) size", value: Double(data.count) / 1e6, unit: "MB"),
                Measurement(name: "\(format) decode, CPU time", value: cpu * 1_000, unit: "ms"),
                Measurement(name: "\(format) decode, wall time", value: wall * 1_000, unit: "ms"),
                Measurement(name: "\(format) decode rate (CPU time)", value: Double(data.count) / 1e6 / cpu, unit: "MB/s"),
            ]
        }
        return results
    }

    /// One decode of `data`, in seconds of this thread's CPU and of the clock;
    /// throws unless every object came back, JSON through the JSON parser and
    /// YAML through the subset reader.
    private static func decodeTimes(_ data: Data, file: String, expecting count: Int) throws -> (cpu: Double, wall: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let startCPU = threadCPUSeconds()
        var set = ManifestSet()
        ManifestLoader.load(data: data, file: file, into: &set)
        let cpu = threadCPUSeconds() - startCPU
        let wall = (clock.now - start).milliseconds / 1_000
        guard set.errors.isEmpty, set.objects.count == count else {
            throw BenchmarkError("\(file) decoded to \(set.objects.count) objects of \(count), errors: \(set.errors.prefix(3))")
        }
        // A JSON file read by the YAML reader would be measured as JSON.
        guard set.jsonFallbacks.isEmpty else { throw BenchmarkError("\(file) took the YAML reader: \(set.jsonFallbacks)") }
        // And YAML handed to libyaml's reader would be measured as the subset reader.
        guard set.yamlHandOvers.isEmpty else { throw BenchmarkError("\(file) took libyaml's reader: \(set.yamlHandOvers)") }
        return (cpu, wall)
    }

    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
