// Issued bearer tokens against a real vsquared: shown once and stored only as a hash, a viewer
// reads but changes nothing, revocation is immediate (event streams included), expiry holds, and
// tokens survive a restart. VSQUARE_TOKENS tokens stay admin tokens.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite struct TokenTests {
    static let admin = DaemonProcess.admin

    func issue(_ daemon: DaemonProcess, _ body: JSON) throws -> HTTPTestResponse {
        try daemon.client.send("POST", "/v1/tokens", json: body, headers: TokenTests.admin)
    }

    @Test func aViewerTokenReadsButChangesNothingAndIsGoneOnceRevoked() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon = try DaemonProcess.closed(directory)
        #expect(try daemon.client.get("/v1/whoami").status == 401)
        let me = try daemon.client.get("/v1/whoami", headers: TokenTests.admin).json()
        #expect(me["role"] == "admin" && me["id"] == "configured" && me["anonymous"] == false && me["tokens_required"] == true, "\(me)")

        let created = try issue(daemon, ["name": "teaching assistant", "role": "viewer"])
        #expect(created.status == 201, "\(created.text)")
        let token = try #require(try created.json()["token"]?.stringValue)
        let id = try #require(try created.json()["id"]?.stringValue)
        #expect(token.hasPrefix("vsq_") && token.utf8.count >= 40)
        // Shown once: never listed, never stored.
        let listed = try daemon.client.get("/v1/tokens", headers: TokenTests.admin).json()["tokens"]?.arrayValue ?? []
        #expect(listed.count == 1 && listed[0]["id"]?.stringValue == id && listed[0]["token"] == nil, "\(listed)")
        for file in ["/vsquare.db", "/vsquare.db-wal"] {
            let bytes = FileSystem.readFile(daemon.home + file) ?? []
            #expect(!String(decoding: bytes, as: UTF8.self).contains(token), "the token is in \(file)")
        }

        // A viewer reads everything, changes nothing, and sees no metrics or tokens.
        #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": "s1"], headers: TokenTests.admin).status == 201)
        #expect(try daemon.client.get("/v1/switches/s1", headers: bearer(token)).status == 200)
        let refused = try daemon.client.send("POST", "/v1/switches", json: ["name": "s2"], headers: bearer(token))
        let code = try refused.json()["code"]
        #expect(refused.status == 403 && code == "forbidden", "\(refused.text)")
        #expect(try daemon.client.request("DELETE", "/v1/switches/s1", headers: bearer(token)).status == 403)
        #expect(try daemon.client.get("/v1/switches/s1", headers: TokenTests.admin).status == 200, "nothing was deleted")
        #expect(try daemon.client.get("/metrics", headers: bearer(token)).status == 403)
        #expect(try daemon.client.get("/v1/tokens", headers: bearer(token)).status == 403)
        let viewer = try daemon.client.get("/v1/whoami", headers: bearer(token)).json()
        #expect(viewer["role"] == "viewer" && viewer["name"] == "teaching assistant" && viewer["id"]?.stringValue == id)

        // Tokens survive a restart.
        _ = daemon.stop()
        daemon = try DaemonProcess.closed(directory)
        #expect(try daemon.client.get("/v1/switches", headers: bearer(token)).status == 200)

        // Revoked: the next request is refused, and an open event stream ends.
        let stream = try SSEClient(address: daemon.address, token: token)
        defer { stream.close() }
        #expect(try daemon.client.request("DELETE", "/v1/tokens/\(id)", headers: TokenTests.admin).status == 204)
        var ended = false
        let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            if try stream.next(timeoutSeconds: 0.5) == nil, stream.ended { ended = true; break }
        }
        #expect(ended, "the revoked token's event stream is still open")
        #expect(try daemon.client.get("/v1/switches", headers: bearer(token)).status == 401)
        #expect(try daemon.client.request("DELETE", "/v1/tokens/\(id)", headers: TokenTests.admin).status == 404)
        #expect(try daemon.client.request("DELETE", "/v1/switches/s1", headers: TokenTests.admin).status == 204)
    }

    @Test func expiryRolesAndBadRequests() throws {
        let daemon = try DaemonProcess.closed(TempDirectory(prefix: "vsqd"))
        let soon = Clock.rfc3339(Clock.wallSeconds() + 1.5)
        let created = try issue(daemon, ["name": "brief", "role": "admin", "expires_at": JSON(soon)])
        #expect(created.status == 201, "\(created.text)")
        let token = try #require(try created.json()["token"]?.stringValue)
        #expect(try daemon.client.get("/v1/whoami", headers: bearer(token)).json()["expires_at"]?.stringValue == soon)
        #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": "s9"], headers: bearer(token)).status == 201, "an admin token changes things")
        usleep(1_800_000)
        #expect(try daemon.client.get("/v1/switches", headers: bearer(token)).status == 401, "an expired token still works")
        #expect(try issue(daemon, ["name": "past", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"]).status == 422)
        #expect(try issue(daemon, ["name": "odd", "role": "viewer", "expires_at": "tomorrow"]).status == 400)
        #expect(try issue(daemon, ["name": "x", "role": "god"]).status == 400)
        #expect(try issue(daemon, ["name": "pupil", "role": "student"]).status == 422, "a student token needs its labs")
        #expect(try issue(daemon, ["name": "boss", "role": "admin", "scope": ["labs": ["a"]]]).status == 422, "an admin token takes no scope")
        #expect(try issue(daemon, ["name": "pupil", "role": "student", "scope": ["labs": ["Not A Lab"]]]).status == 400)
        #expect(try daemon.client.get("/v1/tokens/not-a-token", headers: TokenTests.admin).status == 404)
        #expect(try daemon.client.request("DELETE", "/v1/switches/s9", headers: TokenTests.admin).status == 204)
    }

    @Test func anOpenVsquaredTakesNoTokenForAnAdminButHonoursAPresentedOne() throws {
        let daemon = try DaemonProcess()
        let me = try daemon.json("/v1/whoami")
        #expect(me["anonymous"] == true && me["role"] == "admin" && me["tokens_required"] == false, "\(me)")
        let created = try daemon.client.send("POST", "/v1/tokens", json: ["name": "watcher", "role": "viewer"])
        let token = try #require(try created.json()["token"]?.stringValue)
        #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": "s3"], headers: bearer(token)).status == 403)
        #expect(try daemon.client.get("/v1/switches", headers: bearer("vsq_unknown")).status == 401)
    }

    @Test func aScopedTokensEventsAreAboutItsLabsAloneAndItsScopeOutlivesARestart() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon = try DaemonProcess.closed(directory)
        let topology: JSON = ["switches": [["name": "s1"], ["name": "s2"]], "cables": [["name": "c", "a": ["switch": "s1"], "b": ["switch": "s2"]]]]
        for lab in ["alice", "bob"] {
            #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": JSON(lab), "topology": topology], headers: TokenTests.admin).status == 201)
        }
        let created = try issue(daemon, ["name": "alice", "role": "student", "scope": ["labs": ["alice"]]])
        #expect(created.status == 201, "\(created.text)")
        let token = try #require(try created.json()["token"]?.stringValue)
        _ = daemon.stop()
        daemon = try DaemonProcess.closed(directory)
        let me = try daemon.client.get("/v1/whoami", headers: bearer(token)).json()
        #expect(me["role"] == "student" && me["scope"] == ["labs": ["alice"], "classes": []], "\(me)")
        #expect(try daemon.client.get("/v1/labs/bob", headers: bearer(token)).status == 404, "the scope was lost in the restart")

        let stream = try SSEClient(address: daemon.address, token: token)
        defer { stream.close() }
        for lab in ["bob", "alice"] {
            #expect(try daemon.client.send("POST", "/v1/cables/\(lab)-c/cut", json: [:], headers: TokenTests.admin).status == 200)
            #expect(try daemon.client.send("POST", "/v1/labs/\(lab)/reset", json: [:], headers: TokenTests.admin).status == 200)
        }
        var seen: [SSEEvent] = []
        while let event = try stream.next(timeoutSeconds: 1.5) { seen.append(event) }
        let about = seen.map { $0.data["lab"]?.stringValue ?? $0.data["cable"]?.stringValue ?? $0.data["switch"]?.stringValue ?? "?" }
        #expect(about.contains("alice-c") && about.contains("alice"), "\(seen.map(\.type)) \(about)")
        #expect(!about.contains { $0.hasPrefix("bob") || $0 == "?" }, "\(seen.map(\.type)) \(about)")
        for lab in ["alice", "bob"] { #expect(try daemon.client.request("DELETE", "/v1/labs/\(lab)", headers: TokenTests.admin).status == 204) }
    }
}
