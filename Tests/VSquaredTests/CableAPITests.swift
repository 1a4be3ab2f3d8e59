// Cables through the HTTP API, end to end: real switches, a real vsquare-cable, real clients.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@Suite(.serialized) struct CableAPITests {
    /// Two switches and a cable between them, with a client plugged into each switch.
    func cabled(_ daemon: DaemonProcess, impairments: JSON = [:]) throws -> (VDEClient, VDEClient) {
        try daemon.createSwitch(["name": "s1"])
        try daemon.createSwitch(["name": "s2"])
        let created = try daemon.client.send("POST", "/v1/cables", json: [
            "name": "c1", "a": ["switch": "s1"], "b": ["switch": "s2", "port": 7], "seed": 42, "impairments": impairments])
        #expect(created.status == 201, "\(created.text)")
        #expect(eventually { (try? daemon.json("/v1/cables/c1")["state"]) == "up" })
        return (try VDEClient(directory: try daemon.switchDirectory("s1")), try VDEClient(directory: try daemon.switchDirectory("s2")))
    }

    @Test func framesAndLearningCrossACableMadeOverHTTP() throws {
        let daemon = try DaemonProcess()
        let events = try SSEClient(address: daemon.address)
        defer { events.close() }
        let (left, right) = try cabled(daemon)
        #expect(try events.next("cable.created")?.data["cable"] == "c1")
        try left.send(frame(broadcast, macA, "across"))
        #expect(try right.receive() == frame(broadcast, macA, "across"))
        try right.send(frame(macA, macB, "back"))
        #expect(try left.receive() == frame(macA, macB, "back"))
        let onS2 = try daemon.json("/v1/switches/s2/macs")["macs"]?.arrayValue ?? []
        #expect(onS2.contains { $0["mac"]?.stringValue == macA && $0["port"] == 7 }, "s2 learned A behind the cable's port 7")
        let cable = try daemon.json("/v1/cables/c1")
        #expect(cable["seed"] == "42")
        #expect(cable["ends"]?[1]?["port"] == 7)
        #expect(try daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["frames_out"] == 1)
    }

    @Test func impairmentsChangeLiveAndCutRestoreWork() throws {
        let daemon = try DaemonProcess()
        let (left, right) = try cabled(daemon, impairments: ["loss_pct": 100])
        try left.send(frame(broadcast, macA, "lost"))
        #expect(eventually { (try? daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["drops"]?["loss"]) == 1 },
                "the cable did not drop the frame as lost")
        #expect(try daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["frames_out"] == 0, "a 100% loss cable passed a frame")
        let patched = try daemon.client.send("PATCH", "/v1/cables/c1", json: ["impairments": ["loss_pct": nil, "a_to_b": ["delay_ms": 30]]])
        #expect(patched.status == 200)
        let body = try patched.json()
        #expect(body["impairments"]?["a_to_b"]?["loss_pct"] == 0.0 && body["impairments"]?["a_to_b"]?["delay_ms"] == 30.0)
        #expect(body["impairments"]?["b_to_a"]?["delay_ms"] == 0.0)
        #expect(body["generation"] == body["applied_generation"])
        let started = Clock.monotonicNanoseconds()
        try left.send(frame(broadcast, macA, "slow"))
        #expect(try right.receive() == frame(broadcast, macA, "slow"))
        #expect(Clock.monotonicNanoseconds() - started >= 28_000_000, "the 30 ms delay was not applied")

        #expect(try daemon.client.request("POST", "/v1/cables/c1/cut").json()["state"] == "cut")
        let sentBefore = try daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["frames_out"]
        try left.send(frame(broadcast, macA, "cut"))
        #expect(eventually { (try? daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["drops"]?["cut"]) == 1 })
        #expect(try daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["frames_out"] == sentBefore, "a cut cable passed a frame")
        #expect(try daemon.client.request("POST", "/v1/cables/c1/restore").json()["state"] == "up")
        try left.send(frame(broadcast, macA, "again"))
        #expect(try right.receive() == frame(broadcast, macA, "again"))
        #expect(try daemon.client.send("PATCH", "/v1/cables/c1", json: ["impairments": ["loss_pct": 101]]).status == 400)
        #expect(try daemon.client.send("PATCH", "/v1/cables/c1", json: ["seed": 1]).status == 422)
    }

    @Test func aSwitchInUseIsNotDeletedUnlessForced() throws {
        let daemon = try DaemonProcess()
        _ = try cabled(daemon)
        let refused = try daemon.client.request("DELETE", "/v1/switches/s1")
        #expect(refused.status == 409)
        #expect(try refused.json()["code"] == "switch_in_use")
        #expect(try daemon.client.request("DELETE", "/v1/switches/s1?force=true").status == 204)
        #expect(try daemon.client.get("/v1/cables/c1").status == 404)
        #expect(try daemon.json("/v1/cables")["cables"] == [])
        #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": "c2", "a": ["switch": "s2"], "b": ["switch": "nope"]]).status == 422)
        #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": "c2", "a": ["switch": "s2"],
                                                                   "b": ["remote": ["connect": "127.0.0.1:9"]]]).status == 422,
                "a remote end needs a key or plain: true")
        #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": "c2", "b": ["switch": "s2"],
                                                                   "a": ["remote": ["connect": "127.0.0.1:9", "plain": true]]]).status == 422)
    }

    @Test func aKilledCableWorkerComesBackWithItsImpairments() throws {
        let daemon = try DaemonProcess()
        let (left, right) = try cabled(daemon, impairments: ["loss_pct": 100])
        let pid = Int32(try daemon.json("/v1/cables/c1").requiredInt("pid"))
        kill(pid, SIGKILL)
        #expect(eventually(timeoutSeconds: 10) {
            let view = try? daemon.json("/v1/cables/c1")
            return view?["state"] == "up" && view?["restart_count"] == 1
        })
        try left.send(frame(broadcast, macA, "still lost"))
        #expect(eventually { (try? daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["drops"]?["loss"]) == 1 },
                "the restarted cable forgot its 100% loss")
        #expect(try daemon.json("/v1/cables/c1/metrics")["a_to_b"]?["frames_out"] == 0)
        _ = right
    }

    @Test func cablesAreAdoptedAcrossARestartAndReplugAfterTheirSwitchCrashes() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon: DaemonProcess? = try DaemonProcess(directory: directory)
        let (left, right) = try cabled(daemon!, impairments: ["delay_ms": 5])
        let cablePID = try daemon!.json("/v1/cables/c1").requiredInt("pid")
        #expect(daemon!.stop() == .exited(0))
        daemon = try DaemonProcess(directory: directory)
        let adopted = try daemon!.json("/v1/cables/c1")
        #expect(adopted["pid"]?.intValue == cablePID, "the cable worker was adopted, not replaced")
        #expect(adopted["state"] == "up")

        // The switch on end b crashes; the supervisor restarts it and the cable plugs in again.
        let switchPID = Int32(try daemon!.json("/v1/switches/s2").requiredInt("pid"))
        kill(switchPID, SIGKILL)
        #expect(eventually(timeoutSeconds: 10) {
            let cable = try? daemon!.json("/v1/cables/c1")
            return cable?["state"] == "up" && (cable?["ends"]?[1]?["connections"]?.intValue ?? 0) >= 2
        })
        let again = try VDEClient(directory: try daemon!.switchDirectory("s2"))
        try left.send(frame(broadcast, macA, "after the crash"))
        #expect(try again.receive() == frame(broadcast, macA, "after the crash"))
        _ = right
    }
}
