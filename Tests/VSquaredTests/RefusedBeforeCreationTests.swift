// What a worker would refuse is refused before the 201, and a refused request changes nothing:
// an unknown socket group or a mode that locks the owner out, ports past a switch's last one,
// stack interfaces naming switches, ports or VLANs that are not there (the VLAN of an earlier
// interface is not set either), sockets whose paths would not fit. When a worker still fails to start,
// `failure` is its own last line.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite struct RefusedBeforeCreationTests {
    @Test func switchSettingsTheWorkerWouldRefuse() throws {
        let daemon = try DaemonProcess()
        let group = try daemon.client.send("POST", "/v1/switches", json: ["name": "g1", "socket_group": "nosuchgroup-vsq"])
        #expect(group.status == 422, "\(group.text)")
        #expect(try group.json()["field"] == "socket_group")
        #expect(try daemon.client.get("/v1/switches/g1").status == 404, "nothing was stored")
        // Not a group name by the spec's pattern (the fuzzer's find: 17 characters, 40 bytes): 400, as the spec says.
        for name in ["\u{ff}!\u{91}\u{1F600}grp", "-wheel", String(repeating: "g", count: 33)] {
            let bad = try daemon.client.send("POST", "/v1/switches", json: ["name": "g2", "socket_group": JSON(name)])
            #expect(bad.status == 400 && (try? bad.json()["field"]) == "socket_group", "\(name): \(bad.text)")
        }
        for mode in ["0", "0060", "0400", "1777", "abc"] {
            let refused = try daemon.client.send("POST", "/v1/switches", json: ["name": "m1", "socket_mode": JSON(mode)])
            #expect(refused.status == 400, "mode \(mode): \(refused.text)")
        }
        for (body, field) in [(["name": "n1", "mac_aging_s": nil] as JSON, "mac_aging_s"), (["name": "n1", "socket_mode": nil], "socket_mode"),
                              (["name": "n1", "hub": nil], "hub")] {
            let refused = try daemon.client.send("POST", "/v1/switches", json: body)
            let problem = try refused.json()
            #expect(refused.status == 400 && problem["field"] == JSON(field), "\(body): \(refused.text)")
        }
        let created = try daemon.client.send("POST", "/v1/switches", json: ["name": "ok1", "socket_group": "0", "socket_mode": "0660"])
        #expect(created.status == 201, "\(created.text)")
        #expect(try daemon.client.send("PATCH", "/v1/switches/ok1", json: ["mac_aging_s": nil]).status == 400)
        #expect(try daemon.client.request("DELETE", "/v1/switches/ok1?force=yes").status == 400)
        #expect(try daemon.client.request("DELETE", "/v1/switches/ok1?force=false&force=true").status == 400)
        #expect(try daemon.client.get("/v1/switches/ok1").status == 200, "refused deletes deleted nothing")
    }

    @Test func macFiltersPastTheLastPortMatchNothing() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "f1", "ports": 8])
        let listed = try daemon.client.get("/v1/switches/f1/macs?port=99")
        #expect(listed.status == 200, "\(listed.text)")
        #expect(try listed.json()["count"] == 0)
        #expect(try daemon.client.request("DELETE", "/v1/switches/f1/macs?port=99").json()["flushed"] == 0)
        #expect(try daemon.client.get("/v1/switches/f1/macs?port=4097").status == 400)
        #expect(try daemon.client.get("/v1/switches/f1/macs?vlan=").status == 400)
    }

    @Test(.enabled(if: geteuid() == 0, "network namespaces need root"))
    func stackInterfacesMustNameWhatExists() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "lan", "ports": 8])
        #expect(try daemon.client.send("POST", "/v1/switches/lan/vlans", json: ["vid": 10]).status == 201)
        let attempts: [(JSON, String)] = [
            ([["name": "eth0", "switch": "lan", "port": 3, "vlan": 10], ["name": "eth1", "switch": "nowhere"]], "interfaces[1].switch"),
            ([["name": "eth0", "switch": "lan", "port": 3, "vlan": 10], ["name": "eth1", "switch": "lan", "port": 9]], "interfaces[1].port"),
            ([["name": "eth0", "switch": "lan", "port": 3, "vlan": 10], ["name": "eth1", "switch": "lan", "port": 4, "vlan": 20]], "interfaces[1].vlan"),
            ([["name": "eth0", "switch": "lan", "vlan": 10]], "interfaces[0].vlan"),
        ]
        for (interfaces, field) in attempts {
            let refused = try daemon.client.send("POST", "/v1/stacks", json: ["name": "h1", "interfaces": interfaces])
            let problem = try refused.json()
            #expect(refused.status == 422 && problem["field"] == JSON(field), "\(refused.text)")
            // The first interface's VLAN was not set on port 3 by a request that was refused.
            #expect(try daemon.json("/v1/switches/lan/ports/3")["untagged_vlan"] == 1)
            #expect(try daemon.client.get("/v1/stacks/h1").status == 404)
        }
    }

    @Test func socketPathsMustFitASocketAddress() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "p1"])
        // The plug's control socket would be RUN/stacks/<63 characters>-<15 characters>.sock: too long to bind.
        let long = String(repeating: "s", count: 63)
        let refused = try daemon.client.send("POST", "/v1/stacks", json: [
            "name": JSON(long), "kind": "slirp", "interfaces": [["name": "abcdefghijklmno", "switch": "p1"]]])
        #expect(refused.status == 422, "\(refused.text)")
        #expect(try refused.json()["code"] == "path_too_long")
        #expect(try daemon.client.get("/v1/stacks/\(long)").status == 404)
        let fits = try daemon.client.send("POST", "/v1/stacks", json: [
            "name": "short", "kind": "slirp", "interfaces": [["name": "abcdefghijklmno", "switch": "p1"]]])
        #expect(fits.status == 201, "\(fits.text)")
        #expect(try daemon.client.request("DELETE", "/v1/stacks/short").status == 204)
    }

    @Test func aWorkerThatCannotStartSaysWhyInItsOwnWords() throws {
        let directory = TempDirectory(prefix: "vsqf")
        let script = directory.path + "/broken-switch"
        try FileSystem.writeFile(script, "#!/bin/sh\necho 'cannot start: the disk is on fire' >&2\nexit 1\n", mode: 0o755)
        let daemon = try DaemonProcess(environment: ["VSQUARE_SWITCH_BIN": script])
        #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": "b1"]).status == 201)
        #expect(eventually(timeoutSeconds: 10) {
            (try? daemon.json("/v1/switches/b1"))?["failure"] == "cannot start: the disk is on fire"
        }, "\((try? daemon.json("/v1/switches/b1")) ?? nil)")
        let waited = try daemon.client.get("/v1/switches/b1/macs")
        #expect(waited.status == 503 && waited.header("Retry-After") == "1", "\(waited.text)")
        _ = try daemon.client.request("DELETE", "/v1/switches/b1")
    }

    @Test func cableAndStackPlugsThatCannotStartSayWhyToo() throws {
        let directory = TempDirectory(prefix: "vsqf")
        let script = directory.path + "/broken-cable"
        try FileSystem.writeFile(script, "#!/bin/sh\necho 'cannot plug: no such wire' >&2\nexit 1\n", mode: 0o755)
        let daemon = try DaemonProcess(environment: ["VSQUARE_CABLE_BIN": script])
        try daemon.createSwitch(["name": "w1"])
        try daemon.createSwitch(["name": "w2"])
        #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": "c1", "a": ["switch": "w1"], "b": ["switch": "w2"]]).status == 201)
        #expect(try daemon.client.send("POST", "/v1/stacks", json: [
            "name": "n1", "kind": "slirp", "interfaces": [["name": "up", "switch": "w1"]]]).status == 201)
        #expect(eventually(timeoutSeconds: 10) { (try? daemon.json("/v1/cables/c1"))?["failure"] == "cannot plug: no such wire" })
        #expect(eventually(timeoutSeconds: 10) {
            (try? daemon.json("/v1/stacks/n1"))?["interfaces"]?[0]?["failure"] == "cannot plug: no such wire"
        }, "\((try? daemon.json("/v1/stacks/n1")) ?? nil)")
        _ = try daemon.client.request("DELETE", "/v1/stacks/n1")
        _ = try daemon.client.request("DELETE", "/v1/switches/w1?force=true")
    }
}
