import Foundation
import NetpolAgent
import NetpolKube
import NetpolModel
import NetpolTesting
import Synchronization
import Testing

/// The client against a server speaking the API's wire protocol over verified TLS.
@Suite("Kubernetes client")
struct KubeClientTests {
    /// The server's own access, with another token or CA when a test asks for one.
    static func access(_ server: FakeAPIServer, token: String? = nil, authority: String? = nil) throws -> ClusterAccess {
        var access = server.access
        if let token { access.credential = .token(token) }
        if let authority { access.certificateAuthority = try Data(contentsOf: URL(fileURLWithPath: authority)) }
        return access
    }

    static func pod(_ name: String, labels: [String: String] = [:]) -> KubeObject {
        .pod(Pod(metadata: ObjectMeta(name: name, namespace: "x", labels: labels),
                 spec: PodSpec(nodeName: "node-1"),
                 status: PodStatus(phase: "Running", podIP: "10.0.0.1", podIPs: ["10.0.0.1"])))
    }

    @Test func listsEveryPageAndTheResourceVersion() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer(objects: (0..<7).map { Self.pod("p\($0)") })
            let client = try KubeClient(access: try Self.access(server))
            let list = try await client.list(.pods, pageSize: 3)
            #expect(list.items.count == 7)
            #expect(list.items.compactMap { try? $0.get().metadata.name }.sorted() == (0..<7).map { "p\($0)" })
            #expect(list.resourceVersion == "1007")
            #expect(server.requests.filter { $0.contains("/api/v1/pods?limit=3") }.count == 3, "three pages: \(server.requests)")
            await client.shutdown()
            await server.close()
        }
    }

    @Test func refusesAServerItDoesNotTrust() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer()
            let client = try KubeClient(access: try Self.access(server, authority: server.certificates.strangerAuthority))
            await #expect { try await client.list(.pods) } throws: { ($0 as? KubeError)?.code == .transport }
            #expect(server.requests.isEmpty, "no request may pass an unverified handshake")
            await client.shutdown()
            await server.close()
        }
    }

    @Test func reportsAWrongTokenWithTheServersMessage() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer()
            let client = try KubeClient(access: try Self.access(server, token: "wrong"))
            await #expect { try await client.list(.namespaces) } throws: { error in
                guard let error = error as? KubeError else { return false }
                return error.code == .status(401) && error.message.contains("Unauthorized")
            }
            await client.shutdown()
            await server.close()
        }
    }

    @Test func readsATokenFileAgainForEveryRequest() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer()
            let tokenFile = NSTemporaryDirectory() + "netpol-token-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: tokenFile) }
            try Data("stale\n".utf8).write(to: URL(fileURLWithPath: tokenFile))
            var access = try Self.access(server)
            access.credential = .tokenFile(tokenFile)
            let client = try KubeClient(access: access)
            await #expect { try await client.list(.pods) } throws: { ($0 as? KubeError)?.code == .status(401) }
            try Data((server.token + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))
            _ = try await client.list(.pods)
            await client.shutdown()
            await server.close()
        }
    }

    @Test func watchDeliversEventsInOrderWithBookmarks() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer(objects: [Self.pod("a")])
            let client = try KubeClient(access: try Self.access(server))
            let start = try await client.list(.pods).resourceVersion
            let seen = Mutex<[String]>([])
            let watching = Task(executorPreference: AgentExecutor.shared) {
                try await client.watch(.pods, from: start, timeoutSeconds: 5) { event in
                    let text: String
                    switch event {
                    case .added(let item): text = "ADDED " + ((try? item.get().metadata.name) ?? "?")
                    case .modified(let item): text = "MODIFIED " + ((try? item.get().metadata.labels["v"]) ?? "?")
                    case .deleted(let item): text = "DELETED " + ((try? item.get().metadata.name) ?? "?")
                    case .bookmark(let version): text = "BOOKMARK " + version
                    case .error(let code, _): text = "ERROR \(code)"
                    }
                    seen.withLock { $0.append(text) }
                }
            }
            try await waitUntil { server.watchCount == 1 }
            server.apply(Self.pod("b"))
            server.apply(Self.pod("a", labels: ["v": "2"]))
            server.delete(Self.pod("b"))
            server.sendBookmarks()
            try await waitUntil { seen.withLock { $0.count } == 4 }
            #expect(seen.withLock { $0 } == ["ADDED b", "MODIFIED 2", "DELETED b", "BOOKMARK 1004"])
            watching.cancel()
            _ = await watching.result
                try await waitUntil { server.watchCount == 0 }
            await client.shutdown()
            await server.close()
        }
    }

    @Test func watchFromACompactedVersionIsGone() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer(objects: [Self.pod("a")])
            let client = try KubeClient(access: try Self.access(server))
            server.compactHistory()
            let codes = Mutex<[Int]>([])
            try await client.watch(.pods, from: "1000", timeoutSeconds: 5) { event in
                if case .error(let code, _) = event { codes.withLock { $0.append(code) } }
            }
            #expect(codes.withLock { $0 } == [410], "an ERROR event with a 410 Status, then the end of the stream")
            await client.shutdown()
            await server.close()
        }
    }

    /// Through dropped connections, 5xx answers and a compacted history, the
    /// reflector ends up knowing exactly what the server holds.
    @Test func reflectorRecoversFromDropsErrorsAndGone() async throws {
        try await onAgentThreads {
            let server = try await FakeAPIServer(objects: [Self.pod("a"), Self.pod("b")])
            let client = try KubeClient(access: try Self.access(server))
            let recorder = UpdateRecorder()
            let reflector = Reflector(kind: .pods, client: client, watchTimeout: 30...30, backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(100)))
            let running = Task(executorPreference: AgentExecutor.shared) {
                await reflector.run { update in
                    recorder.known.withLock { known in
                        switch update {
                        case .listed(let items):
                            known = Dictionary(items.compactMap { try? $0.get() }.map { ($0.metadata.name, $0) }) { $1 }
                            recorder.updates.withLock { $0.append("listed") }
                        case .added(let item), .modified(let item):
                            if let object = try? item.get() { known[object.metadata.name] = object }
                        case .deleted(let item):
                            if let object = try? item.get() { known[object.metadata.name] = nil }
                        case .watchEnded(let error):
                            recorder.updates.withLock { $0.append(error == nil ? "ended" : "failed") }
                        case .relisting:
                            recorder.updates.withLock { $0.append("relisting") }
                        case .absent:
                            recorder.updates.withLock { $0.append("absent") }
                        }
                    }
                }
            }
            let names = { recorder.known.withLock { $0.keys.sorted() } }
            try await waitUntil { server.watchCount == 1 }
            server.apply(Self.pod("c"))
            try await waitUntil { names() == ["a", "b", "c"] }

            // A dropped connection and two 503s: the watch resumes where it was.
            server.failNextRequests(2, status: .serviceUnavailable)
            server.dropConnections()
            server.delete(Self.pod("a"))
            try await waitUntil { names() == ["b", "c"] }
            #expect(recorder.updates.withLock { $0 }.filter { $0 == "failed" }.count >= 3)
            #expect(recorder.updates.withLock { $0 }.filter { $0 == "listed" }.count == 1, "a resumed watch needs no new list")

            // History compacted while disconnected: 410, then a fresh list.
            try await waitUntil { server.watchCount == 1 }
            server.dropConnections()
            server.apply(Self.pod("d"))
            server.compactHistory()
            try await waitUntil { names() == ["b", "c", "d"] }
            #expect(recorder.updates.withLock { $0 }.contains("relisting"))
            #expect(recorder.updates.withLock { $0 }.filter { $0 == "listed" }.count == 2)
            running.cancel()
            await running.value
            await client.shutdown()
            await server.close()
        }
    }
}

/// What a reflector told its owner, for tests to look at.
private final class UpdateRecorder: Sendable {
    let known = Mutex<[String: KubeObject]>([:])
    let updates = Mutex<[String]>([])
}

/// Runs a test's body on the agent's threads, so that tests blocking the
/// shared concurrency pool (the lab's) cannot starve it.
func onAgentThreads(_ body: () async throws -> Void) async throws {
    try await withTaskExecutorPreference(AgentExecutor.shared, operation: body)
}

/// Polls `condition` every 10 ms for up to `timeout`; fails the test when it never holds.
/// The bound is generous: under a full test run the agent's threads are shared
/// with lab tests that block them for seconds at a time.
func waitUntil(timeout: Duration = .seconds(60), _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
