// The audit log on a real vsquared: a mutating request is recorded with its principal, route,
// target, status and request id (reads are not); Debian's vde_plug, run as another Unix user,
// is recorded as it plugs in and unplugs, with its uid, user, pid and VDE description, as
// SO_PEERCRED told the switch; entries are filtered by kind, principal, lab and time, are
// published as events, survive a restart, and the oldest go past the retention limit.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized) struct AuditTests {
    static let admin = DaemonProcess.admin

    func closedDaemon(_ directory: TempDirectory, keep: Int? = nil) throws -> DaemonProcess {
        try DaemonProcess.closed(directory, environment: keep.map { ["VSQUARE_AUDIT_KEEP": String($0)] } ?? [:])
    }

    func entries(_ daemon: DaemonProcess, _ query: String) throws -> [JSON] {
        let reply = try daemon.client.get("/v1/audit" + query, headers: AuditTests.admin)
        #expect(reply.status == 200, "\(reply.text)")
        return try reply.json()["entries"]?.arrayValue ?? []
    }

    @Test(.enabled(if: geteuid() == 0, "vde_plug runs as another user through runuser"))
    func requestsPlugsAndUnplugsAreRecordedWithWhoDidThem() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon = try closedDaemon(directory)
        let stream = try SSEClient(address: daemon.address, token: "s3cret-admin")
        defer { stream.close() }
        let created = try daemon.client.send("POST", "/v1/switches", json: ["name": "s1", "ports": 4, "socket_mode": "0666"], headers: AuditTests.admin)
        #expect(created.status == 201, "\(created.text)")
        _ = try daemon.client.get("/v1/switches/s1", headers: AuditTests.admin)
        let refused = try daemon.client.send("POST", "/v1/switches", json: ["name": "s1"], headers: AuditTests.admin)
        #expect(refused.status == 409)

        let requests = try entries(daemon, "?kind=request")
        #expect(requests.count == 2, "reads are not audited: \(requests)")
        let first = try #require(requests.last)
        #expect(first["principal"]?["id"] == "configured" && first["route"] == "/v1/switches" && first["method"] == "POST", "\(first)")
        #expect(first["status"] == 201 && first["request_id"]?.stringValue == created.header("x-request-id"), "\(first)")
        #expect(requests.first?["status"] == 409)

        // vde_plug as nobody (who may reach the switch's directory): the switch hears its uid and pid from the kernel.
        for path in [directory.path, daemon.run] { chmod(path, 0o755) }
        let url = try #require(try daemon.client.get("/v1/switches/s1", headers: AuditTests.admin).json()["plug_url"]?.stringValue)
        let plug = try VDEPlugProcess(url: url, user: "nobody")
        var plugged: JSON?
        #expect(eventually(timeoutSeconds: 5) { plugged = (try? entries(daemon, "?kind=plug"))?.first; return plugged != nil }, "no plug recorded")
        #expect(plugged?["uid"] == 65534 && plugged?["user"] == "nobody" && plugged?["switch"] == "s1", "\(String(describing: plugged))")
        #expect(plugged?["principal"] == ["id": "uid:65534", "name": "nobody", "role": "unix"])
        #expect(plugged?["description"]?.stringValue?.hasPrefix("vdeplug:") == true && plugged?["port"]?.intValue != nil)
        let pid = try #require(plugged?["pid"]?.intValue)
        #expect(String(decoding: FileSystem.readFile("/proc/\(pid)/comm") ?? [], as: UTF8.self).hasPrefix("vde_plug"), "pid \(pid) is not vde_plug")
        #expect(try entries(daemon, "?principal=nobody").count == 1)
        plug.closeInput()
        var unplugged: JSON?
        #expect(eventually(timeoutSeconds: 5) { unplugged = (try? entries(daemon, "?kind=unplug"))?.first; return unplugged != nil }, "no unplug recorded")
        #expect(unplugged?["uid"] == 65534 && unplugged?["pid"]?.intValue == pid && unplugged?["port"] == plugged?["port"], "\(String(describing: unplugged))")

        // As events too.
        var seen: [String] = []
        while let event = try stream.next("audit.entry", timeoutSeconds: 2) { seen.append(event.data["kind"]?.stringValue ?? "") }
        #expect(seen.filter { $0 == "request" }.count == 2 && seen.contains("plug") && seen.contains("unplug"), "\(seen)")

        // Time filters, and through a restart.
        let at = try #require(first["at"]?.stringValue)
        #expect(try entries(daemon, "?until=\(at)").count == 1)
        #expect(try entries(daemon, "?since=2099-01-01T00:00:00Z").isEmpty)
        _ = daemon.stop()
        daemon = try closedDaemon(directory)
        #expect(try entries(daemon, "").map { $0["kind"]?.stringValue ?? "" } == ["unplug", "plug", "request", "request"])
        #expect(try daemon.client.get("/v1/audit?since=yesterday", headers: AuditTests.admin).status == 400)
        #expect(try daemon.client.request("DELETE", "/v1/switches/s1", headers: AuditTests.admin).status == 204)
    }

    @Test func theOldestEntriesGoPastTheRetentionLimit() throws {
        let directory = TempDirectory(prefix: "vsqd")
        let daemon = try closedDaemon(directory, keep: 100)
        // Pruned every 500 entries down to the newest 100.
        for number in 0..<501 {
            _ = try daemon.client.send("POST", "/v1/labs/plan", json: ["name": JSON("p\(number)"), "topology": [:]], headers: AuditTests.admin)
        }
        let kept = try entries(daemon, "?limit=1000")
        #expect(kept.count <= 100 + 1 && kept.count >= 100, "\(kept.count) kept")
        #expect(kept.first?["path"] == "/v1/labs/plan" && kept.first?["id"] == 501)
    }
}
