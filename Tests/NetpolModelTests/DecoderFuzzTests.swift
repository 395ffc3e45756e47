import Foundation
import NetpolModel
import PropertyBased
import Testing

/// Property: whatever bytes arrive, loading ends with objects or with errors that
/// name the file, and never crashes or hangs. Inputs are realistic manifests
/// mutated at random (bytes flipped, cut, spliced, duplicated), which reach far
/// deeper into the decoder than random bytes do.
///
/// `NETPOL_FUZZ_ITERATIONS` sets the number of inputs (default 3,000);
/// `make fuzz FUZZ_ITERATIONS=200000` runs it longer.
@Suite("Decoder fuzzing")
struct DecoderFuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["NETPOL_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3_000

    /// Seeds: every bundled example, valid or not.
    static let seeds: [Data] = {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples").standardized
        let files = ManifestLoader.load([examples.path]).files
        return files.compactMap { FileManager.default.contents(atPath: $0) }
    }()

    enum Mutation: CaseIterable, Sendable {
        case flipByte, insertByte, deleteRange, truncate, duplicateRange, swapStructural
    }

    static func mutate(_ data: Data, _ mutations: [(Mutation, Int, Int, UInt8)]) -> Data {
        var bytes = [UInt8](data)
        let structural: [UInt8] = Array("{}[]:-,'\"&*!|>#\n \t".utf8)
        for (mutation, first, second, byte) in mutations where !bytes.isEmpty {
            let position = first % bytes.count
            let length = min(second % 64, bytes.count - position)
            switch mutation {
            case .flipByte: bytes[position] ^= max(byte, 1)
            case .insertByte: bytes.insert(byte, at: position)
            case .deleteRange: bytes.removeSubrange(position..<(position + length))
            case .truncate: bytes.removeSubrange(position...)
            case .duplicateRange: bytes.insert(contentsOf: bytes[position..<(position + length)], at: position)
            case .swapStructural: bytes[position] = structural[Int(byte) % structural.count]
            }
        }
        return Data(bytes)
    }

    @Test func mutatedManifestsNeverCrash() async {
        #expect(!Self.seeds.isEmpty, "the examples directory should provide seeds")
        let mutation = zip(Gen<Mutation>.case, Gen.int(in: 0...1_000_000), Gen.int(in: 0...1_000), Gen.uint8())
        await propertyCheck(count: Self.iterations, input: Gen.int(in: 0...1_000), mutation.array(of: 1...8)) { seedIndex, mutations in
            let input = Self.mutate(Self.seeds[seedIndex % Self.seeds.count], mutations)
            var set = ManifestSet()
            ManifestLoader.load(data: input, file: "fuzz.yaml", into: &set)
            for error in set.errors {
                #expect(error.file == "fuzz.yaml")
                #expect(!error.message.isEmpty)
            }
            // Whatever decoded must also validate without trapping.
            for object in set.objects {
                _ = Validator.problems(object)
                _ = Validator.warnings(object.object)
            }
        }
    }

    @Test func randomTextNeverCrashes() async {
        let alphabet = Gen<Unicode.Scalar?>.element(of: Array("apiVersion: v1\nkind: NetworkPolicy\nmetadata spec ingress - [ ] { } \" ' & * ! # | > ---\n 0123456789".unicodeScalars))
        await propertyCheck(count: Self.iterations, input: alphabet.compactMap { $0 }.array(of: 0...400)) { scalars in
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            var set = ManifestSet()
            ManifestLoader.load(data: Data(text.utf8), file: "random.yaml", into: &set)
            #expect(set.errors.allSatisfy { $0.file == "random.yaml" })
        }
    }
}
