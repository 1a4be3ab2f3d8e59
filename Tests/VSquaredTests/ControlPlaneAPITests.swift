// The control plane end to end: a real vsquared, real vsquare-switch workers, real VDE clients
// (Debian's vde_plug and libvdeplug), observed over HTTP as users do.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

let macA = "02:00:00:00:00:0a", macB = "02:00:00:00:00:0b", macC = "02:00:00:00:00:0c"
let broadcast = "ff:ff:ff:ff:ff:ff"

func frame(_ dst: String, _ src: String, _ tag: String = "", size: Int = 60) -> [UInt8] {
    EthernetFrame.make(dst: dst, src: src, payload: Array(tag.utf8), size: size)
}

extension DaemonProcess {
    @discardableResult
    func createSwitch(_ body: JSON) throws -> JSON {
        let response = try client.send("POST", "/v1/switches", json: body)
        guard response.status == 201 else { throw HTTPTestError.malformedResponse("create: \(response.status) \(response.text)") }
        return try response.json()
    }

    func json(_ path: String) throws -> JSON { try client.get(path).json() }

    /// The switch's plug URL directory (without `vde://`).
    func switchDirectory(_ name: String) throws -> String {
        String(try json("/v1/switches/\(name)").requiredString("plug_url").dropFirst(6))
    }

    func connectedPorts(_ name: String) -> Int {
        ((try? json("/v1/switches/\(name)/ports"))?["ports"]?.arrayValue ?? []).filter { $0["connected"] == true }.count
    }
}

@Suite(.serialized) struct ControlPlaneAPITests {
    @Test func createPlugExchangeAndObserveOverHTTP() throws {
        let daemon = try DaemonProcess()
        let created = try daemon.createSwitch(["name": "lab1", "ports": 8, "description": "first lab"])
        #expect(created["state"] == "running")
        #expect(created["plug_url"]?.stringValue?.hasPrefix("vde:///") == true)
        #expect(created["qemu_nic"]?.stringValue?.hasPrefix("-nic vde,sock=/") == true)
        #expect(created["generation"] == created["applied_generation"])
        let directory = try daemon.switchDirectory("lab1")

        let a = try VDEPlugProcess(url: "vde://" + directory)
        let b = try LibVDEPlug(url: "vde://" + directory)
        #expect(eventually { daemon.connectedPorts("lab1") == 2 })
        try a.send(frame(broadcast, macA, "hello"))
        #expect(b.receive() == frame(broadcast, macA, "hello"))
        b.send(frame(macA, macB, "reply"))
        #expect(try a.receive() == frame(macA, macB, "reply"))

        let macs = try daemon.json("/v1/switches/lab1/macs")
        #expect(macs["count"] == 2)
        #expect(Set(macs["macs"]?.arrayValue?.compactMap { $0["mac"]?.stringValue } ?? []) == [macA, macB])
        // The filters over HTTP: by port, by VLAN, both; a port the switch lacks matches nothing.
        let portOfA = try #require(macs["macs"]?.arrayValue?.first { $0["mac"]?.stringValue == macA }?["port"]?.intValue,
                                   "no port for \(macA) in \(macs)")
        let onPort = try daemon.json("/v1/switches/lab1/macs?port=\(portOfA)")
        #expect(onPort["count"] == 1 && onPort["macs"]?[0]?["mac"]?.stringValue == macA, "\(onPort)")
        #expect(try daemon.json("/v1/switches/lab1/macs?vlan=1&port=\(portOfA)")["count"] == 1)
        #expect(try daemon.json("/v1/switches/lab1/macs?vlan=1")["count"] == 2)
        #expect(try daemon.json("/v1/switches/lab1/macs?vlan=10")["count"] == 0)
        let beyond = try daemon.client.get("/v1/switches/lab1/macs?vlan=1&port=99")
        #expect(beyond.status == 200, "\(beyond.text)")
        #expect(try beyond.json()["count"] == 0, "\(beyond.text)")
        let metrics = try daemon.json("/v1/switches/lab1/metrics")
        #expect((metrics["totals"]?["rx_frames"]?.intValue ?? 0) >= 2)
        let list = try daemon.json("/v1/switches")["switches"]?.arrayValue ?? []
        #expect(list.count == 1 && list[0]["ports_in_use"] == 2)
        #expect(try daemon.client.request("DELETE", "/v1/switches/lab1/macs").json()["flushed"] == 2)
        #expect(try daemon.json("/v1/switches/lab1/macs")["count"] == 0)

        // Kicking a port over HTTP makes vde_plug exit; a restart unplugs the rest and comes back.
        let port = try #require(try daemon.json("/v1/switches/lab1/ports").requiredArray("ports").first {
            $0["endpoints"]?[0]?["description"]?.stringValue?.hasPrefix("vdeplug:") == true
        }, "no port holds vde_plug").requiredInt("port")
        #expect(try daemon.client.request("POST", "/v1/switches/lab1/ports/\(port)/kick").json()["kicked"] == 1)
        #expect(a.process.wait(timeoutSeconds: 5) == .exited(0))
        let restarted = try daemon.client.request("POST", "/v1/switches/lab1/restart").json()
        #expect(restarted["state"] == "running")
        #expect(restarted["ports_in_use"] == 0)
    }

    @Test func vlanIsolationConfiguredOverHTTPHolds() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "vl"])
        let created = try daemon.client.send("POST", "/v1/switches/vl/vlans", json: ["vid": 10, "untagged": [1, 2]])
        #expect(created.status == 201)
        #expect(try created.json() == ["vid": 10, "untagged": [1, 2], "tagged": []])
        let patched = try daemon.client.send("PATCH", "/v1/switches/vl/ports/4", json: ["tagged_vlans": [10]])
        #expect(patched.status == 200)
        #expect(try patched.json()["tagged_vlans"] == [10])
        let directory = try daemon.switchDirectory("vl")
        // Debian's libvdeplug clients, each on the port its URL names.
        let a = try LibVDEPlug(url: "vde://\(directory)[1]")
        let b = try LibVDEPlug(url: "vde://\(directory)[2]")
        let c = try LibVDEPlug(url: "vde://\(directory)[3]")
        let trunk = try LibVDEPlug(url: "vde://\(directory)[4]")
        #expect(eventually { daemon.connectedPorts("vl") == 4 })
        a.send(frame(broadcast, macA, "vlan 10"))
        #expect(b.receive() == frame(broadcast, macA, "vlan 10"))
        #expect(trunk.receive().map(EthernetFrame.vlan(of:)) == 10)
        // Nothing of VLAN 10 reaches c ahead of a VLAN 1 marker sent after it.
        let vlan1Marker = frame(broadcast, macB, "vlan 1 marker")
        trunk.send(vlan1Marker)
        #expect(try c.frames(before: vlan1Marker).isEmpty, "VLAN 10 reached a VLAN 1 port")
        c.send(frame(broadcast, macC, "vlan 1"))
        #expect(trunk.receive() == frame(broadcast, macC, "vlan 1"), "the trunk still carries VLAN 1 untagged")
        let vlan10Marker = frame(broadcast, macB, "vlan 10 marker")
        trunk.send(EthernetFrame.make(dst: broadcast, src: macB, vlan: 10, payload: Array("vlan 10 marker".utf8)))
        #expect(try a.frames(before: vlan10Marker).isEmpty && b.frames(before: vlan10Marker).isEmpty, "VLAN 1 reached a VLAN 10 port")

        // VLAN rules hold over HTTP too.
        let inUse = try daemon.client.request("DELETE", "/v1/switches/vl/vlans/10")
        #expect(inUse.status == 409)
        #expect(try inUse.json()["code"] == "vlan_in_use")
        #expect(try daemon.client.send("POST", "/v1/switches/vl/vlans", json: ["vid": 10]).status == 409)
        #expect(try daemon.client.send("PATCH", "/v1/switches/vl/ports/1", json: ["untagged_vlan": 77]).status == 422)
        #expect(try daemon.client.send("PUT", "/v1/switches/vl/vlans/10", json: ["untagged": [], "tagged": []]).status == 200)
        #expect(try daemon.client.request("DELETE", "/v1/switches/vl/vlans/10").status == 204)
        #expect(try daemon.client.get("/v1/switches/vl/vlans/10").status == 404)
    }

    @Test func aKilledWorkerComesBackWithItsConfiguration() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "phoenix"])
        #expect(try daemon.client.send("POST", "/v1/switches/phoenix/vlans", json: ["vid": 20, "untagged": [3]]).status == 201)
        #expect(try daemon.client.send("PATCH", "/v1/switches/phoenix/ports/5", json: ["enabled": false]).status == 200)
        let events = try SSEClient(address: daemon.address)
        defer { events.close() }
        let before = try daemon.json("/v1/switches/phoenix")
        let pid = Int32(try before.requiredInt("pid"))
        kill(pid, SIGKILL)
        #expect(try events.next("worker.crashed", timeoutSeconds: 5)?.data["switch"] == "phoenix")
        #expect(try events.next("worker.restarted", timeoutSeconds: 10) != nil)
        let after = try daemon.json("/v1/switches/phoenix")
        #expect(after["state"] == "running")
        #expect(after["restart_count"] == 1)
        #expect(after["last_exit_reason"] == "signaled(9)")
        #expect(after["pid"]?.intValue.map(Int32.init) != pid)
        // The configuration is the worker's again, as it reports it.
        #expect(try daemon.json("/v1/switches/phoenix/ports/3")["untagged_vlan"] == 20)
        #expect(try daemon.json("/v1/switches/phoenix/ports/5")["enabled"] == false)
        #expect(after["generation"] == after["applied_generation"])
    }

    /// The old worker's process descriptor is closed by a restart and its number is often the new
    /// child's: its end must not be taken for the new worker dying during start-up.
    @Test func restartsInARowEachAnswerARunningWorker() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "again"])
        for round in 0..<40 {
            let restarted = try daemon.client.request("POST", "/v1/switches/again/restart").json()
            #expect(restarted["state"] == "running", "round \(round): \(restarted)")
        }
        #expect(try daemon.json("/v1/switches/again")["restart_count"] == 0)
    }

    @Test func aReadWaitsForARestartingWorkerInsteadOfFailing() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "patient"])
        let events = try SSEClient(address: daemon.address)
        defer { events.close() }
        for round in 0..<3 {
            let pid = Int32(try daemon.json("/v1/switches/patient").requiredInt("pid"))
            kill(pid, SIGKILL)
            // Once the supervisor knows, the worker is restarting; the read waits for it rather than answering 503.
            #expect(try events.next("worker.crashed", timeoutSeconds: 5) != nil)
            let read = try daemon.client.get("/v1/switches/patient/macs")
            #expect(read.status == 200, "round \(round): \(read.status) \(read.text)")
            #expect(try events.next("worker.restarted", timeoutSeconds: 10) != nil)
        }
    }

    @Test func clientsStayPluggedAndFramesFlowWhileVsquaredRestartsAndIsKilled() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon: DaemonProcess? = try DaemonProcess(directory: directory)
        try daemon!.createSwitch(["name": "steady"])
        let switchDirectory = try daemon!.switchDirectory("steady")
        let workerPID = try daemon!.json("/v1/switches/steady").requiredInt("pid")
        let sender = try LibVDEPlug(url: "vde://" + switchDirectory)
        // Both ends are Debian's: libvdeplug sends, vde_plug receives.
        let receiver = try VDEPlugProcess(url: "vde://" + switchDirectory)
        try receiver.send(frame(broadcast, macB, "announce"))
        _ = sender.receive()

        // Frames flow the whole time: a sender thread numbers them.
        let total = 3000
        let done = Flag()
        let senderThread = Thread {
            for sequence in 0..<total {
                var bytes = frame(macB, macA, size: 64)
                bytes[20] = UInt8(sequence >> 8)
                bytes[21] = UInt8(sequence & 0xFF)
                sender.send(bytes)
                usleep(1000)
            }
            done.set()
        }
        #expect(daemon!.stop() == .exited(0), "SIGTERM")
        daemon = try DaemonProcess(directory: directory)
        #expect(try daemon!.json("/v1/switches/steady")["pid"]?.intValue == workerPID, "the worker was adopted, not replaced")
        daemon!.process.signal(SIGKILL)
        _ = daemon!.process.wait(timeoutSeconds: 5)
        daemon = try DaemonProcess(directory: directory)
        #expect(try daemon!.json("/v1/switches/steady")["state"] == "running")
        senderThread.join()
        #expect(done.isSet)

        var seen = Set<Int>()
        while let received = try receiver.receive(timeoutSeconds: 1) {
            if received.count >= 22 && received[6...11].elementsEqual(EthernetFrame.mac(macA)) {
                seen.insert(Int(received[20]) << 8 | Int(received[21]))
            }
        }
        #expect(seen.count == total, "lost \(total - seen.count) frames")
        #expect(receiver.process.wait(timeoutSeconds: 0) == nil, "vde_plug was unplugged (it exited)")
        #expect(try daemon!.json("/v1/switches/steady")["pid"]?.intValue == workerPID)
        #expect(daemon!.connectedPorts("steady") == 2)
    }

    @Test func eventsCarryIdsAndResumeWithLastEventID() throws {
        let daemon = try DaemonProcess()
        let first = try SSEClient(address: daemon.address)
        try daemon.createSwitch(["name": "ev"])
        let created = try first.next("switch.created")
        #expect(created?.data["switch"] == "ev")
        let directory = try daemon.switchDirectory("ev")
        let plug = try LibVDEPlug(url: "vde://" + directory, description: "sse-probe")
        let up = try first.next("port.up")
        #expect(up?.data["switch"] == "ev")
        // libvdeplug adds who plugged in: "sse-probe user=… pid=…".
        #expect(up?.data["endpoint"]?["description"]?.stringValue?.hasPrefix("sse-probe user=") == true)
        let lastSeen = try #require(up?.id)
        first.close()
        // Missed while disconnected:
        plug.close()
        #expect(eventually { daemon.connectedPorts("ev") == 0 })
        let resumed = try SSEClient(address: daemon.address, lastEventID: lastSeen)
        defer { resumed.close() }
        // What came after it (the audit log's entries among them), and nothing before it again.
        var replayed: [SSEEvent] = []
        while let event = try resumed.next(timeoutSeconds: 5) {
            replayed.append(event)
            if event.type == "port.down" { break }
        }
        #expect(replayed.last?.type == "port.down" && replayed.last?.data["reason"] == "unplugged", "\(replayed.map(\.type))")
        #expect(!replayed.contains { $0.type == "port.up" || $0.type == "switch.created" }, "\(replayed.map(\.type))")
    }

    @Test func validationAndErrors() throws {
        let daemon = try DaemonProcess()
        func status(_ method: String, _ path: String, _ body: JSON? = nil) throws -> (Int, String?) {
            let response = body.map { try? daemon.client.send(method, path, json: $0) } ?? (try? daemon.client.request(method, path))
            return (response?.status ?? 0, (try? response?.json())??["code"]?.stringValue)
        }
        #expect(try status("POST", "/v1/switches", ["name": "Bad_Name"]) == (400, "invalid_field"))
        #expect(try status("POST", "/v1/switches", ["name": "ok", "ports": 5000]) == (400, "invalid_field"))
        #expect(try status("POST", "/v1/switches", ["name": "ok", "colour": "red"]) == (400, "invalid_field"))
        #expect(try status("POST", "/v1/switches", ["name": "ok", "socket_mode": "9"]) == (400, "invalid_field"))
        #expect(try status("POST", "/v1/switches", ["name": JSON(String(repeating: "a", count: 64))]) == (400, "invalid_field"))
        #expect(try status("GET", "/v1/switches/nope") == (404, "not_found"))
        #expect(try status("GET", "/v1/switches/NOPE") == (404, "not_found"))
        try daemon.createSwitch(["name": "dup", "ports": 4])
        #expect(try status("POST", "/v1/switches", ["name": "dup"]) == (409, "name_taken"))
        #expect(try status("GET", "/v1/switches/dup/ports/5") == (404, "not_found"))
        #expect(try status("GET", "/v1/switches/dup/ports/x") == (404, "not_found"))
        #expect(try status("PATCH", "/v1/switches/dup", ["ports": 8]) == (422, "unprocessable"))
        #expect(try status("PATCH", "/v1/switches/dup", ["hub": "yes"]) == (400, "invalid_field"))
        #expect(try status("GET", "/v1/switches/dup/macs?vlan=9999") == (400, "invalid_field"))
        #expect(try status("POST", "/v1/switches/dup/vlans", ["vid": 4095]) == (400, "invalid_field"))
        let patched = try daemon.client.send("PATCH", "/v1/switches/dup", json: ["hub": true, "description": "now a hub"])
        #expect(try patched.json()["hub"] == true)
        #expect(try patched.json()["generation"] == patched.json()["applied_generation"])

        // Deleting stops the worker and leaves nothing behind.
        let directory = try daemon.switchDirectory("dup")
        let worker = Int32(try daemon.json("/v1/switches/dup").requiredInt("pid"))
        #expect(try status("DELETE", "/v1/switches/dup").0 == 204)
        #expect(!FileSystem.exists(directory))
        #expect(eventually { kill(worker, 0) != 0 })
        #expect(try status("GET", "/v1/switches/dup") == (404, "not_found"))
        // Nothing was lost by the failed requests: the store still answers and lists no switch.
        #expect(try daemon.json("/v1/switches")["switches"] == [])
    }

    @Test func stateSurvivesADaemonRestartWithoutWorkers() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon: DaemonProcess? = try DaemonProcess(directory: directory)
        try daemon!.createSwitch(["name": "kept", "ports": 6, "mac_aging_s": 42])
        #expect(try daemon!.client.send("POST", "/v1/switches/kept/vlans", json: ["vid": 30, "untagged": [2]]).status == 201)
        #expect(daemon!.stop() == .exited(0))
        daemon = nil
        // The worker is gone too (a reboot): the next vsquared starts it again from the store.
        DaemonProcess.killWorkers(under: directory.path)
        #expect(eventually { DaemonProcess.workerPIDs(under: directory.path).isEmpty })
        daemon = try DaemonProcess(directory: directory)
        let view = try daemon!.json("/v1/switches/kept")
        #expect(view["state"] == "running")
        #expect(view["mac_aging_s"] == 42 && view["ports"] == 6)
        #expect(try daemon!.json("/v1/switches/kept/ports/2")["untagged_vlan"] == 30)
    }

    @Test func tokensGuardEverythingButHealth() throws {
        let directory = TempDirectory(prefix: "vsqd")
        let tokens = directory.path + "/tokens"
        _ = "echo '# lab tokens' > \(tokens); echo 's3cret-token' >> \(tokens)".withCString { system($0) }
        let daemon = try DaemonProcess(environment: ["VSQUARE_TOKENS": tokens], directory: directory)
        #expect(try daemon.client.get("/v1/health").status == 200)
        #expect(try daemon.client.get("/").status == 200)
        let refused = try daemon.client.get("/v1/switches")
        #expect(refused.status == 401)
        #expect(try refused.json()["code"] == "unauthorized")
        #expect(refused.header("www-authenticate")?.hasPrefix("Bearer") == true)
        #expect(try daemon.client.get("/v1/switches", headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try daemon.client.get("/metrics").status == 401)
        #expect(try daemon.client.get("/v1/switches", headers: [("Authorization", "Bearer s3cret-token")]).status == 200)
    }

    @Test func prometheusMetricsAreWellFormed() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "prom"])
        let plug = try LibVDEPlug(url: "vde://" + (try daemon.switchDirectory("prom")))
        plug.send(frame(broadcast, macA))
        #expect(eventually { (try? daemon.json("/v1/switches/prom/metrics")["totals"]?["rx_frames"]?.intValue ?? 0) ?? 0 >= 1 })
        let text = try daemon.client.get("/metrics")
        #expect(text.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let lines = text.text.split(separator: "\n")
        for line in lines where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2 && Double(parts[1]) != nil, "bad sample line: \(line)")
        }
        #expect(lines.contains("vsquare_switch_up{switch=\"prom\"} 1"))
        #expect(lines.contains { $0.hasPrefix("vsquare_port_rx_frames_total{switch=\"prom\",port=\"1\"} ") })
        #expect(lines.contains { $0.hasPrefix("vsquare_http_requests_total{code=\"201\"} ") })
    }
}
