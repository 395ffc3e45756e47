import Foundation
import Synchronization

/// A throwaway CA and a server certificate for 127.0.0.1 and localhost, made
/// with `openssl` once per test process, so TLS in tests is verified for real.
public struct TestCertificates: Sendable {
    public let directory: String
    public var authority: String { directory + "/ca.crt" }
    public var serverCertificate: String { directory + "/server.crt" }
    public var serverKey: String { directory + "/server.key" }
    /// A second CA that signed nothing: a client trusting it must refuse the server.
    public var strangerAuthority: String { directory + "/stranger.crt" }

    private static let made = Mutex<Result<TestCertificates, CertificateError>?>(nil)

    public struct CertificateError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func shared() throws -> TestCertificates {
        try made.withLock { made in
            if made == nil { made = Result { () throws(CertificateError) in try generate() } }
            return try made!.get()
        }
    }

    private static func generate() throws(CertificateError) -> TestCertificates {
        let directory = NSTemporaryDirectory() + "netpol-tls-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The keys are throwaway, but nothing of a test run should outlive it.
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "netpol-tls-\(getpid())") }
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=netpol-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt"],
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger-ca",
             "-keyout", "stranger.key", "-out", "stranger.crt"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", "server.key", "-out", "server.csr"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", "san.cnf", "-out", "server.crt"],
        ]
        let san = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        _ = FileManager.default.createFile(atPath: directory + "/san.cnf", contents: Data(san.utf8))
        for arguments in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                throw CertificateError(description: "cannot run openssl (install it: apt-get install openssl): \(error)")
            }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CertificateError(description: "openssl \(arguments.joined(separator: " ")) failed")
            }
        }
        return TestCertificates(directory: directory)
    }
}
