import Foundation
import NetpolDataplane

/// What `netpol --version` prints.
enum Version {
    /// netpol's version, raised by hand when a release is cut.
    static let number = "0.1.0"

    /// `netpol 0.1.0`, with the commit when this binary was built from a git
    /// checkout that is still there (a development build; an image has none).
    /// SwiftPM cannot put the commit into the binary without a build plugin, so
    /// the checkout is asked when the version is: `git describe --always --dirty`
    /// in the package root this file was compiled from.
    static var text: String {
        guard let commit = checkoutCommit() else { return "netpol \(number)" }
        return "netpol \(number) (commit \(commit))"
    }

    private static func checkoutCommit() -> String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path),
              let described = try? ProcessRunner().run(Command("git", ["-C", root.path, "describe", "--always", "--dirty"])),
              described.status == 0
        else { return nil }
        let commit = described.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }
}
