// VXLAN cables through the HTTP API on one daemon: two switches joined by a pair of VXLAN cables
// over loopback (127.0.0.1 ↔ 127.0.0.2), each end bound to its own address; what a worker would
// refuse later (a held UDP port, a missing interface, an address this host lacks) is a 4xx now and
// leaves nothing behind; the answer names the encapsulation and why.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@Suite(.serialized) struct VXLANCableAPITests {
    /// A UDP port below the ephemeral range that nothing holds right now.
    func freeUDPPort() -> Int {
        while true {
            let port = Int.random(in: 20000...32000)
            if let probe = try? UDPSocket(bind: .ipv4(host: "0.0.0.0", port: UInt16(port))) { probe.close(); return port }
        }
    }

    @Test func aVXLANPairOverLoopbackCarriesFramesAndSaysWhatItIs() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "s1"])
        try daemon.createSwitch(["name": "s2"])
        let port = freeUDPPort()
        for (name, sw, local, remote) in [("vx1", "s1", "127.0.0.1", "127.0.0.2"), ("vx2", "s2", "127.0.0.2", "127.0.0.1")] {
            let created = try daemon.client.send("POST", "/v1/cables", json: [
                "name": JSON(name), "a": ["switch": JSON(sw)],
                "b": ["vxlan": ["remote": JSON(remote), "local": JSON(local), "vni": 5000, "port": JSON(port)]]])
            #expect(created.status == 201, "\(created.text)")
        }
        #expect(eventually { (try? daemon.json("/v1/cables/vx1")["state"]) == "up" && (try? daemon.json("/v1/cables/vx2")["state"]) == "up" })
        let left = try VDEClient(directory: try daemon.switchDirectory("s1"))
        let right = try VDEClient(directory: try daemon.switchDirectory("s2"))
        for size in [60, 1514, 9014] {
            try left.send(EthernetFrame.make(dst: broadcast, src: macA, size: size))
            let across = try right.receive() == EthernetFrame.make(dst: broadcast, src: macA, size: size)
            #expect(across, "\(size) bytes s1 → s2")
            try right.send(EthernetFrame.make(dst: macA, src: macB, size: size))
            let back = try left.receive() == EthernetFrame.make(dst: macA, src: macB, size: size)
            #expect(back, "\(size) bytes s2 → s1")
        }
        let cable = try daemon.json("/v1/cables/vx1")
        #expect(cable["b"]?["vxlan"] == ["vni": 5000, "port": JSON(port), "remote": "127.0.0.2", "local": "127.0.0.1"])
        #expect(cable["encapsulation"]?["kind"] == "vxlan", "\(cable["encapsulation"] ?? nil)")
        #expect(cable["encapsulation"]?["reason"]?.stringValue?.contains("VNI 5000") == true)
        let end = cable["ends"]?[1]
        #expect(end?["kind"] == "vxlan" && end?["frames_out"]?.intValue == 3 && end?["frames_in"]?.intValue == 3, "\(end ?? nil)")
    }

    @Test func whatAWorkerWouldRefuseIsRefusedBeforeCreation() throws {
        let daemon = try DaemonProcess()
        try daemon.createSwitch(["name": "s1"])
        let port = freeUDPPort()
        let held = try UDPSocket(bind: .ipv4(host: "127.0.0.1", port: UInt16(freeUDPPort())))
        defer { held.close() }
        let heldPort = Int(try held.socket.localAddress().port!)
        let first = try daemon.client.send("POST", "/v1/cables", json: [
            "name": "vx1", "a": ["switch": "s1"], "b": ["vxlan": ["remote": "127.0.0.2", "local": "127.0.0.1", "vni": 1, "port": JSON(port)]]])
        #expect(first.status == 201, "\(first.text)")
        let cases: [(JSON, Int, String)] = [
            (["remote": "127.0.0.2"], 400, "invalid_field"),
            (["remote": "127.0.0.2", "vni": 16_777_216], 400, "invalid_field"),
            (["remote": "peer.example", "vni": 1], 400, "invalid_field"),
            (["group": "10.1.1.1", "vni": 1, "interface": "lo"], 422, "unprocessable"),
            (["remote": "127.0.0.2", "group": "239.1.1.1", "vni": 1], 422, "unprocessable"),
            (["group": "239.1.1.1", "vni": 1], 422, "unprocessable"),
            (["group": "239.1.1.1", "vni": 1, "interface": "nosuchif0"], 422, "unprocessable"),
            (["remote": "127.0.0.2", "local": "::1", "vni": 1], 422, "unprocessable"),
            (["remote": "127.0.0.2", "vni": 1, "ttl": 2], 422, "unprocessable"),
            (["remote": "10.1.1.1", "local": "192.0.2.77", "vni": 1, "port": JSON(freeUDPPort())], 422, "unprocessable"),
            (["remote": "127.0.0.3", "vni": 2, "port": JSON(port)], 409, "port_in_use"),
            (["remote": "127.0.0.3", "local": "127.0.0.1", "vni": 2, "port": JSON(heldPort)], 409, "port_in_use"),
        ]
        for (vxlan, status, code) in cases {
            let refused = try daemon.client.send("POST", "/v1/cables", json: ["name": "vx2", "a": ["switch": "s1"], "b": ["vxlan": vxlan]])
            #expect(refused.status == status && (try? refused.json()["code"]) == JSON(code), "\(vxlan): \(refused.status) \(refused.text)")
        }
        let mixed = try daemon.client.send("POST", "/v1/cables", json: [
            "name": "vx2", "a": ["switch": "s1"], "b": ["switch": "s1", "vxlan": ["remote": "127.0.0.2", "vni": 1]]])
        #expect(mixed.status == 422, "\(mixed.text)")
        // Nothing of the refused requests was kept.
        let names = try daemon.json("/v1/cables")["cables"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["vx1"])
    }
}
