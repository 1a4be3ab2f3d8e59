// The vsquared binary as users run it: exit codes, health over real HTTP, the state on disk,
// and graceful shutdown on SIGTERM with a request in flight.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

func runVSquared(_ arguments: [String]) throws -> (ChildProcess.Termination, String, String) {
    let directory = TempDirectory()
    let process = try ChildProcess(path: DaemonProcess.productsDirectory + "/vsquared", arguments: arguments,
                                   stdin: .null, stdout: .file(directory.path + "/out"), stderr: .file(directory.path + "/err"))
    let termination = process.wait(timeoutSeconds: 20) ?? process.stop(signal: SIGKILL)
    func read(_ name: String) -> String {
        FileSystem.readFile(directory.path + "/" + name).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
    return (termination, read("out"), read("err"))
}

@Suite struct VSquaredExecutableTests {
    @Test func helpExitsZero() throws {
        let (termination, out, _) = try runVSquared(["--help"])
        #expect(termination == .exited(0))
        #expect(out.contains("Usage: vsquared"))
    }

    @Test func versionPrintsTheVersion() throws {
        let (termination, out, _) = try runVSquared(["--version"])
        #expect(termination == .exited(0))
        #expect(out.hasPrefix("vsquared 0."))
    }

    @Test(arguments: [["--no-such-flag"], ["--listen", "192.0.2.1:80"], ["--listen", "bad"]])
    func badCommandLineExits64(arguments: [String]) throws {
        let (termination, _, err) = try runVSquared(arguments)
        #expect(termination == .exited(64))
        #expect(err.contains("vsquared: "))
        #expect(err.contains("--help"))
    }

    @Test func aBrokenPeersFileExits64NamingItsLine() throws {
        let directory = TempDirectory(prefix: "vsqp")
        try FileSystem.writeFile(directory.path + "/peers", "http://10.0.0.2:8420 token-of-host-b-0123456789\nhttp://10.0.0.3:8420\n")
        let (termination, _, err) = try runVSquared(["--listen", "127.0.0.1:0", "--home", directory.path + "/h", "--run", directory.path + "/r",
                                                     "--peers", directory.path + "/peers"])
        #expect(termination == .exited(64))
        #expect(err.contains("peers: line 2: a peer is URL TOKEN, two fields"), "\(err)")
        let (missing, _, why) = try runVSquared(["--listen", "127.0.0.1:0", "--home", directory.path + "/h", "--peers", "/nonexistent/peers"])
        #expect(missing == .exited(64) && why.contains("the peers file /nonexistent/peers cannot be read"), "\(why)")
    }

    @Test func unusableHomeExits1() throws {
        let (termination, _, err) = try runVSquared(["--listen", "127.0.0.1:0", "--home", "/proc/vsquare-nope", "--run", "/tmp/vsq-run-x"])
        #expect(termination == .exited(1))
        #expect(err.contains("cannot open the state"))
    }

    @Test func servesHealthAndVersionAndKeepsStateOnDisk() throws {
        let daemon = try DaemonProcess()
        let health = try daemon.client.get("/v1/health")
        #expect(health.status == 200)
        let body = try health.json()
        #expect(body["status"] == "ok")
        #expect(body["store"]?["ok"] == true)
        #expect(body["uptime_s"]?.intValue != nil)
        #expect(body["version"]?.stringValue?.isEmpty == false)
        let version = try daemon.client.get("/v1/version").json()
        #expect(version["api"] == "v1")
        #expect(FileSystem.exists(daemon.home + "/vsquare.db"))
        #expect(FileSystem.exists(daemon.home + "/vsquare.db-wal"))
        #expect(FileSystem.isDirectory(daemon.run))
        let dashboard = try daemon.client.get("/")
        #expect(dashboard.status == 200)
        #expect(dashboard.header("content-type") == "text/html; charset=utf-8")
        #expect(daemon.stop() == .exited(0))
        #expect(daemon.log.contains("http.route=/v1/health"))
    }

    @Test func sigtermFinishesTheRequestInFlightThenExitsZero() throws {
        let daemon = try DaemonProcess()
        let body = Array(#"{"half":"sent"}"#.utf8)
        let socket = try Socket.connectTCP(daemon.address)
        try socket.setTimeout(seconds: 15)
        try socket.sendAll(Array("POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
                           + body.prefix(3))
        // The half-sent request is in flight (the scrape that reports it is the other one)…
        #expect(eventually(timeoutSeconds: 10) {
            (try? daemon.client.get("/metrics").text)?.contains("\nvsquare_http_requests_in_flight 2\n") == true
        }, "the half-sent request never showed as in flight")
        daemon.process.signal(SIGTERM)
        // …and once shutdown has begun (no new connection is accepted), vsquared still waits for it.
        #expect(eventually(timeoutSeconds: 10) { (try? Socket.connectTCP(daemon.address)) == nil }, "shutdown never began")
        #expect(daemon.process.wait(timeoutSeconds: 0) == nil, "vsquared must wait for the request in flight")
        try socket.sendAll(body.dropFirst(3))
        let response = try HTTPTestClient.readResponse(socket)
        #expect(response.status == 405)
        #expect(daemon.process.wait(timeoutSeconds: 10) == .exited(0))
        #expect(daemon.log.contains("\"shutting down\""))
    }

    @Test func restartKeepsTheDatabase() throws {
        let directory = TempDirectory(prefix: "vsqd")
        let first = try DaemonProcess(directory: directory)
        #expect(try first.client.send("POST", "/v1/switches", json: ["name": "kept", "ports": 12, "description": "survives"]).status == 201)
        #expect(try first.client.send("POST", "/v1/switches/kept/vlans", json: ["vid": 30, "untagged": [2]]).status == 201)
        #expect(first.stop() == .exited(0))
        let second = try DaemonProcess(directory: directory)
        #expect(try second.client.get("/v1/health").json()["store"]?["ok"] == true)
        let kept = try second.client.get("/v1/switches/kept")
        #expect(kept.status == 200, "the switch written by the first daemon: \(kept.text)")
        let body = try kept.json()
        #expect(body["ports"] == 12 && body["description"] == "survives")
        #expect(eventually(timeoutSeconds: 10) { (try? second.client.get("/v1/switches/kept").json()["state"]) == "running" })
        #expect(try second.client.get("/v1/switches/kept/ports/2").json()["untagged_vlan"] == 30)
        #expect(second.stop() == .exited(0))
    }
}
