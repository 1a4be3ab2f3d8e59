// HTTPServer over real TCP: problem+json on every error path, body limits (413 before upload),
// request ids, static files and traversal, concurrency, malformed input, graceful shutdown.
import Glibc
@testable import HTTPAPI
import JSON
import Log
import Posix
import Synchronization
import Testing
import VSquareTesting

/// A server on an ephemeral loopback port with the test router and a small static tree.
final class LiveServer: Sendable {
    let directory = TempDirectory(prefix: "vsqweb")
    let server: HTTPServer
    var client: HTTPTestClient { HTTPTestClient(address: server.address) }

    /// What the file outside the web root holds; no response may ever contain it.
    static let secretContent = "TOP-SECRET-7f3a9"

    init(maxBodySize: Int = 1024) throws {
        JSON.prepare()
        Log.threshold = .warning
        Signals.ignoreBrokenPipe()
        try FileSystem.makeDirectories(directory.path + "/www/css")
        try LiveServer.write("<!doctype html><title>t</title>", to: directory.path + "/www/index.html")
        try LiveServer.write("body{}", to: directory.path + "/www/css/site.css")
        try LiveServer.write(LiveServer.secretContent, to: directory.path + "/secret.txt")
        let files = StaticFiles(root: directory.path + "/www")!
        var builder = RouterBuilder()
        builder.add("GET", "/v1/things") { _ in .json(["things": []]) }
        builder.add("POST", "/v1/echo") { request in .json(try request.json()) }
        builder.add("GET", "/") { _ in files.response(for: "/")! }
        builder.setFallback { files.response(for: $0.path) }
        var configuration = HTTPServerConfiguration(listen: SocketAddress(hostPort: "127.0.0.1:0")!)
        configuration.maxBodySize = maxBodySize
        server = try HTTPServer(configuration: configuration, responder: builder.build(log: Log(label: "test")), log: Log(label: "test"))
    }

    deinit { server.shutdown(graceSeconds: 1) }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Errno(errno, call: "open") }
        defer { close(fd) }
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    /// Sends raw bytes on a new connection and reads one response.
    func raw(_ bytes: [UInt8]) throws -> HTTPTestResponse {
        let socket = try Socket.connectTCP(server.address)
        try socket.setTimeout(seconds: 10)
        try socket.sendAll(bytes)
        return try HTTPTestClient.readResponse(socket)
    }
}

func expectProblem(_ response: HTTPTestResponse, status: Int, code: String) throws {
    #expect(response.status == status)
    #expect(response.header("content-type") == "application/problem+json")
    let body = try response.json()
    #expect(body["code"]?.stringValue == code)
    #expect(body["status"]?.intValue == status)
    #expect(body["type"]?.stringValue == "urn:vsquare:problem:\(code)")
    #expect(body["title"]?.stringValue?.isEmpty == false)
    #expect(body["detail"]?.stringValue?.isEmpty == false)
}

@Suite(.serialized) struct HTTPServerTests {
    @Test func servesJSONWithARequestID() throws {
        let live = try LiveServer()
        let first = try live.client.get("/v1/things")
        let second = try live.client.get("/v1/things")
        #expect(first.status == 200)
        #expect(first.header("content-type") == "application/json")
        #expect(try first.json() == ["things": []])
        let ids = [first.header("x-request-id"), second.header("x-request-id")]
        #expect(ids[0] != nil && ids[1] != nil && ids[0] != ids[1])
    }

    @Test func notFoundAndMethodNotAllowedAreProblems() throws {
        let live = try LiveServer()
        try expectProblem(try live.client.get("/v1/missing"), status: 404, code: "not_found")
        let response = try live.client.request("DELETE", "/v1/things")
        try expectProblem(response, status: 405, code: "method_not_allowed")
        #expect(response.header("allow") == "GET, HEAD")
    }

    @Test func malformedJSONNamesLineAndColumn() throws {
        let live = try LiveServer()
        let response = try live.client.request("POST", "/v1/echo", headers: [("Content-Type", "application/json")],
                                               body: Array("{\n \"a\": [1,\n}".utf8))
        try expectProblem(response, status: 400, code: "malformed_json")
        let body = try response.json()
        #expect(body["line"] == 3)
        #expect(body["column"] == 1)
        #expect(body["detail"]?.stringValue?.hasSuffix("at line 3, column 1") == true)
    }

    @Test func echoesAValidBody() throws {
        let live = try LiveServer()
        let response = try live.client.send("POST", "/v1/echo", json: ["a": [1, 2, "ü"]])
        #expect(response.status == 200)
        #expect(try response.json() == ["a": [1, 2, "ü"]])
    }

    @Test func rejectsAnOversizedBodyBeforeItIsUploaded() throws {
        let live = try LiveServer(maxBodySize: 1024)
        // Only the head is sent: the 413 must come without the body.
        let socket = try Socket.connectTCP(live.server.address)
        try socket.setTimeout(seconds: 5)
        try socket.sendAll(Array("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n".utf8))
        let response = try HTTPTestClient.readResponse(socket)
        try expectProblem(response, status: 413, code: "payload_too_large")
    }

    @Test func rejectsAnOversizedChunkedBody() throws {
        let live = try LiveServer(maxBodySize: 1024)
        var body: [UInt8] = []
        for _ in 0..<4 {
            body += Array("400\r\n".utf8) + [UInt8](repeating: 0x20, count: 1024) + Array("\r\n".utf8)
        }
        body += Array("0\r\n\r\n".utf8)
        let response = try live.raw(HTTPTestClient.encode("POST", "/v1/echo", headers: [
            ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], body: body))
        try expectProblem(response, status: 413, code: "payload_too_large")
    }

    @Test func servesStaticFilesWithContentTypes() throws {
        let live = try LiveServer()
        let index = try live.client.get("/")
        #expect(index.status == 200)
        #expect(index.header("content-type") == "text/html; charset=utf-8")
        #expect(index.text.hasPrefix("<!doctype html>"))
        let css = try live.client.get("/css/site.css")
        #expect(css.status == 200)
        #expect(css.header("content-type") == "text/css; charset=utf-8")
        #expect(css.text == "body{}")
    }

    @Test(arguments: ["/../secret.txt", "/css/../../secret.txt", "/%2e%2e/secret.txt", "/css/%2E%2E/%2E%2E/secret.txt",
                      "/..%2fsecret.txt", "//secret.txt", "/css/..%5c..%5csecret.txt"])
    func refusesPathTraversal(path: String) throws {
        let live = try LiveServer()
        let response = try live.raw(HTTPTestClient.encode("GET", path))
        #expect(response.status == 404 || response.status == 400, "\(path) answered \(response.status)")
        #expect(!response.text.contains(LiveServer.secretContent), "\(path) leaked the file")
    }

    @Test func answers200ConcurrentRequests() throws {
        let live = try LiveServer()
        // All 200 connections are open and have sent their request before any response is read.
        var sockets: [Socket] = []
        for _ in 0..<200 {
            let socket = try Socket.connectTCP(live.server.address)
            try socket.setTimeout(seconds: 20)
            try socket.sendAll(HTTPTestClient.encode("GET", "/v1/things"))
            sockets.append(socket)
        }
        var ids = Set<String>()
        for socket in sockets {
            let response = try HTTPTestClient.readResponse(socket)
            #expect(response.status == 200)
            ids.insert(response.header("x-request-id") ?? "")
        }
        #expect(ids.count == 200)
    }

    @Test func survivesMalformedRequests() throws {
        let live = try LiveServer()
        var garbage: [[UInt8]] = [
            Array("\r\n\r\n".utf8),
            Array("GET\r\n\r\n".utf8),
            Array("GET / HTTP/9.9\r\n\r\n".utf8),
            Array("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8),
            Array("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n".utf8),
            Array("GET /\u{0}x HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            Array("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8),
            [UInt8](repeating: 0x41, count: 200_000),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            garbage.append((0..<Int.random(in: 1...4096, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        for bytes in garbage {
            let socket = try Socket.connectTCP(live.server.address)
            try socket.setTimeout(seconds: 2)
            try? socket.sendAll(bytes)
            try? socket.shutdownWrite()
            _ = try? socket.receive()
        }
        #expect(try live.client.get("/v1/things").status == 200)
    }

    @Test func shutdownLetsAnInFlightRequestFinish() throws {
        let live = try LiveServer()
        let body = Array(#"{"slow":true}"#.utf8)
        let socket = try Socket.connectTCP(live.server.address)
        try socket.setTimeout(seconds: 10)
        try socket.sendAll(Array("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
                           + body.prefix(4))
        #expect(eventually { live.server.inFlightCount == 1 })
        let finished = Flag()
        let stopper = Thread {
            live.server.shutdown(graceSeconds: 10)
            finished.set()
        }
        // Shutdown has begun once new connections are refused; it must still be waiting then.
        #expect(eventually(timeoutSeconds: 10) { (try? Socket.connectTCP(live.server.address)) == nil }, "shutdown never began")
        #expect(!finished.isSet, "shutdown must wait for the request in flight")
        #expect(live.server.inFlightCount == 1)
        try socket.sendAll(body.dropFirst(4))
        let response = try HTTPTestClient.readResponse(socket)
        #expect(response.status == 200)
        #expect(try response.json() == ["slow": true])
        stopper.join()
        #expect(finished.isSet)
    }
}
